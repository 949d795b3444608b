#!/usr/bin/env bash
# The kernel-in-the-loop tier (docs/testing.md): boot Debian's generic kernel under QEMU
# (TCG) with a busybox initramfs holding systemd-udevd, our uhid stick simulator, an
# independent evdev reader and, when built, the release vkb-bridge and its sink; run
# guest/scenario.sh there; the guest's verdict comes back as QEMU's exit status.
#
# Outside CI, a missing QEMU / apt / download is a skip (exit 0) that says what to install;
# with CI=true it is a failure.
#
# Environment:
#   KERNEL_TEST_CACHE   download cache (default: <repo>/.cache/kernel)
#   KERNEL_TEST_TIMEOUT seconds QEMU may run (default 150)
#   KERNEL_TEST_FLOOD   seconds of the raw evdev axis flood in part 1 (default 2)
#   KERNEL_TEST_BUILD   command that builds them, run once QEMU and the downloads are known
#                       to be there (make test-kernel: swift build -c release)
#   VKB_BRIDGE_BIN_DIR  where vkb-bridge / vkb-telemetry-sink are (default <repo>/.build/release)
#   KERNEL_TEST_KEEP=1  keep the work dir (initramfs, serial log) and print its path
#   KERNEL_TEST_PENDING the vkb-bridge checks still skipped as stubs (default: guest/bridge.sh's
#                       PENDING list; "" runs them all)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${KERNEL_TEST_CACHE:-$repo/.cache/kernel}
timeout_s=${KERNEL_TEST_TIMEOUT:-150}
flood_s=${KERNEL_TEST_FLOOD:-2}
bin_dir=${VKB_BRIDGE_BIN_DIR:-$repo/.build/release}
tier=kernel
hint="apt-get install qemu-system-x86 gcc (as root), and let apt-get download reach Debian"
# shellcheck source=../lib/debian-cache.sh
. "$here/../lib/debian-cache.sh"
command -v gcc >/dev/null || unavailable "gcc not found (apt-get install gcc libc6-dev)"
[ -e /usr/include/linux/uhid.h ] || unavailable "linux/uhid.h not found (apt-get install linux-libc-dev)"

# Input modules, in insmod order (dependencies first, checked below against .modinfo);
# paths under lib/modules/VERSION/kernel/drivers.
modules=(hid/hid.ko hid/uhid.ko hid/hid-generic.ko input/evdev.ko input/joydev.ko)
fetch_set kdeb=kernel bbdeb=busybox-static uddeb=udev
kver=${kpkg#linux-image-}
kmods="lib/modules/$kver/kernel/drivers"
unpack "$kdeb" "boot/vmlinuz-$kver" "${modules[@]/#/$kmods/}"; kx=$X
unpack "$bbdeb" bin/busybox; bbx=$X
unpack "$uddeb" bin/udevadm bin/systemd-hwdb lib/udev/rules.d/60-input-id.rules lib/udev/hwdb.d/60-evdev.hwdb; udx=$X
log "kernel $kver, busybox, udev ready"

if [ -n "${KERNEL_TEST_BUILD:-}" ]; then
    log "building: $KERNEL_TEST_BUILD"
    (cd "$repo" && eval "$KERNEL_TEST_BUILD") || die "build failed: $KERNEL_TEST_BUILD"
    [ -x "$bin_dir/vkb-bridge" ] || die "the build made no $bin_dir/vkb-bridge"
fi

# ---- the initramfs ----
work="$cache/work"
rm -rf "$work"
mkdir -p "$work"
root="$work/root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc/kernel-test,etc/udev/rules.d,root,test,proc,sys,dev,run,tmp}

cp "$bbx/bin/busybox" "$root/bin/busybox"
"$bbx/bin/busybox" --list-full | while read -r p; do
    [ -e "$root/$p" ] || ln -s /bin/busybox "$root/$p"
done

# Modules and their dependencies (from .modinfo), in load order.
loaded=" "
add_module() {
    local rel=$1 f dep
    f="$kx/$rel"
    [ -f "$f" ] || die "module $rel missing from $kpkg"
    case "$loaded" in *" $rel "*) return ;; esac
    for dep in $(tr '\0' '\n' <"$f" | sed -n 's/^depends=//p' | tr ',' ' '); do
        add_module "$(cd "$kx" && find "lib/modules/$kver" -name "$dep.ko" | head -n 1)"
    done
    mkdir -p "$root/$(dirname "$rel")"
    cp "$f" "$root/$rel"
    echo "/$rel" >>"$root/etc/kernel-test/modules"
    loaded="$loaded$rel "
}
for m in "${modules[@]}"; do add_module "$kmods/$m"; done

# copy_with_libs FILE DEST: FILE at DEST in the guest, with every library ldd finds for it
# (at the host's path, so RUNPATHs such as /opt/swift/usr/lib/swift/linux keep working).
copy_with_libs() {
    local src=$1 dest=$2 lib
    mkdir -p "$root/$(dirname "$dest")"
    cp -L "$src" "$root/$dest"
    ldd "$src" 2>/dev/null | awk '/=> \// { print $3 } /^\t\/[^ ]+ \(/ { print $1 }' | while read -r lib; do
        [ -e "$root/$lib" ] && continue
        mkdir -p "$root/$(dirname "$lib")"
        cp -L "$lib" "$root/$lib"
    done
    if ldd "$src" 2>/dev/null | grep -q 'not found'; then
        die "$src: $(ldd "$src" | grep 'not found' | tr -s ' \t\n' ' ')"
    fi
}

