#!/usr/bin/env bash
# Release artifacts from the static release build (`make dist`, `make deb`; docs/install.md).
#
#   package.sh dist   → .build/dist/vkb-bridge-VERSION-linux-x86_64.tar.gz
#   package.sh deb    → .build/dist/vkb-bridge_VERSION_amd64.deb (then lintian)
#
# Expects, as the Makefile leaves them: the programs in .build/release (built with
# --static-swift-stdlib), completions in .build/generated/release/completions and man
# pages in .build/generated/debug/man (the text does not depend on the configuration).
# VERSION comes from the environment.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${VERSION:?VERSION is not set (the Makefile reads it from Sources/VKBWire/VKBBridgeVersion.swift)}"
built=.build/release
generated=.build/generated/release
out=.build/dist
programs=(vkb-bridge vkb-telemetry-sink)
arch=$(uname -m)
[ "$arch" = x86_64 ] || { echo "package.sh: only x86_64 is packaged (this is $arch)" >&2; exit 1; }

for p in "${programs[@]}"; do
    [ -x "$built/$p" ] || { echo "package.sh: $built/$p missing: run 'make dist' or 'make deb'" >&2; exit 1; }
    # The programs report the version they were built with: never ship a stale build.
    v=$("$built/$p" --version)
    [ "$v" = "$VERSION" ] || { echo "package.sh: $built/$p --version says $v, not $VERSION: rebuild" >&2; exit 1; }
    if ldd "$built/$p" | grep -q 'libswift'; then
        echo "package.sh: $built/$p links the Swift runtime dynamically: build with --static-swift-stdlib" >&2
        exit 1
    fi
done
mkdir -p "$out"

# The tarball's layout, which its install.sh (scripts/install.sh) reads by default.
stage_tree() {
    local dir=$1
    rm -rf "$dir"
    mkdir -p "$dir"/{bin,man,completions,systemd/user,udev}
    for p in "${programs[@]}"; do
        strip --remove-section=.comment -o "$dir/bin/$p" "$built/$p"
        cp ".build/generated/debug/man/$p.1" "$dir/man/"
        cp "$generated/completions/$p".{bash,zsh,fish} "$dir/completions/"
    done
    cp systemd/vkb-bridge.service "$dir/systemd/"
    cp systemd/user/vkb-bridge.service "$dir/systemd/user/"
    cp udev-rules/70-vkb-bridge.rules "$dir/udev/"
    cp examples/config.toml "$dir/config.toml.example"
    cp README.md LICENSE "$dir/"
    cp scripts/install.sh "$dir/install.sh"
    chmod 755 "$dir/install.sh"
}

dist() {
    local name=vkb-bridge-$VERSION-linux-$arch
    local dir=$out/$name
    stage_tree "$dir"
    cat >"$dir/INSTALL" <<EOF
vkb-bridge $VERSION for Linux x86_64 (glibc 2.35 or newer: Debian 12, Ubuntu 22.04, Fedora 36, Arch…)

The programs carry their Swift runtime. They need these system libraries:
  Debian/Ubuntu:  sudo apt-get install libstdc++6 libevdev2 libudev1 libsystemd0
  Fedora:         sudo dnf install libstdc++ libevdev systemd-libs
  Arch:           sudo pacman -S gcc-libs libevdev systemd-libs

Install (to /usr/local; PREFIX=/usr for /usr), then let systemd and udev see the files:
  sudo ./install.sh
  sudo systemctl daemon-reload
  sudo udevadm control --reload
  sudo udevadm trigger --subsystem-match=input --action=change

Then edit /etc/vkb-bridge/config.toml (vkb-bridge check-config checks it) and plug a stick:
the udev rule starts vkb-bridge.service. For the user service instead, and everything
else: README.md, docs/install.md in the source, and man vkb-bridge.

Remove:  sudo ./install.sh --uninstall   (an edited config.toml is kept)
EOF
    # Reproducible: fixed owner, order and times.
    tar --owner=0 --group=0 --numeric-owner --sort=name --mtime=@0 -C "$out" -czf "$out/$name.tar.gz" "$name"
    rm -rf "$dir"
    echo "$out/$name.tar.gz"
}

deb() {
    local root=$out/deb-root tree=$out/deb-tree
    stage_tree "$tree"
    rm -rf "$root"
    # The same installer as everyone's, into the package's tree.
    DESTDIR=$root PREFIX=/usr SYSCONFDIR=/etc COMPRESS_MAN=yes sh "$tree/install.sh" >/dev/null
    rm -rf "$tree"

    local doc=$root/usr/share/doc/vkb-bridge
    install -m 644 README.md "$doc/README.md"
    gzip -9n "$doc/README.md"
    cat >"$doc/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: vkb-bridge
Source: the vkb-bridge source repository

Files: *
Copyright: the vkb-bridge authors
License: MIT
$(sed 's/^$/./; s/^/ /' LICENSE)
EOF
    printf 'vkb-bridge (%s) unstable; urgency=medium\n\n  * Release %s.\n\n -- vkb-bridge maintainers <vkb-bridge@users.noreply.github.com>  %s\n' \
        "$VERSION" "$VERSION" "$(date -R -d @0)" | gzip -9n >"$doc/changelog.gz"
    chmod 644 "$doc/copyright" "$doc/changelog.gz"

    # Depends: what the binaries link, with the versions dpkg-shlibdeps derives.
    local work=$out/deb-shlibs
    rm -rf "$work" && mkdir -p "$work/debian"
    printf 'Source: vkb-bridge\n\nPackage: vkb-bridge\nArchitecture: amd64\n' >"$work/debian/control"
    local depends
    depends=$(cd "$work" && dpkg-shlibdeps -O "${programs[@]/#/$OLDPWD/$root/usr/bin/}" 2>/dev/null \
        | sed -n 's/^shlibs:Depends=//p')
    rm -rf "$work"
    [ -n "$depends" ] || { echo "package.sh: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

    mkdir -p "$root/DEBIAN"
    local size
    size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
    cat >"$root/DEBIAN/control" <<EOF
Package: vkb-bridge
Version: $VERSION
Architecture: amd64
Maintainer: vkb-bridge maintainers <vkb-bridge@users.noreply.github.com>
Installed-Size: $size
Depends: $depends
Section: utils
Priority: optional
Description: VKB joystick shift/subshift bridge to VKB-Link
 vkb-bridge reads VKB-Sim joysticks (Gladiator, Gunfighter, STECS...) through
 evdev, turns the buttons you choose into VKB's shift/subshift bitmap, and
 delivers it to VKB-Link's TCP server, reconnecting by itself and sending the
 current state first on every new connection.
 .
 It runs as a sandboxed system service that udev starts when a VKB stick is
 plugged in, or as a user service in a desktop session. The package also
 ships vkb-telemetry-sink, a reference server that prints what it receives.
EOF
    echo /etc/vkb-bridge/config.toml >"$root/DEBIAN/conffiles"
    install -m 755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
    local deb=$out/vkb-bridge_${VERSION}_amd64.deb
    dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
    rm -rf "$root"
    if command -v lintian >/dev/null; then
        # lintian refuses to be trusted with root: as nobody when root.
        local as_user=()
        [ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/tmp)
        "${as_user[@]}" lintian --fail-on error,warning "$deb"
    else
        echo "package.sh: lintian not installed: the package was not checked" >&2
    fi
    echo "$deb"
}

case "${1:-}" in
dist) dist ;;
deb) deb ;;
*) echo "usage: package.sh dist|deb" >&2; exit 2 ;;
esac
