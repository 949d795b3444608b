#!/bin/sh
# Runs `udevadm test` for fake devices under umockdev. Start it in a private mount namespace
# (`unshare -m`): it mounts over /dev, /run and the rules directories there, so nothing
# reaches the host's /run/udev, /dev/char or rules.
#   udevadm-test.sh WORK FIXTURE MODE DEVICE...
# WORK/rules replaces /etc/udev/rules.d. MODE "alone": the other rules directories are
# emptied, so only WORK/rules runs. MODE "with-system": the system's rules run too.
# For each DEVICE (eventN), writes WORK/out/eventN.out (properties) and .err (udev's log).
set -eu
work=$1 fixture=$2 mode=$3
shift 3

ns="$work/ns"
mkdir -p "$ns" "$work/out"
mount -t tmpfs vkb-scratch "$ns"
mkdir "$ns/empty" "$ns/upper" "$ns/work" "$ns/hostdev"
# udevadm writes /dev/char links: give it a copy-on-write /dev, keeping pts and shm.
mount --rbind /dev "$ns/hostdev"
mount -t overlay vkb-dev -o "lowerdir=/dev,upperdir=$ns/upper,workdir=$ns/work" /dev
mount --rbind "$ns/hostdev/pts" /dev/pts
mount --rbind "$ns/hostdev/shm" /dev/shm
# ... and its database to /run/udev.
mount -t tmpfs vkb-run /run

mount --bind "$work/rules" /etc/udev/rules.d
for dir in /usr/local/lib/udev/rules.d /lib/udev/rules.d /usr/lib/udev/rules.d; do
    [ -d "$dir" ] || continue
    case "$mode:$dir" in
        alone:*|with-system:/usr/local/*) mount --bind "$ns/empty" "$dir" ;;
    esac
done

for device in "$@"; do
    umockdev-run -d "$fixture" -- udevadm test --action=add "/sys/class/input/$device" \
        >"$work/out/$device.out" 2>"$work/out/$device.err"
done
