# vkb-bridge — see README.md. `make demo` and `make test` do all set-up on a fresh
# Debian 12 / Ubuntu machine with the Swift toolchain.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := pkg-config libevdev-dev libudev-dev libsystemd-dev
TEST_APT_PACKAGES := $(APT_PACKAGES) umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi evemu-tools udev systemd

# `make bench`: release binaries, then every figure of docs/performance.md for vkb-bridge
# and its baselines (a C relay and a Python relay), on the same input path; exits non-zero
# if a target fails. Takes about 5 minutes. Writes the figures into docs/performance.md
# and the latency chart into docs/performance-latency.png.
BENCH_APT_PACKAGES := $(APT_PACKAGES) gcc python3 python3-matplotlib
BENCH_PYTHON ?= /usr/bin/python3
BENCH_DIR := .build/bench
BENCH_ARGS ?=

.PHONY: all build release demo test deps test-deps bench bench-deps clean

all: build

# Installs the C libraries' headers when one is missing (apt, with sudo unless root).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

test-deps:
	@missing=""; for p in $(TEST_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

demo: deps
	$(SWIFT) build --product vkb-telemetry-sink
	$(SWIFT) run vkb-bridge demo

test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --parallel

bench-deps:
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

bench: bench-deps
	$(SWIFT) build -c release
	mkdir -p $(BENCH_DIR)
	$(CC) -O2 -Wall -Wextra -Werror -o $(BENCH_DIR)/benchtool Benchmarks/benchtool.c
	$(CC) -O2 -Wall -Wextra -Werror -o $(BENCH_DIR)/relay Benchmarks/relay.c
	$(BENCH_PYTHON) Benchmarks/bench.py --tool $(BENCH_DIR)/benchtool --relay-c $(BENCH_DIR)/relay \
	  --python $(BENCH_PYTHON) --chart docs/performance-latency.png --update-docs docs/performance.md $(BENCH_ARGS)

clean:
	rm -rf .build
