#!/bin/sh
# Installs (or with --uninstall removes) vkb-bridge: the one implementation behind
# `make install`, `make deb` and the release tarball's ./install.sh.
#
#   install.sh [--uninstall]
#
# Where the files come from (defaults: the release tarball's layout, beside this script):
#   SRC_BIN SRC_MAN SRC_COMPLETIONS SRC_SYSTEMD SRC_UDEV SRC_CONFIG
# Where they go (GNU conventions):
#   DESTDIR PREFIX(/usr/local) SYSCONFDIR(/etc) BINDIR MANDIR DOCDIR SYSTEMDUNITDIR
#   SYSTEMDUSERUNITDIR UDEVRULESDIR BASHCOMPLETIONDIR ZSHCOMPLETIONDIR FISHCOMPLETIONDIR
#   COMPRESS_MAN=yes|no  gzip the man pages (Debian policy; default no)
# The units name /usr/bin/vkb-bridge and /etc/vkb-bridge/; they are rewritten for BINDIR
# and SYSCONFDIR. config.toml is installed when absent and never replaced, nor removed
# once edited; the example always goes to DOCDIR.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
SRC_BIN=${SRC_BIN:-$here/bin}
SRC_MAN=${SRC_MAN:-$here/man}
SRC_COMPLETIONS=${SRC_COMPLETIONS:-$here/completions}
SRC_SYSTEMD=${SRC_SYSTEMD:-$here/systemd}
SRC_UDEV=${SRC_UDEV:-$here/udev}
SRC_CONFIG=${SRC_CONFIG:-$here/config.toml.example}

DESTDIR=${DESTDIR:-}
PREFIX=${PREFIX:-/usr/local}
SYSCONFDIR=${SYSCONFDIR:-/etc}
BINDIR=${BINDIR:-$PREFIX/bin}
MANDIR=${MANDIR:-$PREFIX/share/man}
DOCDIR=${DOCDIR:-$PREFIX/share/doc/vkb-bridge}
# systemd and udev also read these below /usr/local (systemd.unit(5), udev(7)).
SYSTEMDUNITDIR=${SYSTEMDUNITDIR:-$PREFIX/lib/systemd/system}
SYSTEMDUSERUNITDIR=${SYSTEMDUSERUNITDIR:-$PREFIX/lib/systemd/user}
UDEVRULESDIR=${UDEVRULESDIR:-$PREFIX/lib/udev/rules.d}
BASHCOMPLETIONDIR=${BASHCOMPLETIONDIR:-$PREFIX/share/bash-completion/completions}
ZSHCOMPLETIONDIR=${ZSHCOMPLETIONDIR:-$PREFIX/share/zsh/site-functions}
FISHCOMPLETIONDIR=${FISHCOMPLETIONDIR:-$PREFIX/share/fish/vendor_completions.d}
COMPRESS_MAN=${COMPRESS_MAN:-no}

PROGRAMS="vkb-bridge vkb-telemetry-sink"
config=$DESTDIR$SYSCONFDIR/vkb-bridge/config.toml
man_suffix=""
[ "$COMPRESS_MAN" = yes ] && man_suffix=.gz

if [ "${1:-}" = --uninstall ]; then
    for p in $PROGRAMS; do
        rm -f "$DESTDIR$BINDIR/$p" "$DESTDIR$MANDIR/man1/$p.1$man_suffix" "$DESTDIR$BASHCOMPLETIONDIR/$p" \
            "$DESTDIR$ZSHCOMPLETIONDIR/_$p" "$DESTDIR$FISHCOMPLETIONDIR/$p.fish"
    done
    rm -f "$DESTDIR$SYSTEMDUNITDIR/vkb-bridge.service" "$DESTDIR$SYSTEMDUSERUNITDIR/vkb-bridge.service" \
        "$DESTDIR$UDEVRULESDIR/70-vkb-bridge.rules"
    if [ -e "$config" ] && cmp -s "$SRC_CONFIG" "$config"; then
        rm -f "$config"
    elif [ -e "$config" ]; then
        echo "keeping edited $config"
    fi
    rm -f "$DESTDIR$DOCDIR/config.toml.example"
    rmdir "$DESTDIR$DOCDIR" "$DESTDIR$SYSCONFDIR/vkb-bridge" 2>/dev/null || true
    exit 0
fi

for p in $PROGRAMS; do
    for f in "$SRC_BIN/$p" "$SRC_MAN/$p.1" "$SRC_COMPLETIONS/$p.bash" "$SRC_COMPLETIONS/$p.zsh" "$SRC_COMPLETIONS/$p.fish"; do
        [ -e "$f" ] || { echo "install.sh: missing $f" >&2; exit 1; }
    done
done

install -d "$DESTDIR$BINDIR" "$DESTDIR$MANDIR/man1" "$DESTDIR$SYSTEMDUNITDIR" "$DESTDIR$SYSTEMDUSERUNITDIR" \
    "$DESTDIR$UDEVRULESDIR" "$DESTDIR$BASHCOMPLETIONDIR" "$DESTDIR$ZSHCOMPLETIONDIR" \
    "$DESTDIR$FISHCOMPLETIONDIR" "$DESTDIR$DOCDIR" "$DESTDIR$SYSCONFDIR/vkb-bridge"
for p in $PROGRAMS; do
    install -m 755 "$SRC_BIN/$p" "$DESTDIR$BINDIR/$p"
    install -m 644 "$SRC_MAN/$p.1" "$DESTDIR$MANDIR/man1/$p.1"
    [ "$COMPRESS_MAN" = yes ] && gzip -9nf "$DESTDIR$MANDIR/man1/$p.1"
    # bash-completion sources the file: a #! line there means nothing (and lintian flags it).
    sed '1{/^#!/d}' "$SRC_COMPLETIONS/$p.bash" >"$DESTDIR$BASHCOMPLETIONDIR/$p"
    chmod 644 "$DESTDIR$BASHCOMPLETIONDIR/$p"
    install -m 644 "$SRC_COMPLETIONS/$p.zsh" "$DESTDIR$ZSHCOMPLETIONDIR/_$p"
    install -m 644 "$SRC_COMPLETIONS/$p.fish" "$DESTDIR$FISHCOMPLETIONDIR/$p.fish"
done
sed -e "s|/usr/bin/vkb-bridge|$BINDIR/vkb-bridge|g" -e "s|/etc/vkb-bridge/|$SYSCONFDIR/vkb-bridge/|g" \
    "$SRC_SYSTEMD/vkb-bridge.service" >"$DESTDIR$SYSTEMDUNITDIR/vkb-bridge.service"
sed -e "s|/usr/bin/vkb-bridge|$BINDIR/vkb-bridge|g" \
    "$SRC_SYSTEMD/user/vkb-bridge.service" >"$DESTDIR$SYSTEMDUSERUNITDIR/vkb-bridge.service"
chmod 644 "$DESTDIR$SYSTEMDUNITDIR/vkb-bridge.service" "$DESTDIR$SYSTEMDUSERUNITDIR/vkb-bridge.service"
install -m 644 "$SRC_UDEV/70-vkb-bridge.rules" "$DESTDIR$UDEVRULESDIR/70-vkb-bridge.rules"
install -m 644 "$SRC_CONFIG" "$DESTDIR$DOCDIR/config.toml.example"
if [ -e "$config" ]; then
    echo "keeping existing $config"
else
    install -m 644 "$SRC_CONFIG" "$config"
    echo "installed $config"
fi
echo "installed. On a live system: systemctl daemon-reload; udevadm control --reload (docs/install.md)"
