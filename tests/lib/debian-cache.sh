# Shared by the kernel and systemd tiers (tests/kernel/run.sh, tests/system/run.sh): their
# messages, root and apt detection, QEMU, and Debian packages fetched into a cache and
# verified against apt's index. The caller sets tier (the name in messages), hint (how to
# get what is missing) and cache (the download cache directory), then sources this file.

ci=${CI:-}
[ "$ci" = true ] || [ "$ci" = 1 ] && ci=true || ci=false
t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
log() { echo "$tier-test [$(elapsed)s]: $*"; }
die() { echo "$tier-test: FAIL: $*" >&2; exit 1; }
# Cannot run here: fatal in CI, a skip with advice elsewhere.
unavailable() {
    if $ci; then die "$1"; fi
    echo "$tier-test: SKIPPED: $1"
    echo "$tier-test: to run it: $hint"
    exit 0
}

am_root=false
[ "$(id -u)" = 0 ] && am_root=true
sudo_cmd=""
$am_root || { command -v sudo >/dev/null && $ci && sudo_cmd="sudo -n"; }


apt_updated=false
apt_update() {
    $apt_updated && return 0
    apt_updated=true
    if $am_root || [ -n "$sudo_cmd" ]; then
        log "apt-get update"
        $sudo_cmd apt-get update -qq || true
    fi
}

# ---- QEMU ----
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null || unavailable "apt-get/dpkg-deb not found (needs Debian or Ubuntu)"
if ! command -v qemu-system-x86_64 >/dev/null; then
    if $am_root || [ -n "$sudo_cmd" ]; then
        log "installing qemu-system-x86"
        apt_update
        DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends qemu-system-x86 >/dev/null \
            || unavailable "apt-get install qemu-system-x86 failed"
    else
        unavailable "qemu-system-x86_64 not found and not root (apt-get install qemu-system-x86)"
    fi
fi

# ---- Debian packages into the cache, verified ----
mkdir -p "$cache/debs" "$cache/x"

# The generic flavour: the -cloud- one has no HID/uhid modules (DESIGN §6b).
kernel_pkg() {
    apt-cache depends linux-image-amd64 2>/dev/null \
        | sed -n 's/^ *Depends: \(linux-image-[0-9.]*-[0-9]*-amd64\)$/\1/p' | head -n 1
}
kpkg=$(kernel_pkg)
[ -n "$kpkg" ] || { apt_update; kpkg=$(kernel_pkg); }
[ -n "$kpkg" ] || unavailable "apt-cache knows no linux-image-*-amd64 (run apt-get update)"

# candidate PACKAGE: sets VER and SHA (SHA256 of the .deb) of the version apt would install.
candidate() {
    local record
    record=$(apt-cache show --no-all-versions "$1" 2>/dev/null)
    VER=$(sed -n 's/^Version: //p' <<<"$record" | head -n 1)
    SHA=$(sed -n 's/^SHA256: //p' <<<"$record" | head -n 1)
}

# deb_ok FILE PACKAGE: FILE is the very .deb apt's index lists for the candidate (SHA256),
# so a truncated, corrupt or other-version download is never used.
deb_ok() {
    [ -s "$1" ] || return 1
    DEB_SHA=$(sha256sum <"$1" | cut -d' ' -f1)
    if [ -n "$SHA" ]; then
        [ "$DEB_SHA" = "$SHA" ]
    else # no checksum in the index: at least a complete archive of that package and version
        [ "$(dpkg-deb -f "$1" Package Version 2>/dev/null | tr '\n' ' ')" = "Package: $2 Version: $VER " ] \
            && dpkg-deb -c "$1" >/dev/null 2>&1
    fi
}

# fetch PACKAGE: sets DEB (and DEB_SHA) to a verified .deb of the candidate version,
# downloading it when the cache has none or a bad one. Older versions in the cache go.
fetch() {
    local pkg=$1
    candidate "$pkg"
    [ -n "$VER" ] || { apt_update; candidate "$pkg"; }
    [ -n "$VER" ] || unavailable "apt-cache has no candidate for $pkg (apt-get update?)"
    DEB="$cache/debs/${pkg}_${VER//:/%3a}_amd64.deb"
    if deb_ok "$DEB" "$pkg"; then
        log "cached $pkg $VER"
    else
        rm -f "$DEB"
        log "downloading $pkg $VER"
        local opts=()
        $am_root && opts=(-o APT::Sandbox::User=root) # else apt warns it cannot drop to _apt here
        (cd "$cache/debs" && apt-get download -qq "${opts[@]}" "$pkg=$VER") || return 1
        deb_ok "$DEB" "$pkg" || die "downloaded $DEB does not match the archive's checksum"
    fi
    find "$cache/debs" -name "${pkg}_*.deb" ! -path "$DEB" -delete
}

# fetch_set VAR=PACKAGE...: a verified .deb of each (PACKAGE "kernel": the generic kernel
# image) with VAR set to "DEB SHA256" for unpack; with stale package lists, updates them
# once and tries again.
fetch_set() {
    local pair pkg ok
    while true; do
        ok=true
        for pair in "$@"; do
            pkg=${pair#*=}
            [ "$pkg" = kernel ] && pkg=$kpkg
            fetch "$pkg" || { ok=false; break; }
            printf -v "${pair%%=*}" '%s' "$DEB $DEB_SHA"
        done
        $ok && return 0
        $apt_updated && unavailable "apt-get download failed"
        apt_update
        kpkg=$(kernel_pkg)
    done
}

# unpack "DEB SHA256" PATH...: sets X to its dpkg -x tree, holding PATH...; unpacked again
# when the .deb changed or an earlier unpacking broke off (the stamp is written last).
unpack() {
    local deb=${1% *} sum=${1#* } p
    shift
    X="$cache/x/$(basename "$deb" .deb)"
    local fresh=true
    [ "$(cat "$X.stamp" 2>/dev/null)" = "$sum" ] || fresh=false
    for p in "$@"; do [ -e "$X/$p" ] || fresh=false; done
    if ! $fresh; then
        rm -rf "$X" "$X.stamp"
        dpkg -x "$deb" "$X"
        for p in "$@"; do [ -e "$X/$p" ] || die "$(basename "$deb") has no $p"; done
        echo "$sum" >"$X.stamp"
    fi
    for old in "$cache/x"/*.stamp; do # trees of versions no longer cached
        [ -e "$old" ] || continue
        [ -e "$cache/debs/$(basename "$old" .stamp).deb" ] || rm -rf "${old%.stamp}" "$old"
    done
}


# guest_verdict QEMU_STATUS SUMMARY SHOW_LOGS TIMEOUT_VARIABLE: returns when the guest
# passed (isa-debug-exit: 33) and printed its summary; otherwise shows the guest's logs
# (the function SHOW_LOGS) and fails with the reason.
guest_verdict() {
    case $1 in
    33) [ -n "$2" ] || { $3; die "the guest passed but printed no summary"; } ;;
    3) $3; die "guest reported failures: ${2:-no summary}" ;;
    124 | 137) $3; die "QEMU ran past ${timeout_s}s ($4)" ;;
    *) $3; die "no verdict from the guest (QEMU status $1: panic, or init died?)" ;;
    esac
}
