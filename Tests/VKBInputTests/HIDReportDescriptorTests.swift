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

    // MARK: - Where each button is

    typealias D = HIDReportDescriptor

    /// The error's text, or nil when the descriptor is accepted.
    static func refusal(_ bytes: [UInt8]) -> String? {
        do {
            _ = try D(parsing: bytes)
            return nil
        } catch {
            return error.description
        }
    }

    @Test func aGladiatorLikeDescriptorPutsButton81AfterTheAxesAndTheHat() throws {
        // 8 axes × 16 bits, a 4-bit hat and 4 bits of padding: the buttons start at bit 136.
        let d = try D(parsing: Self.joystick(buttons: 128))
        #expect(d.inputReports == [.init(id: nil, bits: 136 + 128)])
        #expect(!d.usesReportIDs)
        #expect(d.buttons.count == 128)
        #expect(d.buttons[1] == .bit(reportID: nil, bit: 136))
        #expect(d.buttons[81] == .bit(reportID: nil, bit: 136 + 80))
        #expect(d.buttons[128] == .bit(reportID: nil, bit: 136 + 127))
        #expect(d.highestButton == 128)
    }

    /// A two-report model (as on sticks whose firmware splits the buttons): report 1 holds
    /// 4 axes and buttons 1–64, report 2 buttons 65–128 and a vendor byte, inside nested
    /// collections, with Push/Pop around the vendor field.
    static let twoReports: [UInt8] = {
        var d: [UInt8] = [0x05, 0x01, 0x09, 0x04, 0xA1, 0x01]  // Generic Desktop, Joystick, Application
        d += [0x85, 0x01, 0xA1, 0x00]  // Report ID 1, Physical collection
        for i in 0..<4 { d += [0x09, UInt8(0x30 + i), 0x15, 0x00, 0x26, 0xFF, 0x07, 0x75, 0x10, 0x95, 0x01, 0x81, 0x02] }
        d += [0x05, 0x09, 0x19, 0x01, 0x29, 0x40, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x40, 0x81, 0x02]
        d += [0xC0]  // end Physical
        d += [0x85, 0x02, 0x05, 0x09, 0x19, 0x41, 0x29, 0x80, 0x95, 0x40, 0x81, 0x02]
        d += [0xA4, 0x06, 0x00, 0xFF, 0x09, 0x01, 0x75, 0x08, 0x95, 0x01, 0x81, 0x02, 0xB4]  // Push, vendor byte, Pop
        d += [0x19, 0x81, 0x29, 0x88, 0x95, 0x08, 0x91, 0x02]  // an Output report on the Button page: not input
        d += [0xC0]
        return d
    }()

    @Test func reportIDsSplitTheButtonsAcrossTwoReports() throws {
        let d = try D(parsing: Self.twoReports)
        #expect(d.usesReportIDs)
        #expect(d.inputReports == [.init(id: 1, bits: 64 + 64), .init(id: 2, bits: 64 + 8)])
        #expect(d.buttons[1] == .bit(reportID: 1, bit: 64))
        #expect(d.buttons[64] == .bit(reportID: 1, bit: 127))
        #expect(d.buttons[65] == .bit(reportID: 2, bit: 0))
        #expect(d.buttons[128] == .bit(reportID: 2, bit: 63))
        #expect(d.buttons[129] == nil, "Output fields are not buttons")
        #expect(d.highestButton == 128)
    }

    @Test func arrayFieldsListPressedButtonsByIndex() throws {
        // Buttons 1–128 as an array of four 8-bit slots, values 1–128 (0 = empty).
        let bytes: [UInt8] = [0x05, 0x09, 0x19, 0x01, 0x29, 0x80, 0x15, 0x01, 0x25, 0x80, 0x75, 0x08, 0x95, 0x04, 0x81, 0x00]
        let d = try D(parsing: bytes)
        #expect(d.buttons[97] == .arrayValue(reportID: nil, bit: 0, size: 8, count: 4, value: 97))
        #expect(d.inputReports == [.init(id: nil, bits: 32)])
    }

    @Test func aFourByteUsageCarriesItsOwnPage() throws {
        // Usage Page Generic Desktop, then Usage 0x0009_0005 (Button 5) as a 4-byte item.
        let bytes: [UInt8] = [0x05, 0x01, 0x0B, 0x05, 0x00, 0x09, 0x00, 0x75, 0x01, 0x95, 0x01, 0x81, 0x02]
        #expect(try D(parsing: bytes).buttons == [5: .bit(reportID: nil, bit: 0)])
    }

    @Test(arguments: [
        ([0x05], "byte 0: an item cut short"),
        ([0xB4], "byte 0: Pop without a Push"),
        ([0xC0], "byte 0: End Collection without a Collection"),
        ([0xA1, 0x01], "byte 2: 1 collection(s) not closed at the end"),
        ([0x85, 0x00], "byte 0: Report ID 0: IDs are 1–255"),
        ([0x75, 0x01, 0x95, 0x08, 0x81, 0x03, 0x85, 0x01], "byte 6: a Report ID after fields without one"),
        ([0x0C], "byte 0: a reserved item type"),
        ([0x75, 0x21], "byte 0: Report Size 33: fields of more than 32 bits"),
        ([0x05, 0x09, 0x09, 0x01, 0x75, 0x02, 0x95, 0x01, 0x81, 0x02], "byte 8: button 1 in a field of 2 bits"),
        ([0x75, 0x20, 0x96, 0xFF, 0x0F, 0x81, 0x03, 0x81, 0x03], "byte 7: input report (no ID) longer than 16384 bytes"),
    ] as [([UInt8], String)])
    func malformedDescriptorsAreRefusedWithTheirOffset(bytes: [UInt8], message: String) {
        let refusal = Self.refusal(bytes)
        #expect(refusal?.hasPrefix("HID report descriptor, \(message)") == true, "\(refusal ?? "accepted")")
    }

    @Test func collectionsNestedTooDeepAreRefused() {
        let bytes = Array(repeating: [UInt8]([0xA1, 0x00]), count: 33).flatMap { $0 }
        #expect(throws: HIDDescriptorError.self) { try D(parsing: bytes) }
        let fine = Array(repeating: [UInt8]([0xA1, 0x00]), count: 32).flatMap { $0 } + Array(repeating: 0xC0, count: 32)
        #expect(throws: Never.self) { try D(parsing: fine) }
    }
}
