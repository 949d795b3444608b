import Testing
@testable import VKBInput

struct HIDReportDescriptorTests {
    /// Joystick application collection: `axes` 16-bit axes, a 4-bit hat plus 4 bits of
    /// constant padding, then `buttons` 1-bit buttons (Usage Minimum 1, Usage Maximum n).
    static func joystick(axes: Int = 8, buttons: Int) -> [UInt8] {
        var d: [UInt8] = [0x05, 0x01, 0x09, 0x04, 0xA1, 0x01]
        for i in 0..<axes {
            d += [0x09, UInt8(0x30 + i), 0x15, 0x00, 0x26, 0xFF, 0x0F, 0x75, 0x10, 0x95, 0x01, 0x81, 0x02]
        }
        d += [0x09, 0x39, 0x15, 0x00, 0x25, 0x07, 0x75, 0x04, 0x95, 0x01, 0x81, 0x42]
        d += [0x75, 0x04, 0x95, 0x01, 0x81, 0x03]
        d += [0x05, 0x09, 0x19, 0x01, 0x2A, UInt8(buttons & 0xFF), UInt8(buttons >> 8)]
        d += [0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x96, UInt8(buttons & 0xFF), UInt8(buttons >> 8), 0x81, 0x02, 0xC0]
        return d
    }

    @Test func vkbDescriptorDeclares128Buttons() {
        #expect(HIDReportDescriptor.highestButton(in: Self.joystick(buttons: 128)) == 128)
        #expect(HIDReportDescriptor.highestButton(in: Self.joystick(axes: 6, buttons: 64)) == 64)
    }

    @Test func buttonsListedOneByOneCount() {
        // Usage Page Button, Usage 1, Usage 2, Usage 3, Report Count 3, Input.
        let d: [UInt8] = [0x05, 0x09, 0x09, 0x01, 0x09, 0x02, 0x09, 0x03, 0x75, 0x01, 0x95, 0x03, 0x81, 0x02]
        #expect(HIDReportDescriptor.highestButton(in: d) == 3)
    }

    @Test func constantPaddingOnTheButtonPageIsNotButtons() {
        let d: [UInt8] = [0x05, 0x09, 0x19, 0x01, 0x29, 0x20, 0x75, 0x01, 0x95, 0x20, 0x81, 0x03]
        #expect(HIDReportDescriptor.highestButton(in: d) == nil)
    }

    @Test func outputAndFeatureReportsDoNotCount() {
        // A Button-page Output (0x91) item: LEDs, not buttons.
        let d: [UInt8] = [0x05, 0x09, 0x19, 0x01, 0x29, 0x08, 0x75, 0x01, 0x95, 0x08, 0x91, 0x02]
        #expect(HIDReportDescriptor.highestButton(in: d) == nil)
    }

    @Test func truncatedDescriptorIsRejected() {
        #expect(HIDReportDescriptor.highestButton(in: [0x05, 0x09, 0x2A, 0x80]) == nil)
        #expect(HIDReportDescriptor.highestButton(in: []) == nil)
    }
}
