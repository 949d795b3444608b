extension HIDReportDescriptor {
    /// Whether `button` is down in `report`, an input report as hidraw's `read()` returns it
    /// (its ID byte first when the descriptor uses report IDs); nil when this report does
    /// not carry the button or is too short to.
    public func isDown(_ button: Int, in report: ArraySlice<UInt8>) -> Bool? {
        guard let location = buttons[button] else { return nil }
        let id = usesReportIDs ? report.first : nil
        let payload = usesReportIDs ? report.dropFirst() : report
        switch location {
        case .bit(let reportID, let bit):
            guard reportID == id, let value = Self.bits(payload, from: bit, count: 1) else { return nil }
            return value == 1
        case .arrayValue(let reportID, let bit, let size, let count, let value):
            guard reportID == id, size <= 32 else { return nil }
            for slot in 0..<count {
                guard let held = Self.bits(payload, from: bit + slot * size, count: size) else { return nil }
                if Int64(held) == value { return true }
            }
            return false
        }
    }

    /// `count` (≤ 32) bits from `bit` on, least significant first, as HID lays fields out.
    static func bits(_ payload: ArraySlice<UInt8>, from bit: Int, count: Int) -> UInt32? {
        guard bit >= 0, count > 0, (bit + count + 7) / 8 <= payload.count else { return nil }
        var value: UInt32 = 0
        for i in 0..<count {
            let position = bit + i
            let byte = payload[payload.startIndex + position / 8]
            if byte >> UInt8(position % 8) & 1 == 1 { value |= 1 << UInt32(i) }
        }
        return value
    }
}
