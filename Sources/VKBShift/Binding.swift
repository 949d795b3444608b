import VKBCore

/// How a button drives its bit.
public enum BindingMode: String, Sendable, CaseIterable {
    /// The bit is set while the button is down.
    case hold
    /// The bit flips on each press.
    case toggle
}

/// Ties one shift bit to one button.
public struct Binding: Sendable, Hashable {
    public var bit: ShiftBit
    /// evdev key code of the button.
    public var code: UInt16
    public var mode: BindingMode
    /// Limits the binding to devices matched by the `[[device]]` rule with this id.
    public var device: String?

    public init(bit: ShiftBit, code: UInt16, mode: BindingMode = .hold, device: String? = nil) {
        self.bit = bit
        self.code = code
        self.mode = mode
        self.device = device
    }
}
