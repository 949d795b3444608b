# The guest scenario. Part 1 checks the kernel side with an independent reader
# (evdev-probe): that our simulated sticks look to the real hid-input/evdev/udev exactly as
# DESIGN §4 says real VKB sticks do. Part 2 (bridge.sh) checks vkb-bridge against them.
. /test/lib.sh
[ -f /test/env.sh ] && . /test/env.sh

# DESIGN §4: the kernel name, untrimmed (double spaces, two trailing spaces).
GLADIATOR_NAME='VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  '
GUNFIGHTER_NAME='VKB-Sim (C) Alex Oz 2023  VKBSim Space Gunfighter L  '

# info_field FIELD: the value of FIELD= in /tmp/info.out.
info_field() { sed -n "s/^$1=//p" /tmp/info.out; }

section "uhid and the stick driver"
if [ -c /dev/uhid ]; then pass "/dev/uhid exists"; else fail "/dev/uhid missing"; summary; exit 1; fi
stick_start
must_stick echo hello && pass "uhid-stick answers"

section "a Gladiator EVO R as hid-input sees it"
must_stick create a gladiator phys=usb-0000:00:14.0-1/input0 && stick_node a && pass "stick a: $NODE ${JS:+($JS)}"
A=$NODE
evdev-probe info "$A" >/tmp/info.out 2>&1
sed 's/^/     /' /tmp/info.out | grep -v keycodes=
expect "name is the untrimmed USB name" "\"$GLADIATOR_NAME\"" "$(info_field name)"
expect "id bus:vendor:product:version" "0003:231d:0200:0100" "$(info_field id)"
expect "phys" "usb-0000:00:14.0-1/input0" "$(info_field phys)"
expect "80 key codes (buttons 81..128 have none)" 80 "$(info_field keys)"
expect "first key code BTN_TRIGGER" 0x120 "$(info_field key_first)"
expect "last key code 0x2ff = KEY_MAX" 0x2ff "$(info_field key_last)"
expect "key codes are 0x120-0x12f, 0x2c0-0x2ff" \
    "$( (seq 288 303; seq 704 767) | while read -r c; do printf '0x%x,' "$c"; done | sed 's/,$//')" \
    "$(info_field keycodes)"
# X Y Z Rx Ry Rz, Slider → ABS_THROTTLE (0x06), Dial → ABS_RUDDER (0x07), hat → HAT0X/Y.
expect "axes and hat" \
    "0x00:0..4095,0x01:0..4095,0x02:0..2047,0x03:0..1023,0x04:0..1023,0x05:0..2047,0x06:0..2047,0x07:0..2047,0x10:-1..1,0x11:-1..1" \
    "$(info_field abs)"
expect "nothing pressed" "" "$(info_field pressed)"
[ -n "$JS" ] && pass "joydev node $JS" || fail "no jsN node for stick a"

section "udev (systemd-udevd, default rules and hwdb)"
if [ -x /lib/systemd/systemd-udevd ]; then
    udevadm info --query=property --name="$A" >/tmp/udev.out 2>&1
    sed 's/^/     /' /tmp/udev.out
    grep -qx 'ID_INPUT_JOYSTICK=1' /tmp/udev.out && pass "udev: ID_INPUT_JOYSTICK=1" || fail "udev: no ID_INPUT_JOYSTICK=1 on $A"
    grep -qx 'ID_INPUT=1' /tmp/udev.out && pass "udev: ID_INPUT=1" || fail "udev: no ID_INPUT=1 on $A"
    udevadm info --query=path --name="$A" >/dev/null 2>&1 && pass "udevadm info finds $A" || fail "udevadm info $A"
    # Ours (udev-rules/70-vkb-bridge.rules, in /etc/udev/rules.d when the tree has it): the
    # tags and the SYSTEMD_WANTS only our rules set, the group and mode of the node.
    if [ -f /etc/udev/rules.d/70-vkb-bridge.rules ]; then
        tags=$(sed -n 's/^CURRENT_TAGS=//p' /tmp/udev.out)
        case "$tags" in *:uaccess:*) pass "our rules: tag uaccess" ;; *) fail "our rules: no uaccess in '$tags'" ;; esac
        case "$tags" in *:systemd:*) pass "our rules: tag systemd" ;; *) fail "our rules: no systemd in '$tags'" ;; esac
        grep -qx 'SYSTEMD_WANTS=vkb-bridge.service' /tmp/udev.out && pass "our rules: SYSTEMD_WANTS=vkb-bridge.service" \
            || fail "our rules: no SYSTEMD_WANTS=vkb-bridge.service"
        expect "our rules: node group input, mode 660" "input 660" "$(stat -c '%G %a' "$A")"
    else
        skip "our udev rules: udev-rules/70-vkb-bridge.rules not in this tree"
    fi
