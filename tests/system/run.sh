#!/usr/bin/env bash
# The systemd-in-the-loop tier (docs/testing.md).
#
# 1. The release tarball, unpacked into a clean Debian 12 root filesystem with no Swift
#    toolchain (chroot, as nobody): `vkb-bridge --version`, `check-config`, install.sh.
# 2. A minimal Debian 12 booted under QEMU with systemd as PID 1 and the kernel tier's
#    kernel: guest/scenario.sh installs the .deb with dpkg -i and checks the service under
#    its shipped sandbox against uhid sticks, with a sink running as its own unit as the
#    witness. The verdict comes back as QEMU's exit status, the log on a second serial port.
#
# Outside CI, a missing QEMU / mmdebstrap / archive is a skip (exit 0) that says what to
# install; with CI=true it is a failure. Needs root (chroot, a root-owned guest tree).
#
# Environment:
#   SYSTEM_TEST_CACHE    rootfs cache (default <repo>/.cache/system); downloads are shared
#                        with the kernel tier (<repo>/.cache/kernel)
#   SYSTEM_TEST_TIMEOUT  seconds QEMU may run (default 420)
#   SYSTEM_TEST_KEEP=1   keep the work dir (initramfs, serial logs) and print its path
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=$repo/.cache/kernel
sys_cache=${SYSTEM_TEST_CACHE:-$repo/.cache/system}
timeout_s=${SYSTEM_TEST_TIMEOUT:-420}
tier=system
hint="apt-get install qemu-system-x86 mmdebstrap gcc (as root), and let apt reach Debian"
# shellcheck source=../lib/debian-cache.sh
. "$here/../lib/debian-cache.sh"

[ "$(id -u)" = 0 ] || unavailable "needs root (chroot and a root-owned guest tree)"
command -v gcc >/dev/null || unavailable "gcc not found (apt-get install gcc libc6-dev)"
[ -e /usr/include/linux/uhid.h ] || unavailable "linux/uhid.h not found (apt-get install linux-libc-dev)"
if ! command -v mmdebstrap >/dev/null; then
    log "installing mmdebstrap"
    apt_update
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null \
        || unavailable "apt-get install mmdebstrap failed"
fi

version=$(sed -n 's/.*static let string = "\(.*\)"/\1/p' "$repo/Sources/VKBWire/VKBBridgeVersion.swift")
deb=$repo/.build/dist/vkb-bridge_${version}_amd64.deb
tarball=$repo/.build/dist/vkb-bridge-$version-linux-x86_64.tar.gz
[ -f "$deb" ] && [ -f "$tarball" ] || die "$deb or $tarball missing: run 'make test-system' (it builds both)"

