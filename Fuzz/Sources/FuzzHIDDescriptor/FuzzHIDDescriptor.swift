import FuzzSupport
import VKBInput

/// The HID report-descriptor parser on arbitrary bytes: descriptors come from devices.
/// Whatever it accepts must be consistent: every button lies inside its input report.
@main enum FuzzHIDDescriptor {
    static func main() {
        runFuzzer { data, size in
            guard let descriptor = try? HIDReportDescriptor(parsing: bytes(data, size)) else { return 0 }
            var lengths: [UInt8?: Int] = [:]
            for report in descriptor.inputReports { lengths[report.id] = report.bits }
            for (button, location) in descriptor.buttons {
                precondition(button >= 1 && button <= 0xFFFF, "button \(button)")
                switch location {
                case .bit(let id, let bit):
                    precondition(bit >= 0 && bit < lengths[id]!, "button \(button) at bit \(bit) outside its report")
                case .arrayValue(let id, let bit, let size, let count, _):
                    precondition(size >= 1 && size <= 32 && count >= 1 && bit + size * count <= lengths[id]!, "array field of button \(button) outside its report")
                }
            }
            return 0
        }
    }
}
