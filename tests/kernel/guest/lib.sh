# Helpers for the guest scenarios: the kernel tier's (busybox ash, scenario.sh) and the
# systemd tier's (tests/system/guest/scenario.sh, bash on Debian; TIER=system).

PASSED=0
FAILED=0
SKIPPED=0

pass() { PASSED=$((PASSED + 1)); echo "PASS $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL $*"; }
skip() { SKIPPED=$((SKIPPED + 1)); echo "SKIP $*"; }
note() { echo "     $*"; }
section() { echo; echo "== $* [$(cut -d' ' -f1 /proc/uptime)s]"; }

# The closing line run.sh (and CI) reads.
summary() {
    echo
    echo "${TIER:-kernel}: $PASSED passed, $FAILED failed, $SKIPPED skipped"
    [ "$FAILED" = 0 ]
}

# expect NAME EXPECTED ACTUAL: equal strings, else show both.
expect() {
    if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected '$2', got '$3'"; fi
}

# expect_file NAME EXPECTED_FILE ACTUAL_FILE: equal files, else show the diff.
expect_file() {
    if diff -u "$2" "$3" >/tmp/diff.out 2>&1; then
        pass "$1"
    else
        fail "$1"
        sed 's/^/     /' /tmp/diff.out
    fi
}

# wait_for_file FILE TIMEOUT_MS: poll for FILE to exist, up to the deadline.
wait_for_file() {
    local n=0 max=$(($2 / 10))
    while [ ! -e "$1" ]; do
        n=$((n + 1))
        [ "$n" -gt "$max" ] && return 1
        usleep 10000
    done
    return 0
}

# ---- the stick driver: uhid-stick behind two FIFOs, one command, one answer line ----
STICK_TIMEOUT=20

stick_start() {
    rm -f /tmp/stick.in /tmp/stick.out
    mkfifo /tmp/stick.in /tmp/stick.out
    uhid-stick </tmp/stick.in >/tmp/stick.out 2>/tmp/stick.err &
    STICK_PID=$!
    exec 3>/tmp/stick.in
    exec 4</tmp/stick.out
}

stick_stop() {
    echo quit >&3
    exec 3>&- 4<&-
    wait "$STICK_PID"
}

# stick CMD...: sends one command; ANSWER holds the answer line; status 0 for "ok …".
stick() {
    echo "$*" >&3
    if ! read -r -t "$STICK_TIMEOUT" ANSWER <&4; then
        ANSWER="err timeout: no answer to '$*' within ${STICK_TIMEOUT}s"
        return 1
    fi
    case "$ANSWER" in ok*) return 0 ;; *) return 1 ;; esac
}

# must_stick CMD...: like stick, but a failure is a test failure (named after the command).
must_stick() {
    stick "$@" || { fail "stick $*: $ANSWER"; return 1; }
}

# stick_node ID: sets NODE (/dev/input/eventN) and JS for the stick, after udev settled.
stick_node() {
    NODE=""
    JS=""
    must_stick node "$1" 5000 || return 1
    set -- $ANSWER # ok node ID /dev/input/eventN input=inputM [js=/dev/input/jsK]
    NODE=$4
    case "$6" in js=*) JS=${6#js=} ;; esac
    udevadm settle --timeout=10 2>/dev/null
    return 0
}

# ---- what vkb-telemetry-sink received (its --output JSON lines in $SINK_OUT) ----

# sink_states: every packet's state as SHIFT/SUBSHIFT (decimal), one per line.
sink_states() {
    grep '"event":"packet"' "$SINK_OUT" 2>/dev/null | sed 's/.*"shift":\([0-9]*\),"subshift":\([0-9]*\).*/\1\/\2/'
}

# sink_mark: remember how many packets arrived so far (sink_since reads from there).
sink_mark() { MARK=$(sink_states | wc -l); }

# sink_since: the states after the mark, consecutive repeats folded (a repeat is harmless:
# the packet carries a state, not an event).
sink_since() { sink_states | tail -n +$((MARK + 1)) | uniq | tr '\n' ' ' | sed 's/ $//'; }

# wait_state S/SS [TIMEOUT_MS]: poll until the latest packet's state is S/SS.
wait_state() {
    local n=0 max=$((${2:-10000} / 20))
    while [ "$(sink_states | tail -n 1)" != "$1" ]; do
        n=$((n + 1))
        [ "$n" -gt "$max" ] && return 1
        usleep 20000
    done
}

# ---- evdev-probe watchers in the background ----

# watch_start NAME NODE ARGS...: output in /tmp/NAME.out (events), /tmp/NAME.err (summary).
# Returns once the node is open, so everything sent afterwards is seen.
watch_start() {
    local name=$1 node=$2
    shift 2
    rm -f "/tmp/$name.ready" "/tmp/$name.out" "/tmp/$name.err"
    evdev-probe watch "$node" --ready "/tmp/$name.ready" "$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
    eval "WATCH_PID_$name=$!"
    wait_for_file "/tmp/$name.ready" 5000 || { fail "watcher $name did not open $node"; return 1; }
}

# watch_wait NAME: waits for the watcher to finish; its exit status.
watch_wait() {
    local pid
    eval "pid=\$WATCH_PID_$1"
    wait "$pid"
}

# key_lines BUTTON_N CODE VALUE...: the lines evdev-probe prints for hid-input's events.
key_lines() {
    local n=$1 code=$2
    shift 2
    for v in "$@"; do
        printf 'SCAN 0x%x\nKEY %s %s\n' $((0x90000 + n)) "$code" "$v"
    done
}
