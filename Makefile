# vkb-bridge — see README.md. `make demo` and `make test` do all set-up on a fresh
# Debian 12 / Ubuntu machine with the Swift toolchain.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := pkg-config libevdev-dev libudev-dev libsystemd-dev
TEST_APT_PACKAGES := $(APT_PACKAGES) umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi evemu-tools udev systemd man-db

.PHONY: all build release demo test test-kernel test-system test-sanitizers fuzz deps test-deps bench bench-deps clean \
	install install-build install-files uninstall man completions dist deb package-deps release-artifacts

# `make bench`: release binaries, then every figure of docs/performance.md for vkb-bridge
# and its baselines (a C relay and a Python relay), on the same input path; exits non-zero
# if a target fails. Takes about 5 minutes. Writes the figures into docs/performance.md
# and the latency chart into docs/performance-latency.png.
BENCH_APT_PACKAGES := $(APT_PACKAGES) gcc python3 python3-matplotlib
BENCH_PYTHON ?= /usr/bin/python3
BENCH_DIR := .build/bench
BENCH_ARGS ?=

# --- install locations (GNU conventions; `make install PREFIX=/usr DESTDIR=/tmp/pkg`) ---
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
DOCDIR ?= $(PREFIX)/share/doc/vkb-bridge
# systemd and udev also read these below /usr/local (systemd.unit(5), udev(7)).
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
SYSTEMDUSERUNITDIR ?= $(PREFIX)/lib/systemd/user
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
BASHCOMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPLETIONDIR ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPLETIONDIR ?= $(PREFIX)/share/fish/vendor_completions.d

# What gets installed comes from here: the SwiftPM build of CONFIGURATION, plus the man
# pages and completion scripts generated from those binaries. NO_BUILD=1 installs what is
# already there (e.g. `make install-build` as yourself, then `sudo make install NO_BUILD=1`).
CONFIGURATION ?= release
PROGRAMS := vkb-bridge vkb-telemetry-sink
BUILT := .build/$(CONFIGURATION)
GENERATED ?= .build/generated/$(CONFIGURATION)
CONFIG_EXAMPLE := examples/config.toml
CONFIG_FILE := $(DESTDIR)$(SYSCONFDIR)/vkb-bridge/config.toml

# The release build as shipped: the Swift runtime linked in (DESIGN §9), so the programs
# run without the toolchain. Every release-configuration target uses it.
RELEASE_BUILD := $(SWIFT) build -c release --static-swift-stdlib
VERSION := $(shell sed -n 's/.*static let string = "\(.*\)"/\1/p' Sources/VKBWire/VKBBridgeVersion.swift)
PACKAGE_APT_PACKAGES := $(APT_PACKAGES) dpkg-dev lintian binutils

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
	$(RELEASE_BUILD)

demo: deps
	$(SWIFT) build --product vkb-telemetry-sink
	$(SWIFT) run vkb-bridge demo

# The man pages are generated before `swift test`: the install test uses them, and a
# SwiftPM plugin cannot run while `swift test` holds the build directory's lock.
test: test-deps
	$(SWIFT) build --build-tests
	$(MAKE) man CONFIGURATION=debug
	$(SWIFT) test --skip-build

# --- man pages, completions, install ----------------------------------------------------

# swift-argument-parser's generate-manual plugin builds CONFIGURATION and writes one page
# per ArgumentParser executable into its work directory.
man:
	$(SWIFT) package plugin generate-manual --configuration $(CONFIGURATION)
	mkdir -p $(GENERATED)/man
	# A blank line in mdoc is an error to groff (discussion paragraphs): make it a paragraph break.
	for p in $(PROGRAMS); do sed 's/^$$/.Pp/' .build/plugins/GenerateManual/outputs/$$p/$$p.1 > $(GENERATED)/man/$$p.1; done

completions:
	mkdir -p $(GENERATED)/completions
	for p in $(PROGRAMS); do for sh in bash zsh fish; do \
	  $(BUILT)/$$p --generate-completion-script $$sh > $(GENERATED)/completions/$$p.$$sh || exit 1; \
	done; done

# The man plugin builds CONFIGURATION by itself (without --static-swift-stdlib): it runs
# first, so the programs installed are the ones the build after it links.
install-build: deps
	$(MAKE) man CONFIGURATION=$(CONFIGURATION)
	$(if $(filter release,$(CONFIGURATION)),$(RELEASE_BUILD),$(SWIFT) build -c $(CONFIGURATION))
	$(MAKE) completions CONFIGURATION=$(CONFIGURATION)

