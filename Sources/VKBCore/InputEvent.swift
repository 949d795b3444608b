/// One evdev event (`struct input_event`), as read from a node or a recording.
public struct InputEvent: Sendable, Hashable {
    /// Event time in microseconds. Relative or absolute depending on the source;
    /// only differences are meaningful.
    public var timeMicroseconds: Int64
    public var type: UInt16
    public var code: UInt16
    public var value: Int32

    public init(timeMicroseconds: Int64 = 0, type: UInt16, code: UInt16, value: Int32) {
        self.timeMicroseconds = timeMicroseconds
        self.type = type
        self.code = code
        self.value = value
    }
}

/// evdev event types and the few codes the bridge interprets (linux/input-event-codes.h).
public enum EventType {
    public static let syn: UInt16 = 0x00
    public static let key: UInt16 = 0x01
    public static let rel: UInt16 = 0x02
    public static let abs: UInt16 = 0x03
    public static let msc: UInt16 = 0x04
    public static let sw: UInt16 = 0x05
    public static let led: UInt16 = 0x11
    public static let snd: UInt16 = 0x12
    public static let rep: UInt16 = 0x14
    public static let ff: UInt16 = 0x15
    public static let pwr: UInt16 = 0x16
    public static let ffStatus: UInt16 = 0x17
    /// `EV_MAX`.
    public static let max: UInt16 = 0x1f
}

/// Limits of the key code space.
public enum KeyCode {
    /// `KEY_MAX`: the highest key code the kernel delivers. It is a valid code (VKB button 80).
    public static let max: UInt16 = 0x2ff
    /// Number of key codes, `KEY_CNT`.
    public static let count = Int(max) + 1
    /// vkb-bridge's own codes for VKB buttons 81–128, which evdev never delivers and the
    /// stick's hidraw node does: `0x300 + (n − 81)`, right above the kernel's code space.
    public static let hidrawBase: UInt16 = 0x300
    /// One past the highest code a `KeySet` holds: the kernel's codes and the hidraw ones.
    public static let limit = Int(hidrawBase) + 48

    /// True for vkb-bridge's codes of buttons read from hidraw.
    public static func isHidraw(_ code: UInt16) -> Bool {
        code >= hidrawBase && Int(code) < limit
    }
}
