/// VKB button numbers (as VKBDevCfg shows them) and their evdev key codes.
///
/// hid-input maps HID button n to `0x120 + (n-1)` for 1–16, to `0x2C0 + (n-17)` for
/// 17–80 (`BTN_TRIGGER_HAPPY1`…, then unnamed codes up to `KEY_MAX` = 0x2FF), and drops
/// buttons above 80 because their codes would exceed `KEY_MAX`. vkb-bridge reads those
/// (81–128) from the stick's hidraw node and gives them codes of its own, `0x300 + (n-81)`.
public enum VKBButton {
    /// The highest button number the kernel delivers through evdev.
    public static let maxDeliverable = 80

    /// Why a button number cannot be used, if it cannot.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case notPositive(Int)
        case aboveMaximum(Int)

        public var description: String {
            switch self {
            case .notPositive(let n):
                return "button \(n) is not a VKB button number (they start at 1)"
            case .aboveMaximum(let n):
                return "button \(n) is not a VKB button number: VKB sticks declare at most \(VKBButton.maxButton) buttons (VKBDevCfg numbers them 1-\(VKBButton.maxButton))"
            }
        }
    }

    /// The code for VKB button `number`: its evdev code (1–80), or vkb-bridge's hidraw
    /// code (81–128).
    public static func code(forButton number: Int) -> Result<UInt16, Problem> {
        switch number {
        case ..<1: return .failure(.notPositive(number))
        case 1...16: return .success(UInt16(0x120 + number - 1))
        case 17...80: return .success(UInt16(0x2C0 + number - 17))
        case 81...maxButton: return .success(hidrawCode(forButton: number)!)
        default: return .failure(.aboveMaximum(number))
        }
    }

    /// The highest button number a VKB stick declares (and vkb-bridge reads, through hidraw).
    public static let maxButton = 128

    /// vkb-bridge's code for button `number` (81–128) read from the stick's hidraw node.
    public static func hidrawCode(forButton number: Int) -> UInt16? {
        guard number > maxDeliverable, number <= maxButton else { return nil }
        return KeyCode.hidrawBase + UInt16(number - maxDeliverable - 1)
    }

    /// The VKB button number for a key code: one hid-input gives a button, or one of
    /// vkb-bridge's hidraw codes.
    public static func button(forCode code: UInt16) -> Int? {
        switch code {
        case 0x120...0x12F: return Int(code) - 0x120 + 1
        case 0x2C0...0x2FF: return Int(code) - 0x2C0 + 17
        case _ where KeyCode.isHidraw(code): return Int(code - KeyCode.hidrawBase) + maxDeliverable + 1
        default: return nil
        }
    }
}