# systemd-udevd (a name of udevadm) with the default rules, systemd's own input rules
# (uaccess, seat) from the host when it has them, ours, and a hwdb.bin built from the package.
copy_with_libs "$udx/bin/udevadm" /bin/udevadm
mkdir -p "$root/lib/systemd" "$root/lib/udev"
ln -s /bin/udevadm "$root/lib/systemd/systemd-udevd"
cp -r "$udx/lib/udev/rules.d" "$root/lib/udev/"
for r in 70-uaccess.rules 71-seat.rules 73-seat-late.rules 99-systemd.rules; do
    [ -f "/lib/udev/rules.d/$r" ] && cp "/lib/udev/rules.d/$r" "$root/lib/udev/rules.d/"
done
if compgen -G "$repo/udev-rules/*.rules" >/dev/null; then
    cp "$repo"/udev-rules/*.rules "$root/etc/udev/rules.d/"
fi
mkdir -p "$work/hwdb/lib/udev"
cp -r "$udx/lib/udev/hwdb.d" "$work/hwdb/lib/udev/"
"$udx/bin/systemd-hwdb" update --root "$work/hwdb" --usr || die "systemd-hwdb update failed"
cp "$work/hwdb/lib/udev/hwdb.bin" "$root/lib/udev/hwdb.bin"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
tty:x:5:
disk:x:6:
kmem:x:15:
dialout:x:20:
cdrom:x:24:
audio:x:29:
video:x:44:
plugdev:x:46:
input:x:101:
kvm:x:102:
render:x:103:
sgx:x:104:
nogroup:x:65534:
EOF

# Test programs, static: they must work whatever the guest's libraries.
gcc -static -O2 -Wall -Wextra -Werror -o "$root/usr/bin/uhid-stick" "$here/uhid-stick.c"
gcc -static -O2 -Wall -Wextra -Werror -o "$root/usr/bin/evdev-probe" "$here/evdev-probe.c"
cp "$here/guest/init" "$root/init"
chmod 755 "$root/init"
cp "$here"/guest/*.sh "$root/test/"
echo "FLOOD_SECONDS=$flood_s" >"$root/test/env.sh"
[ -n "${KERNEL_TEST_PENDING+set}" ] && echo "PENDING_OVERRIDE='$KERNEL_TEST_PENDING'" >>"$root/test/env.sh"

# Part 2: the release daemon and sink, when built (with resource bundles beside them).
bridge=absent
if [ -x "$bin_dir/vkb-bridge" ]; then
    for b in vkb-bridge vkb-telemetry-sink; do
        [ -x "$bin_dir/$b" ] || continue
        copy_with_libs "$bin_dir/$b" "/usr/bin/$b"
        strip --strip-debug "$root/usr/bin/$b" 2>/dev/null || true # a smaller initramfs boots faster
    done
    for r in "$bin_dir"/*.resources; do [ -d "$r" ] && cp -r "$r" "$root/usr/bin/"; done
    bridge="$bin_dir/vkb-bridge ($(stat -c '%y' "$bin_dir/vkb-bridge" | cut -d. -f1), $(du -h "$bin_dir/vkb-bridge" | cut -f1))"
fi
log "vkb-bridge: $bridge"

initrd="$work/initramfs.cpio.gz"
(cd "$root" && find . | sort | "$bbx/bin/busybox" cpio -o -H newc -R 0:0 2>/dev/null) | gzip -1 >"$initrd"
log "initramfs $(du -sh "$root" | cut -f1) unpacked, $(du -h "$initrd" | cut -f1) as $(basename "$initrd")"

# ---- boot ----
serial="$work/serial.log"
log "booting $kver under QEMU (TCG)"
set +e
timeout --kill-after=5 "$timeout_s" qemu-system-x86_64 \
    -accel tcg,thread=multi -cpu max -smp 2 -m 1536 \
    -nodefaults -display none -monitor none -no-reboot \
    -serial "file:$serial" \
    -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
    -kernel "$kx/boot/vmlinuz-$kver" -initrd "$initrd" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init"
status=$?
set -e
log "QEMU exited with $status"

summary=$(grep -a '^kernel: [0-9]* passed' "$serial" | tail -n 1 || true)
sed -n 's/^\[guest \([0-9.]*\)s\] \(init started\|scenario finished.*\)/guest at \1 s: \2/p' "$serial" | while read -r l; do log "$l"; done
show_serial() { echo "--- serial log ($serial) ---"; cat "$serial"; echo "--- end of serial log ---"; }
guest_verdict "$status" "$summary" show_serial KERNEL_TEST_TIMEOUT
grep -a -E '^(PASS|SKIP)|ok flood|CPU over the flood' "$serial" | sed 's/^ */  /'
[ "${KERNEL_TEST_KEEP:-}" = 1 ] && log "work dir kept: $work" || rm -rf "$root"
log "done"
echo "$summary"
