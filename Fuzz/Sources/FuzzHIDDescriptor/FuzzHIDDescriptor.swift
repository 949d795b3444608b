import FuzzSupport
import VKBInput

/// The HID report-descriptor reader on arbitrary bytes: descriptors come from devices.
@main enum FuzzHIDDescriptor {
    static func main() {
        runFuzzer { data, size in
            _ = HIDReportDescriptor.highestButton(in: bytes(data, size))
            return 0
        }
    }
}
