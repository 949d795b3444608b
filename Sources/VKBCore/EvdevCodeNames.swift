/// Names of evdev codes the bridge shows or accepts (linux/input-event-codes.h).
public enum EvdevCodeNames {
    /// Key/button names by code. Only the button ranges joysticks use are named;
    /// codes 0x2E8…0x2FF have no kernel name.
    public static let keys: [UInt16: String] = {
        var table: [UInt16: String] = [:]
        for i in 0...9 { table[UInt16(0x100 + i)] = "BTN_\(i)" }
        let mouse = ["BTN_LEFT", "BTN_RIGHT", "BTN_MIDDLE", "BTN_SIDE", "BTN_EXTRA", "BTN_FORWARD", "BTN_BACK", "BTN_TASK"]
        for (i, n) in mouse.enumerated() { table[UInt16(0x110 + i)] = n }
        let joystick = [
            "BTN_TRIGGER", "BTN_THUMB", "BTN_THUMB2", "BTN_TOP", "BTN_TOP2", "BTN_PINKIE", "BTN_BASE",
            "BTN_BASE2", "BTN_BASE3", "BTN_BASE4", "BTN_BASE5", "BTN_BASE6",
        ]
        for (i, n) in joystick.enumerated() { table[UInt16(0x120 + i)] = n }
        table[0x12F] = "BTN_DEAD"
        let gamepad: [UInt16: String] = [
            0x130: "BTN_SOUTH", 0x131: "BTN_EAST", 0x132: "BTN_C", 0x133: "BTN_NORTH", 0x134: "BTN_WEST",
            0x135: "BTN_Z", 0x136: "BTN_TL", 0x137: "BTN_TR", 0x138: "BTN_TL2", 0x139: "BTN_TR2",
            0x13A: "BTN_SELECT", 0x13B: "BTN_START", 0x13C: "BTN_MODE", 0x13D: "BTN_THUMBL", 0x13E: "BTN_THUMBR",
            0x150: "BTN_GEAR_DOWN", 0x151: "BTN_GEAR_UP",
            0x220: "BTN_DPAD_UP", 0x221: "BTN_DPAD_DOWN", 0x222: "BTN_DPAD_LEFT", 0x223: "BTN_DPAD_RIGHT",
        ]
        table.merge(gamepad) { a, _ in a }
        for i in 1...40 { table[UInt16(0x2C0 + i - 1)] = "BTN_TRIGGER_HAPPY\(i)" }
        return table
    }()

    /// Aliases the kernel header defines for the same codes.
    static let keyAliases: [String: UInt16] = [
        "BTN_JOYSTICK": 0x120, "BTN_MISC": 0x100, "BTN_MOUSE": 0x110, "BTN_GAMEPAD": 0x130,
        "BTN_A": 0x130, "BTN_B": 0x131, "BTN_X": 0x133, "BTN_Y": 0x134, "BTN_TRIGGER_HAPPY": 0x2C0,
    ]

    private static let keysByName: [String: UInt16] = {
        var table = keyAliases
        for (code, name) in keys { table[name] = code }
        return table
    }()

    public static let absolute: [UInt16: String] = [
        0x00: "ABS_X", 0x01: "ABS_Y", 0x02: "ABS_Z", 0x03: "ABS_RX", 0x04: "ABS_RY", 0x05: "ABS_RZ",
        0x06: "ABS_THROTTLE", 0x07: "ABS_RUDDER", 0x08: "ABS_WHEEL", 0x09: "ABS_GAS", 0x0A: "ABS_BRAKE",
        0x10: "ABS_HAT0X", 0x11: "ABS_HAT0Y", 0x12: "ABS_HAT1X", 0x13: "ABS_HAT1Y",
        0x14: "ABS_HAT2X", 0x15: "ABS_HAT2Y", 0x16: "ABS_HAT3X", 0x17: "ABS_HAT3Y",
        0x28: "ABS_MISC",
    ]

    /// A readable name for a key code: its kernel name or its hex value.
    public static func keyName(_ code: UInt16) -> String {
        if KeyCode.isHidraw(code), let button = VKBButton.button(forCode: code) { return "hidraw button \(button)" }
        return keys[code] ?? hex(code)
    }

    /// Looks up a key code by kernel name (`BTN_TRIGGER_HAPPY3`) or number (`0x2c2`, `706`).
    public static func keyCode(named text: String) -> UInt16? {
        let t = text.trimmingCharacters()
        if let code = keysByName[t.uppercased()] { return code }
        if t.lowercased().hasPrefix("0x"), let v = UInt16(t.dropFirst(2), radix: 16) { return v }
        return UInt16(t)
    }

    /// `0x2c2` style.
    public static func hex(_ code: UInt16) -> String {
        Hex.prefixed(code)
    }
}

extension String {
    /// Leading and trailing ASCII white space removed (no Foundation needed).
    package func trimmingCharacters() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
