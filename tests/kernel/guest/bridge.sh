# Part 2 of the guest scenario: the release vkb-bridge against uhid sticks, its packets
# caught by vkb-telemetry-sink on loopback. Sourced by scenario.sh when /usr/bin/vkb-bridge
# exists; stick "a" (a Gladiator) exists and no other.
#
# PHASE 2 STUBS: each check marked "STUB" below is skipped until the daemon's commands
# exist. The plan for each is written next to it; fill them in, then delete the skip.
# Assumed interfaces (adjust here if the daemon differs; run.sh needs no change):
#   vkb-telemetry-sink --port PORT           loopback only; prints a line once listening, then
#                                            one line per packet containing shift=0xSS subshift=0xSS
#   vkb-bridge run --config FILE             config names server 127.0.0.1:PORT and bindings
#   vkb-bridge devices                       lists sticks with their VKB button numbers (1..80)
#   vkb-bridge check-config FILE             non-zero exit + message for a binding on button 81

section "vkb-bridge (release build) in the guest"
if vkb-bridge --help >/tmp/help.out 2>&1; then
    pass "vkb-bridge --help runs (binary and its libraries work in the guest)"
else
    fail "vkb-bridge --help: $(head -n 5 /tmp/help.out)"
fi
if [ -x /usr/bin/vkb-telemetry-sink ]; then
    pass "vkb-telemetry-sink present"
else
    fail "vkb-telemetry-sink missing from the initramfs"
fi

# bridge_cpu_ms PID: user+system CPU time of a process so far, in ms (USER_HZ = 100).
bridge_cpu_ms() {
    awk '{ print ($14 + $15) * 10 }' "/proc/$1/stat"
}

stub() { skip "STUB $*"; }

# STUB started before the stick: destroy "a", start sink + bridge (bindings 1→Shift1,
# 16→Shift2, 17→Sub1, 56→Sub2, 57→Sub3, 80→Sub7), wait for the bridge's ready line,
# create "a" again; press/release each bound button; the sink must show the bitmaps
# 01/00, 02/00, 00/01, 00/02, 00/04, 00/40 (shift/subshift) in order, each followed by 00/00.
stub "bridge started before the stick picks it up on plug"
stub "bindings on buttons 1, 16, 17, 56, 57, 80 → expected bitmaps at the sink"

# STUB devices: `vkb-bridge devices` lists stick "a" (name, phys, 231d:0200) with 80
# buttons numbered 1..80 as VKBDevCfg shows them (button 80 present: code 0x2ff).
stub "vkb-bridge devices shows 80 buttons with VKB numbers"

# STUB check-config: a config binding button 81 is refused (non-zero exit) and the message
# says the kernel drops buttons above 80 (names 81, and the kernel/KEY_MAX limit).
stub "check-config refuses a binding on button 81, explaining the kernel limit"

# STUB held at start: stop the bridge, press 1 (hold), start it: the first packet the
# sink gets after the bridge's connect has Shift1 set; release → 00/00.
stub "a button held when vkb-bridge starts counts"

# STUB unplug: hold 16 (Shift2 at the sink), `stick destroy a`: the sink must get 00/00.
stub "unplug (UHID_DESTROY) sends the released state"

# STUB replug: create "a" again (same phys), press 17 → 00/01 at the sink, release → 00/00.
stub "replug re-attaches with the right state"

# STUB twins: sticks b and c (same descriptor and name, phys …-2 and …-3), config binds
# button 1 on phys …-3 only: pressing 1 on b changes nothing, on c gives Shift1.
stub "two identical sticks told apart by phys"

# STUB udev rules: with udev-rules/70-vkb-bridge.rules in /etc/udev/rules.d, the stick's
# node has the tags we promise in TAGS/CURRENT_TAGS (udevadm info): uaccess, systemd.
if ls /etc/udev/rules.d/*.rules >/dev/null 2>&1; then
    stub "our udev rules give the node the uaccess and systemd tags"
else
    skip "udev rules: udev-rules/*.rules not in this tree yet"
fi

# STUB flood: FLOOD: `stick flood a 10 1000 toggle=1,16 every=100` while the bridge runs;
# the sink must show 00/00→01/00→00/00→02/00→… every change, in order (200 changes); print
# bridge_cpu_ms before/after as "vkb-bridge CPU over the flood: N ms of 10000 ms".
stub "1 kHz axis flood for 10 s: every button change delivered in order; CPU time printed"
