#!/usr/bin/env bash
# `make test-sanitizers` (docs/testing.md): builds the package and its tests with a
# sanitizer into .build/SANITIZER and runs the whole suite there. The integration tests
# start the programs from that build, so vkb-bridge and the sink (run as nobody) are
# checked too, not only the test process.
#
#   scripts/sanitize.sh thread|address
#
# Every process writes its reports to .build/sanitizer-reports/SANITIZER/report.PID;
# the run fails if the suite fails or if any report exists, and prints them.
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizer=${1:?usage: scripts/sanitize.sh thread|address}
case "$sanitizer" in thread|address) ;; *) echo "sanitize: unknown sanitizer '$sanitizer'" >&2; exit 2 ;; esac

build=.build/$sanitizer
reports=$PWD/.build/sanitizer-reports/$sanitizer
rm -rf "$reports"
mkdir -p "$reports"
# The programs under test run as nobody and write their reports here too.
chmod 1777 "$reports"

swift build --build-tests --sanitize="$sanitizer" --build-path "$build"

common="log_path=$reports/report:halt_on_error=0"
# TSan sleeps a second at exit by default (atexit_sleep_ms) for other threads: the
# tests time shutdowns. ASan's link-order check would refuse umockdev's LD_PRELOAD.
export TSAN_OPTIONS="$common:atexit_sleep_ms=0:second_deadlock_stack=1"
export ASAN_OPTIONS="$common:detect_leaks=1:verify_asan_link_order=0:abort_on_error=0"
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
# Tests whose bound is the programs' memory or speed read this (Support/Sanitizer.swift).
export VKB_SANITIZER=$sanitizer

status=0
swift test --skip-build --sanitize="$sanitizer" --build-path "$build" || status=$?

found=$(find "$reports" -type f | sort)
if [ -n "$found" ]; then
    echo "sanitize: $sanitizer: $(echo "$found" | wc -l) process(es) reported:" >&2
    for f in $found; do echo "== $f" >&2; cat "$f" >&2; done
    exit 1
fi
[ "$status" = 0 ] || { echo "sanitize: $sanitizer: the suite failed" >&2; exit "$status"; }
echo "sanitize: $sanitizer: the suite passed with no reports"
