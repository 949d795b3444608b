# vkb-bridge — see README.md. `make demo` and `make test` do all set-up on a fresh
# Debian 12 / Ubuntu machine with the Swift toolchain.

SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_PACKAGES := pkg-config libevdev-dev libudev-dev libsystemd-dev
TEST_APT_PACKAGES := $(APT_PACKAGES) umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi evemu-tools udev systemd man-db

.PHONY: all build release demo test test-kernel deps test-deps bench bench-deps clean \
	install install-build install-files uninstall man completions

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
INSTALL ?= install

# What gets installed comes from here: the SwiftPM build of CONFIGURATION, plus the man
# pages and completion scripts generated from those binaries. NO_BUILD=1 installs what is
# already there (e.g. `make install-build` as yourself, then `sudo make install NO_BUILD=1`).
CONFIGURATION ?= release
PROGRAMS := vkb-bridge vkb-telemetry-sink
BUILT := .build/$(CONFIGURATION)
GENERATED ?= .build/generated/$(CONFIGURATION)
CONFIG_EXAMPLE := examples/config.toml
CONFIG_FILE := $(DESTDIR)$(SYSCONFDIR)/vkb-bridge/config.toml

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
	for p in $(PROGRAMS); do cp .build/plugins/GenerateManual/outputs/$$p/$$p.1 $(GENERATED)/man/; done

completions:
	mkdir -p $(GENERATED)/completions
	for p in $(PROGRAMS); do for sh in bash zsh fish; do \
	  $(BUILT)/$$p --generate-completion-script $$sh > $(GENERATED)/completions/$$p.$$sh || exit 1; \
	done; done

install-build: deps
	$(SWIFT) build -c $(CONFIGURATION)
	$(MAKE) man completions CONFIGURATION=$(CONFIGURATION)

install: $(if $(NO_BUILD),,install-build)
	$(MAKE) install-files

# Units name /usr/bin/vkb-bridge and /etc/vkb-bridge; they are rewritten for BINDIR and
# SYSCONFDIR. An existing config.toml is never replaced; the example also goes to DOCDIR.
install-files:
	@for f in $(foreach p,$(PROGRAMS),$(BUILT)/$(p) $(GENERATED)/man/$(p).1 $(GENERATED)/completions/$(p).bash); do \
	  [ -e "$$f" ] || { echo "missing $$f: run 'make install-build CONFIGURATION=$(CONFIGURATION)'" >&2; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(SYSTEMDUNITDIR) \
	  $(DESTDIR)$(SYSTEMDUSERUNITDIR) $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(BASHCOMPLETIONDIR) \
	  $(DESTDIR)$(ZSHCOMPLETIONDIR) $(DESTDIR)$(FISHCOMPLETIONDIR) $(DESTDIR)$(DOCDIR) \
	  $(DESTDIR)$(SYSCONFDIR)/vkb-bridge
	for p in $(PROGRAMS); do \
	  $(INSTALL) -m 755 $(BUILT)/$$p $(DESTDIR)$(BINDIR)/$$p && \
	  $(INSTALL) -m 644 $(GENERATED)/man/$$p.1 $(DESTDIR)$(MANDIR)/man1/$$p.1 && \
	  $(INSTALL) -m 644 $(GENERATED)/completions/$$p.bash $(DESTDIR)$(BASHCOMPLETIONDIR)/$$p && \
	  $(INSTALL) -m 644 $(GENERATED)/completions/$$p.zsh $(DESTDIR)$(ZSHCOMPLETIONDIR)/_$$p && \
	  $(INSTALL) -m 644 $(GENERATED)/completions/$$p.fish $(DESTDIR)$(FISHCOMPLETIONDIR)/$$p.fish || exit 1; \
	done
	sed -e 's|/usr/bin/vkb-bridge|$(BINDIR)/vkb-bridge|g' -e 's|/etc/vkb-bridge/|$(SYSCONFDIR)/vkb-bridge/|g' \
	  systemd/vkb-bridge.service > $(DESTDIR)$(SYSTEMDUNITDIR)/vkb-bridge.service
	sed -e 's|/usr/bin/vkb-bridge|$(BINDIR)/vkb-bridge|g' \
	  systemd/user/vkb-bridge.service > $(DESTDIR)$(SYSTEMDUSERUNITDIR)/vkb-bridge.service
	chmod 644 $(DESTDIR)$(SYSTEMDUNITDIR)/vkb-bridge.service $(DESTDIR)$(SYSTEMDUSERUNITDIR)/vkb-bridge.service
	$(INSTALL) -m 644 udev-rules/70-vkb-bridge.rules $(DESTDIR)$(UDEVRULESDIR)/70-vkb-bridge.rules
	$(INSTALL) -m 644 $(CONFIG_EXAMPLE) $(DESTDIR)$(DOCDIR)/config.toml.example
	@if [ -e $(CONFIG_FILE) ]; then echo "keeping existing $(CONFIG_FILE)"; \
	else echo "$(INSTALL) -m 644 $(CONFIG_EXAMPLE) $(CONFIG_FILE)"; $(INSTALL) -m 644 $(CONFIG_EXAMPLE) $(CONFIG_FILE); fi
	@echo "installed. On a live system: systemctl daemon-reload; udevadm control --reload (docs/install.md)"

# Leaves config.toml alone if it differs from the example (it holds your settings).
uninstall:
	for p in $(PROGRAMS); do rm -f $(DESTDIR)$(BINDIR)/$$p $(DESTDIR)$(MANDIR)/man1/$$p.1 \
	  $(DESTDIR)$(BASHCOMPLETIONDIR)/$$p $(DESTDIR)$(ZSHCOMPLETIONDIR)/_$$p $(DESTDIR)$(FISHCOMPLETIONDIR)/$$p.fish; done
	rm -f $(DESTDIR)$(SYSTEMDUNITDIR)/vkb-bridge.service $(DESTDIR)$(SYSTEMDUSERUNITDIR)/vkb-bridge.service \
	  $(DESTDIR)$(UDEVRULESDIR)/70-vkb-bridge.rules
	@if [ -e $(CONFIG_FILE) ] && cmp -s $(CONFIG_EXAMPLE) $(CONFIG_FILE); then rm -f $(CONFIG_FILE); \
	elif [ -e $(CONFIG_FILE) ]; then echo "keeping edited $(CONFIG_FILE)"; fi
	rm -f $(DESTDIR)$(DOCDIR)/config.toml.example
	rmdir $(DESTDIR)$(DOCDIR) $(DESTDIR)$(SYSCONFDIR)/vkb-bridge 2>/dev/null || true

# Kernel in the loop (docs/testing.md): the release build under Debian's kernel in QEMU.
# run.sh builds (KERNEL_TEST_BUILD) only once it knows QEMU and the downloads are there.
test-kernel: deps
	KERNEL_TEST_BUILD="$(SWIFT) build -c release" tests/kernel/run.sh

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
