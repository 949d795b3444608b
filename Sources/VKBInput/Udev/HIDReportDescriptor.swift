/// Just enough of a HID report descriptor parser to count buttons: VKB descriptors
/// declare 128, of which the kernel delivers 1–80 through evdev.
public enum HIDReportDescriptor {
    /// The highest button number (Button usage page, 0x09) the descriptor's input
    /// reports declare, or nil when it declares none or cannot be parsed.
    public static func highestButton(in bytes: [UInt8]) -> Int? {
        var usagePage: UInt32 = 0
        var usageMaximum: UInt32?
        var usages: [UInt32] = []
        var reportCount: UInt32 = 0
        var highest: UInt32?
        var stack: [(UInt32, UInt32)] = []  // Push/Pop of usage page and report count
        var i = 0
        while i < bytes.count {
            let prefix = bytes[i]
            if prefix == 0xFE {  // long item: size in the next byte, not used by joysticks
                guard i + 2 < bytes.count else { return nil }
                i += 3 + Int(bytes[i + 1])
                continue
            }
            let size = [0, 1, 2, 4][Int(prefix & 0x03)]
            guard i + size < bytes.count else { return nil }
            var value: UInt32 = 0
            for k in 0..<size { value |= UInt32(bytes[i + 1 + k]) << (8 * k) }
            let type = (prefix >> 2) & 0x03
            let tag = prefix >> 4
            switch (type, tag) {
            case (0, 0x8):  // Input
                if usagePage == 0x09 {
                    let top: UInt32?
                    if let usageMaximum {
                        top = usageMaximum
                    } else if let last = usages.max() {
                        top = last
                    } else {
                        top = nil
                    }
                    if let top, (value & 0x01) == 0, reportCount > 0 {  // not Constant (padding)
                        highest = max(highest ?? 0, top)
                    }
                }
                fallthrough
            case (0, _):  // any main item ends the local items
                usageMaximum = nil
                usages = []
            case (1, 0x0):  // Usage Page
                usagePage = value
            case (1, 0x9):  // Report Count
                reportCount = value
            case (1, 0xA):  // Push
                stack.append((usagePage, reportCount))
            case (1, 0xB):  // Pop
                if let (page, count) = stack.popLast() {
                    usagePage = page
                    reportCount = count
                }
            case (2, 0x0):  // Usage (a 4-byte usage carries its page in the high half)
                usages.append(size == 4 ? value & 0xFFFF : value)
            case (2, 0x2):  // Usage Maximum
                usageMaximum = size == 4 ? value & 0xFFFF : value
            default:
                break
            }
            i += 1 + size
        }
        return highest.map(Int.init)
    }
}
