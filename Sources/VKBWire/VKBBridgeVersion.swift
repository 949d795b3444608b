/// The release version of vkb-bridge and vkb-telemetry-sink (`--version`).
///
/// The one place it is written: `make dist` and `make deb` read it from here, so the
/// programs, the tarball and the Debian package always agree. It lives in VKBWire
/// because that is the one target both programs link.
public enum VKBBridgeVersion {
    public static let string = "0.1.0"
}
