#!/usr/bin/env bash
# `make fuzz` (docs/testing.md): builds the libFuzzer targets of Fuzz/ with AddressSanitizer
# and runs each for SECONDS on its checked-in seed corpus (Fuzz/corpus/TARGET/). New inputs
# go to .build/fuzz/TARGET/ (kept between runs); a crash stops the run with the input's
# path: add it to Fuzz/corpus/TARGET/ and write a test for it.
#
#   scripts/fuzz.sh [SECONDS] [TARGET…]        (default: 60 s, every target)
#
# FUZZ_RUNS=N (with FUZZ_SEED, default 1) runs N inputs per target from a fixed seed and a
# fresh work directory instead: the same inputs every time, as CI wants (a finding there
# must reproduce here).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(FuzzConfig FuzzEvemu FuzzPacketStream FuzzInputStream FuzzHIDDescriptor FuzzReportStream)

# lld: gold fails on these objects. Leaks are not reported: TOMLKit leaks the error of
# every failed parse (a few hundred bytes), which would stop the config fuzzer at once.
(cd Fuzz && swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld 2>&1 \
    | grep -v "Cannot export local symbol") || true
[ -x Fuzz/.build/release/${targets[0]} ] || { echo "fuzz: the build failed" >&2; exit 1; }

failed=0
for t in "${targets[@]}"; do
    work=.build/fuzz/$t
    limits=(-max_total_time="$seconds")
    if [ -n "${FUZZ_RUNS:-}" ]; then
        rm -rf "$work"
        limits=(-runs="$FUZZ_RUNS" -seed="${FUZZ_SEED:-1}")
    fi
    mkdir -p "$work/found" "$work/crashes"
    log=$work/last.log
    if ASAN_OPTIONS=detect_leaks=0 "Fuzz/.build/release/$t" "${limits[@]}" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$work/crashes/" "$work/found" "Fuzz/corpus/$t" >"$log" 2>&1; then
        echo "fuzz: $t: $(grep -E '^Done' "$log" | tail -n 1)"
    else
        failed=$((failed + 1))
        echo "fuzz: $t FAILED:"
        grep -E 'ERROR|Fatal error|Test unit written|SUMMARY' "$log" | head -n 10 | sed 's/^/  /'
        echo "  full log: $log; reproduce: ASAN_OPTIONS=detect_leaks=0 Fuzz/.build/release/$t $work/crashes/<file>"
    fi
done
[ "$failed" = 0 ] && echo "fuzz: ${#targets[@]} passed, 0 failed" || { echo "fuzz: $((${#targets[@]} - failed)) passed, $failed failed"; exit 1; }