install: $(if $(NO_BUILD),,install-build)
	$(MAKE) install-files

# scripts/install.sh does the copying (the release tarball ships the same script); the
# directory variables above are passed through. An existing config.toml is never replaced.
INSTALL_ENV = DESTDIR="$(DESTDIR)" PREFIX="$(PREFIX)" SYSCONFDIR="$(SYSCONFDIR)" BINDIR="$(BINDIR)" \
	MANDIR="$(MANDIR)" DOCDIR="$(DOCDIR)" SYSTEMDUNITDIR="$(SYSTEMDUNITDIR)" \
	SYSTEMDUSERUNITDIR="$(SYSTEMDUSERUNITDIR)" UDEVRULESDIR="$(UDEVRULESDIR)" \
	BASHCOMPLETIONDIR="$(BASHCOMPLETIONDIR)" ZSHCOMPLETIONDIR="$(ZSHCOMPLETIONDIR)" \
	FISHCOMPLETIONDIR="$(FISHCOMPLETIONDIR)" \
	SRC_BIN=$(BUILT) SRC_MAN=$(GENERATED)/man SRC_COMPLETIONS=$(GENERATED)/completions \
	SRC_SYSTEMD=systemd SRC_UDEV=udev-rules SRC_CONFIG=$(CONFIG_EXAMPLE)

install-files:
	@$(INSTALL_ENV) sh scripts/install.sh || { echo "run 'make install-build CONFIGURATION=$(CONFIGURATION)' first" >&2; exit 1; }

# Leaves config.toml alone if it differs from the example (it holds your settings).
uninstall:
	@$(INSTALL_ENV) sh scripts/install.sh --uninstall

# The unit and integration suites again under ThreadSanitizer and AddressSanitizer (with
# LeakSanitizer), programs included; fails on any report (docs/testing.md).
SANITIZERS ?= thread address
test-sanitizers: test-deps
	$(MAKE) man CONFIGURATION=debug
	for s in $(SANITIZERS); do scripts/sanitize.sh $$s || exit 1; done

# Kernel in the loop (docs/testing.md): the release build under Debian's kernel in QEMU.
# run.sh builds (KERNEL_TEST_BUILD) only once it knows QEMU and the downloads are there.
test-kernel: deps
	KERNEL_TEST_BUILD="$(RELEASE_BUILD)" tests/kernel/run.sh

# libFuzzer targets (Fuzz/, docs/testing.md) with AddressSanitizer, FUZZ_SECONDS each;
# FUZZ_RUNS=N FUZZ_SEED=S instead runs N fixed inputs per target (what CI does).
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_RUNS="$(FUZZ_RUNS)" FUZZ_SEED="$(FUZZ_SEED)" scripts/fuzz.sh $(FUZZ_SECONDS)

# --- release artifacts (docs/install.md) -------------------------------------------------

package-deps:
	@missing=""; for p in $(PACKAGE_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

# Man pages from the debug build (the same text; `make test` has built it): the plugin
# would build the release configuration without --static-swift-stdlib and relink it.
release-artifacts: package-deps
	$(MAKE) man CONFIGURATION=debug
	$(RELEASE_BUILD)
	$(MAKE) completions CONFIGURATION=release

# vkb-bridge-VERSION-linux-x86_64.tar.gz in .build/dist: programs (stripped), man pages,
# completions, units, udev rule, example config, README, LICENSE, INSTALL and install.sh.
dist: release-artifacts
	VERSION=$(VERSION) scripts/package.sh dist

# vkb-bridge_VERSION_amd64.deb in .build/dist, checked with lintian.
deb: release-artifacts
	VERSION=$(VERSION) scripts/package.sh deb

# systemd in the loop (docs/testing.md): the .deb installed in a booted Debian 12 guest.
test-system: dist deb
	tests/system/run.sh

bench-deps:
	@missing=""; for p in $(BENCH_APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

bench: bench-deps
	$(RELEASE_BUILD)
	mkdir -p $(BENCH_DIR)
	$(CC) -O2 -Wall -Wextra -Werror -o $(BENCH_DIR)/benchtool Benchmarks/benchtool.c
	$(CC) -O2 -Wall -Wextra -Werror -o $(BENCH_DIR)/relay Benchmarks/relay.c
	$(BENCH_PYTHON) Benchmarks/bench.py --tool $(BENCH_DIR)/benchtool --relay-c $(BENCH_DIR)/relay \
	  --python $(BENCH_PYTHON) --chart docs/performance-latency.png --update-docs docs/performance.md $(BENCH_ARGS)

clean:
	rm -rf .build