else
    fail "no systemd-udevd in the guest"
fi

section "DESIGN §4 button table, MSC_SCAN, and button 81"
# Press and release each button; then 81 (must give nothing), then 80 again as the
# sentinel: the reader gets events in order, so 81's silence is proven without a timeout.
watch_start table "$A" --keys 14 --timeout 10000
for n in 1 16 17 56 57 80; do
    must_stick press a $n
    must_stick release a $n
done
must_stick press a 81
must_stick release a 81
must_stick press a 80
must_stick release a 80
watch_wait table || fail "button watcher: $(cat /tmp/table.err)"
{
    key_lines 1 0x120 1 0
    key_lines 16 0x12f 1 0
    key_lines 17 0x2c0 1 0
    key_lines 56 0x2e7 1 0
    key_lines 57 0x2e8 1 0
    key_lines 80 0x2ff 1 0
    key_lines 80 0x2ff 1 0
} >/tmp/table.expected
expect_file "buttons 1,16,17,56,57,80 → 0x120,0x12f,0x2c0,0x2e7,0x2e8,0x2ff with MSC_SCAN 0x90000+n; 81 → nothing" \
    /tmp/table.expected /tmp/table.out

section "state held before a reader opens the node"
must_stick press a 5 80
evdev-probe info "$A" >/tmp/info.out 2>&1
expect "EVIOCGKEY shows buttons 5 and 80 held" "0x124,0x2ff" "$(info_field pressed)"
must_stick release a 5 80

section "unplug (UHID_DESTROY) with a button held"
must_stick press a 2
watch_start unplug "$A" --timeout 10000
must_stick destroy a
watch_wait unplug || fail "unplug watcher: $(cat /tmp/unplug.err)"
# At disconnect the kernel queues a release for held keys, but evdev_read() answers ENODEV
# before handing out queued events once the device is gone: a reader sees the release only
# if it was quick. So a reader (vkb-bridge) must itself treat removal as "all released".
case "$(cat /tmp/unplug.out | tr '\n' ' ')" in
"KEY 0x121 0 GONE ") pass "unplug: the queued release, then ENODEV" ;;
"GONE ") pass "unplug: ENODEV (the queued release was dropped: the reader came late)" ;;
*) fail "unplug: expected [KEY 0x121 0] GONE, got: $(cat /tmp/unplug.out | tr '\n' ' ')" ;;
esac
[ -e "$A" ] && udevadm settle --timeout=10
[ ! -e "$A" ] && pass "$A removed" || fail "$A still exists after destroy"

section "replug"
must_stick create a gladiator phys=usb-0000:00:14.0-1/input0 && stick_node a && pass "stick a again: $NODE"
A=$NODE
evdev-probe info "$A" >/tmp/info.out 2>&1
expect "replugged stick: same name" "\"$GLADIATOR_NAME\"" "$(info_field name)"
expect "replugged stick: nothing pressed" "" "$(info_field pressed)"
watch_start replug "$A" --keys 2 --timeout 10000
must_stick press a 3
must_stick release a 3
watch_wait replug
printf 'SCAN 0x90003\nKEY 0x122 1\nSCAN 0x90003\nKEY 0x122 0\n' >/tmp/replug.expected
expect_file "replugged stick delivers button 3" /tmp/replug.expected /tmp/replug.out

section "two identical sticks, told apart by phys"
must_stick create b gladiator phys=usb-0000:00:14.0-2/input0 && stick_node b && B=$NODE
must_stick create c gladiator phys=usb-0000:00:14.0-3/input0 && stick_node c && C=$NODE
evdev-probe info "$B" >/tmp/info.out; NB=$(info_field name); PB=$(info_field phys); IB=$(info_field id)
evdev-probe info "$C" >/tmp/info.out; NC=$(info_field name); PC=$(info_field phys); IC=$(info_field id)
[ "$B" != "$C" ] && [ "$NB" = "$NC" ] && [ "$IB" = "$IC" ] && [ "$PB" != "$PC" ] \
    && pass "b=$B c=$C: same name and id, phys $PB vs $PC" \
    || fail "sticks b/c: nodes $B/$C names '$NB'/'$NC' ids $IB/$IC phys $PB/$PC"
