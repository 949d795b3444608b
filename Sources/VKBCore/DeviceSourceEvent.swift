/// What a device source reports. Only key state matters to shift mapping; axes,
/// scan codes and sync reports are dropped inside the source.
public enum DeviceSourceEvent: Sendable, Equatable {
    /// The complete key state: first at open (from `EVIOCGKEY` or the recording's
    /// start), again after a `SYN_DROPPED` resync.
    case keyState(KeySet)
    /// One key went down (`pressed`) or up. Autorepeat (value 2) is not reported.
    case key(code: UInt16, pressed: Bool)
    /// A replayed recording reached its end. The device stays attached with its last
    /// state, as a stick left alone would.
    case ended
}
