# vkb-bridge — see README.md. `make demo` and `make test` do all set-up on a fresh
# Debian 12 / Ubuntu machine with the Swift toolchain.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := pkg-config libevdev-dev libudev-dev libsystemd-dev
TEST_APT_PACKAGES := $(APT_PACKAGES) umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi evemu-tools udev systemd

.PHONY: all build release demo test test-kernel deps test-deps clean

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

# Kernel in the loop (docs/testing.md): the release build under Debian's kernel in QEMU.
# run.sh builds (KERNEL_TEST_BUILD) only once it knows QEMU and the downloads are there.
test-kernel: deps
	KERNEL_TEST_BUILD="$(SWIFT) build -c release" tests/kernel/run.sh

clean:
	rm -rf .build