watch_start twin_b "$B" --keys 2 --timeout 10000
watch_start twin_c "$C" --keys 2 --timeout 10000
must_stick press c 7
must_stick release c 7
must_stick press b 8
must_stick release b 8
watch_wait twin_b
watch_wait twin_c
printf 'SCAN 0x90008\nKEY 0x127 1\nSCAN 0x90008\nKEY 0x127 0\n' >/tmp/twin_b.expected
printf 'SCAN 0x90007\nKEY 0x126 1\nSCAN 0x90007\nKEY 0x126 0\n' >/tmp/twin_c.expected
expect_file "stick b sees only its own button 8" /tmp/twin_b.expected /tmp/twin_b.out
expect_file "stick c sees only its own button 7" /tmp/twin_c.expected /tmp/twin_c.out
must_stick destroy b
must_stick destroy c

section "second model: Space Gunfighter L (231d:0127, 6 axes)"
must_stick create g gunfighter phys=usb-0000:00:14.0-4/input0 && stick_node g && G=$NODE
evdev-probe info "$G" >/tmp/info.out 2>&1
expect "gunfighter name" "\"$GUNFIGHTER_NAME\"" "$(info_field name)"
expect "gunfighter id" "0003:231d:0127:0100" "$(info_field id)"
expect "gunfighter: 80 key codes up to 0x2ff" "80 0x2ff" "$(info_field keys) $(info_field key_last)"
expect "gunfighter axes and hat" \
    "0x00:0..4095,0x01:0..4095,0x02:0..2047,0x03:0..4095,0x04:0..4095,0x06:0..2047,0x10:-1..1,0x11:-1..1" \
    "$(info_field abs)"
must_stick destroy g

section "axis flood (${FLOOD_SECONDS:=2} s at 1 kHz) with button changes, read raw"
# Every 100th report flips the next of: press 1, release 1, press 16, release 16.
toggles=$((FLOOD_SECONDS * 1000 / 100))
watch_start flood "$A" --keys "$toggles" --timeout $((FLOOD_SECONDS * 1000 + 20000))
STICK_TIMEOUT=$((FLOOD_SECONDS + 30)) must_stick flood a "$FLOOD_SECONDS" 1000 toggle=1,16 every=100 && note "$ANSWER"
watch_wait flood || fail "flood watcher: $(cat /tmp/flood.err)"
note "$(cat /tmp/flood.err)"
i=0
while [ $i -lt "$toggles" ]; do
    case $((i % 4)) in 0) echo 'KEY 0x120 1' ;; 1) echo 'KEY 0x120 0' ;; 2) echo 'KEY 0x12f 1' ;; 3) echo 'KEY 0x12f 0' ;; esac
    i=$((i + 1))
done >/tmp/flood.expected
# A reader that falls behind gets SYN_DROPPED and resyncs (evdev-probe marks those "sync"),
# as libevdev does: what counts is that every change is seen, in order.
grep '^KEY' /tmp/flood.out | cut -d' ' -f1-3 >/tmp/flood.keys
expect_file "every button change arrived, in order, amid the axis flood" /tmp/flood.expected /tmp/flood.keys
grep -q '^DROPPED' /tmp/flood.out && note "the raw reader fell behind $(grep -c '^DROPPED' /tmp/flood.out) times (SYN_DROPPED), resynced"
absn=$(sed -n 's/.* abs=\([0-9]*\).*/\1/p' /tmp/flood.err)
[ "${absn:-0}" -ge $((FLOOD_SECONDS * 1000 * 4)) ] && pass "axes moved: $absn ABS events" \
    || fail "only ${absn:-0} ABS events for $((FLOOD_SECONDS * 1000)) reports"

# ---- part 2: vkb-bridge (release build) against the same sticks ----
if [ -x /usr/bin/vkb-bridge ]; then
    . /test/bridge.sh
else
    section "vkb-bridge"
    skip "vkb-bridge checks: no release vkb-bridge in the initramfs (swift build -c release first)"
fi

stick_stop
summary