# ---- the kernel (the kernel tier's download, verified against apt's index) ----
modules=(hid/hid.ko hid/uhid.ko hid/hid-generic.ko input/evdev.ko input/joydev.ko)
# busybox-static packs the initramfs (cpio), as in the kernel tier.
fetch_set kdeb=kernel bbdeb=busybox-static
kver=${kpkg#linux-image-}
kmods="lib/modules/$kver/kernel/drivers"
unpack "$kdeb" "boot/vmlinuz-$kver" "${modules[@]/#/$kmods/}"; kx=$X
unpack "$bbdeb" bin/busybox; bbx=$X
log "kernel $kver and busybox ready"

# ---- the root filesystem: mmdebstrap from the archive apt uses, cached and verified ----
mirror() {
    local m
    m=$(sed -n 's/^URIs: *\(http[^ ]*debian\)\/*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
    [ -n "$m" ] || m=$(sed -n 's/^deb \(\[[^]]*\] \)\?\(http[^ ]*debian\)\/* .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
    echo "${m:-http://deb.debian.org/debian}"
}
# What the guest needs besides the package's own dependencies (which dpkg -i must find:
# the list holds them so the check is real): systemd and udev, kmod for the modules,
# strace for the sandbox check, and the runtime libraries the tarball says to install.
packages=systemd,systemd-sysv,udev,dbus,kmod,strace,procps,libevdev2,libudev1,libsystemd0,libstdc++6,libgcc-s1
suite=bookworm
src=$(mirror)
key=$(printf '%s\n' "$suite" "$src" "$packages" minbase | sha256sum | cut -c1-16)
rootfs=$sys_cache/rootfs-$suite-$key.tar
mkdir -p "$sys_cache"
if [ -f "$rootfs" ] && [ -f "$rootfs.sha256" ] && sha256sum --status -c "$rootfs.sha256"; then
    log "cached root filesystem $(basename "$rootfs")"
else
    rm -rf "$sys_cache"/rootfs-*
    log "mmdebstrap $suite from $src ($packages)"
    mmdebstrap --quiet --format=tar --variant=minbase --include="$packages" "$suite" "$rootfs.part" "$src" \
        || unavailable "mmdebstrap failed (is $src reachable?)"
    mv "$rootfs.part" "$rootfs"
    (cd "$sys_cache" && sha256sum "$(basename "$rootfs")" >"$(basename "$rootfs").sha256")
fi

work=$sys_cache/work
rm -rf "$work"
mkdir -p "$work"
results=0 failures=0

# ---- part 1: the tarball in a clean root filesystem without Swift ----
log "part 1: the release tarball in a clean Debian 12 (no Swift toolchain)"
clean=$work/clean
mkdir -p "$clean"
tar -xf "$rootfs" -C "$clean"
tar -xzf "$tarball" -C "$clean/opt"
# As on any running system (the Swift runtime reads its arguments from /proc/self/cmdline).
mount -t proc proc "$clean/proc"
trap 'umount "$clean/proc" 2>/dev/null || true' EXIT
dist=/opt/vkb-bridge-$version-linux-x86_64
check() { # check NAME COMMAND...: one result line, like the guest's
    if out=$("${@:2}" 2>&1); then
        echo "PASS $1"; results=$((results + 1))
    else
        echo "FAIL $1"; echo "$out" | sed 's/^/     /'; results=$((results + 1)); failures=$((failures + 1))
    fi
}
as_nobody=(chroot --userspec=65534:65534 "$clean")
check "no Swift toolchain in the clean root" sh -c "! ls '$clean'/usr/lib/swift '$clean'/opt/swift >/dev/null 2>&1 && ! chroot '$clean' sh -c 'command -v swift'"
check "tarball: vkb-bridge --version is $version" sh -c "[ \"\$(timeout 20 ${as_nobody[*]} $dist/bin/vkb-bridge --version)\" = '$version' ]"
check "tarball: vkb-telemetry-sink --version is $version" sh -c "[ \"\$(timeout 20 ${as_nobody[*]} $dist/bin/vkb-telemetry-sink --version)\" = '$version' ]"
check "tarball: check-config accepts the example config" "${as_nobody[@]}" "$dist/bin/vkb-bridge" check-config "$dist/config.toml.example"
printf '[server]\nport = "x"\n' >"$clean/tmp/bad.toml"
check "tarball: check-config refuses a bad config with file:line" sh -c \
    "out=\$(${as_nobody[*]} $dist/bin/vkb-bridge check-config /tmp/bad.toml 2>&1); [ \$? = 2 ] && echo \"\$out\" | grep -q '^/tmp/bad.toml:2:'"
check "tarball: install.sh installs into /usr/local" chroot "$clean" sh "$dist/install.sh"
check "tarball: installed files in place" sh -c "for f in usr/local/bin/vkb-bridge usr/local/bin/vkb-telemetry-sink \
    usr/local/lib/systemd/system/vkb-bridge.service usr/local/lib/udev/rules.d/70-vkb-bridge.rules \
    usr/local/share/man/man1/vkb-bridge.1 etc/vkb-bridge/config.toml; do [ -e '$clean'/\$f ] || { echo missing \$f; exit 1; }; done; \
    grep -q '^ExecStart=/usr/local/bin/vkb-bridge ' '$clean'/usr/local/lib/systemd/system/vkb-bridge.service"
check "tarball: install.sh --uninstall removes them" sh -c "chroot '$clean' sh '$dist/install.sh' --uninstall >/dev/null && \
    [ ! -e '$clean'/usr/local/bin/vkb-bridge ] && [ ! -e '$clean'/etc/vkb-bridge/config.toml ]"
umount "$clean/proc"
rm -rf "$clean"

# ---- part 2: the guest ----
log "part 2: building the guest"
root=$work/root
mkdir -p "$root"
tar -xf "$rootfs" -C "$root"
# The kernel's input modules, loaded at boot by systemd-modules-load.
for m in "${modules[@]}"; do
    install -D -m 644 "$kx/$kmods/$m" "$root/$kmods/$m"
done
cp "$kx/lib/modules/$kver/modules.order" "$kx/lib/modules/$kver/modules.builtin"* "$root/lib/modules/$kver/"
chroot "$root" depmod "$kver" # the guest's own kmod
mkdir -p "$root/etc/modules-load.d" "$root/etc/systemd/system/multi-user.target.wants"
printf '%s\n' hid uhid hid-generic evdev joydev >"$root/etc/modules-load.d/vkb-system-test.conf"

gcc -static -O2 -Wall -Wextra -Werror -o "$root/usr/local/bin/uhid-stick" "$repo/tests/kernel/uhid-stick.c"
cp "$deb" "$root/root/vkb-bridge.deb"
mkdir -p "$root/test"
cp "$here"/guest/*.sh "$repo/tests/kernel/guest/lib.sh" "$root/test/"
cp "$here"/guest/*.service "$root/etc/systemd/system/"
ln -s /etc/systemd/system/vkb-system-test.service "$root/etc/systemd/system/multi-user.target.wants/vkb-system-test.service"
echo vkb-test >"$root/etc/hostname"
: >"$root/etc/machine-id" # systemd makes one at boot
# Nothing the test does not need: timers and gettys cost seconds under TCG.
for u in apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer getty@tty1.service \
    serial-getty@ttyS0.service systemd-timesyncd.service; do
    ln -sf /dev/null "$root/etc/systemd/system/$u"
done

initrd=$work/initramfs.cpio
(cd "$root" && find . | LC_ALL=C sort | "$bbx/bin/busybox" cpio -o -H newc 2>/dev/null) >"$initrd"
log "initramfs $(du -h "$initrd" | cut -f1) (uncompressed)"
rm -rf "$root"

serial=$work/console.log
out=$work/results.log
log "booting $kver with systemd as PID 1 under QEMU (TCG)"
set +e
timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max -smp 2 -m 2048 \
    -nodefaults -display none -monitor none -no-reboot \
    -serial "file:$serial" -serial "file:$out" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kx/boot/vmlinuz-$kver" -initrd "$initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/usr/lib/systemd/systemd systemd.show_status=0"
status=$?
set -e
log "QEMU exited with $status"

show_logs() {
    echo "--- results ($out) ---"; cat "$out" 2>/dev/null
    echo "--- console ($serial, last 80 lines) ---"; tail -n 80 "$serial" 2>/dev/null
    echo "--- end ---"
}
summary=$(grep -a '^system: [0-9]* passed' "$out" | tail -n 1 || true)
guest_verdict "$status" "$summary" show_logs SYSTEM_TEST_TIMEOUT
grep -a -E '^(PASS|SKIP)' "$out" | sed 's/^/  /'
[ "$failures" = 0 ] || die "part 1: $failures of $results checks failed"
if [ "${SYSTEM_TEST_KEEP:-}" = 1 ]; then log "work dir kept: $work"; else rm -rf "$work"; fi
passed=$(sed 's/^system: \([0-9]*\) passed.*/\1/' <<<"$summary")
skipped=$(sed -n 's/.*, \([0-9]*\) skipped/\1/p' <<<"$summary")
log "done"
echo "system: $((passed + results)) passed, 0 failed, ${skipped:-0} skipped"
