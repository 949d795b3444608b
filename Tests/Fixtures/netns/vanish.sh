#!/usr/bin/env bash
# A server that silently vanishes: run inside a private network namespace
# (`unshare -n`), so taking its loopback down touches nothing else.
#   vanish.sh BIN_DIR CONFIG RECORDING WORKDIR [AS_USER…]
# AS_USER… is put before both programs (the tests pass `setpriv … --`): the namespace
# needs root, the programs must not.
# Starts vkb-telemetry-sink and vkb-bridge, waits for the state to arrive, takes `lo`
# down (packets are no longer delivered; no FIN, no RST: the peer just goes silent),
# waits for the bridge to declare the connection dead, brings `lo` back, and waits for
# the same sink process to receive the state on a new connection. Every wait polls a
# condition with a deadline. Prints `detected-after-ms N`, then the sink's JSON lines
# and the bridge's log, for the test to assert on.
set -u
bin=$1 config=$2 recording=$3 work=$4
shift 4
as_user=("$@")
sink_out=$work/sink.jsonl sink_err=$work/sink.err bridge_err=$work/bridge.err
: > "$sink_out"; : > "$bridge_err"

ip link set lo up || { echo "setup-failed: ip link set lo up"; exit 3; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# wait_for DESCRIPTION TIMEOUT_MS COMMAND...: polls COMMAND every 20 ms.
wait_for() {
    local what=$1 limit=$(( $(now_ms) + $2 )); shift 2
    until "$@"; do
        if [ "$(now_ms)" -ge "$limit" ]; then echo "timeout: $what"; return 1; fi
        sleep 0.02
    done
}
cleanup() { kill "${bridge:-}" "${sink:-}" 2>/dev/null; wait 2>/dev/null; }
trap cleanup EXIT

"${as_user[@]}" "$bin/vkb-telemetry-sink" --listen 127.0.0.1:50995 > "$sink_out" 2> "$sink_err" &
sink=$!
wait_for "the sink's ready line" 10000 grep -q "listening on" "$sink_err" || exit 1

"${as_user[@]}" "$bin/vkb-bridge" run --config "$config" --replay "$recording" --speed 0 2> "$bridge_err" &
bridge=$!
wait_for "the state at the sink" 10000 bash -c "grep -q '\"shift\":1' '$sink_out'" || exit 1

ip link set lo down
down_at=$(now_ms)
wait_for "the bridge to find the connection dead" 30000 grep -q "disconnected: " "$bridge_err" || exit 1
echo "detected-after-ms $(( $(now_ms) - down_at ))"
ip link set lo up
wait_for "a packet on a new connection" 30000 bash -c "grep '\"event\":\"packet\"' '$sink_out' | grep -q '\"conn\":2'" || exit 1

echo "--- sink"
cat "$sink_out"
echo "--- bridge"
cat "$bridge_err"
