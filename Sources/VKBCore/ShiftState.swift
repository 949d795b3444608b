/// One bit of the VKB shift state.
public enum ShiftBit: Int, Sendable, CaseIterable, Hashable, CustomStringConvertible {
    case shift1 = 0, shift2
    case subshift1, subshift2, subshift3, subshift4, subshift5, subshift6, subshift7

    /// The config name, e.g. `subshift3`.
    public var description: String {
        switch self {
        case .shift1: "shift1"
        case .shift2: "shift2"
        default: "subshift\(rawValue - 1)"
        }
    }

    public init?(name: String) {
        guard let bit = Self.allCases.first(where: { $0.description == name.lowercased() }) else { return nil }
        self = bit
    }
}

/// The state VKB-Link applies: Shift1–2 and Subshift1–7.
public struct ShiftState: Sendable, Hashable, CustomStringConvertible {
    /// bit0 = Shift1, bit1 = Shift2.
    public private(set) var shift: UInt8
    /// bit0…bit6 = Subshift1…Subshift7.
    public private(set) var subshift: UInt8

    public static let mask: (shift: UInt8, subshift: UInt8) = (0x03, 0x7F)
    public static let clear = ShiftState()

    public init(shift: UInt8 = 0, subshift: UInt8 = 0) {
        self.shift = shift & Self.mask.shift
        self.subshift = subshift & Self.mask.subshift
    }

    /// All nine bits, shift in bits 0–1 and subshift in bits 2–8 (the `ShiftBit` order).
    public init(bits: UInt16) {
        self.init(shift: UInt8(bits & 0x3), subshift: UInt8((bits >> 2) & 0x7F))
    }

    public var bits: UInt16 { UInt16(shift) | UInt16(subshift) << 2 }

    public subscript(bit: ShiftBit) -> Bool {
        get { bits & (1 << UInt16(bit.rawValue)) != 0 }
        set {
            var b = bits
            if newValue { b |= 1 << UInt16(bit.rawValue) } else { b &= ~(1 << UInt16(bit.rawValue)) }
            self = ShiftState(bits: b)
        }
    }

    /// `shift1+subshift3`, or `none`.
    public var description: String {
        let on = ShiftBit.allCases.filter { self[$0] }.map(\.description)
        return on.isEmpty ? "none" : on.joined(separator: "+")
    }
}

extension ShiftState {
    /// Parses the `description` form: `none`, or bit names joined by `+` (`shift1+subshift2`).
    public init?(parsing text: String) {
        var state = ShiftState.clear
        let t = text.lowercased()
        guard t != "none" else {
            self = state
            return
        }
        for name in t.split(separator: "+") {
            guard let bit = ShiftBit(name: String(name)) else { return nil }
            state[bit] = true
        }
        self = state
    }
}
