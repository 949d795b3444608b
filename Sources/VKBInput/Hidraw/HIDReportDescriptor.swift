/// A HID report descriptor (HID 1.11 §6.2.2), parsed far enough to say where each button
/// sits in the device's input reports: report IDs, usage pages, usages and usage ranges,
/// report size and count, variable and array fields, constant padding, Push/Pop, several
/// input reports and nested collections.
///
/// VKB sticks declare 128 buttons, of which the kernel delivers 1–80 through evdev; the
/// rest exist only in the raw reports (hidraw). Descriptors come from devices, so parsing
/// is bounded and anything it does not understand is refused with the byte offset, never
/// guessed at.
public struct HIDReportDescriptor: Sendable, Equatable {
    /// Where one button's state is in an input report. Bit positions count from the first
    /// bit after the report ID byte (or from the report's first bit without IDs), least
    /// significant bit of each byte first, as HID lays fields out.
    public enum ButtonLocation: Sendable, Equatable {
        /// One bit, set while the button is down.
        case bit(reportID: UInt8?, bit: Int)
        /// An array field: the button is down while any of `count` slots of `size` bits,
        /// starting at `bit`, holds `value`.
        case arrayValue(reportID: UInt8?, bit: Int, size: Int, count: Int, value: Int64)
    }

    /// One input report: its ID (nil when the descriptor uses none) and its length in
    /// bits, not counting the ID byte.
    public struct InputReport: Sendable, Equatable {
        public var id: UInt8?
        public var bits: Int

        public init(id: UInt8?, bits: Int) {
            self.id = id
            self.bits = bits
        }
    }

    /// Button number (usage on the Button page, 1-based) → where it is. The first field
    /// that declares a button wins.
    public private(set) var buttons: [Int: ButtonLocation] = [:]
    /// The input reports, in the order the descriptor first mentions them.
    public private(set) var inputReports: [InputReport] = []

    /// Whether reports start with a report ID byte.
    public var usesReportIDs: Bool { inputReports.contains { $0.id != nil } }
    /// The highest button declared, or nil when none is.
    public var highestButton: Int? { buttons.keys.max() }

    /// Limits: the kernel's own (`HID_MAX_DESCRIPTOR_SIZE`, 16 KiB reports) or far above
    /// anything a stick needs.
    public static let maxBytes = 4096
    public static let maxCollectionDepth = 32
    public static let maxPushDepth = 16
    public static let maxReportBits = 16384 * 8
    public static let maxButtons = 4096

    /// Parses `bytes`; throws with the offset of the first item it cannot accept.
    public init(parsing bytes: [UInt8]) throws(HIDDescriptorError) {
        var parser = Parser(bytes: bytes)
        try parser.run()
        buttons = parser.buttons
        inputReports = parser.reportOrder.map { InputReport(id: $0, bits: parser.inputBits[$0] ?? 0) }
    }

    /// The highest button number the descriptor's input reports declare, or nil when it
    /// declares none or cannot be parsed.
    public static func highestButton(in bytes: [UInt8]) -> Int? {
        (try? HIDReportDescriptor(parsing: bytes))?.highestButton
    }
}

/// A descriptor `HIDReportDescriptor` refuses: where, and why.
public struct HIDDescriptorError: Error, Equatable, CustomStringConvertible {
    /// Offset of the item's first byte.
    public var offset: Int
    public var message: String

    public var description: String { "HID report descriptor, byte \(offset): \(message)" }
}

extension HIDReportDescriptor {
    private struct Globals {
        var usagePage: UInt32 = 0
        var logicalMinimum: Int64 = 0
        var logicalMaximum: Int64 = 0
        var reportSize = 0
        var reportCount = 0
        var reportID: UInt8?
    }

    /// A usage as written: a 4-byte one carries its page, a shorter one takes the Usage
    /// Page in force when the main item comes (the page may be set after the usage).
    private struct Usage {
        var page: UInt32?
        var id: UInt32
    }

    private struct Locals {
        var usages: [Usage] = []
        var minimum: Usage?
        var maximum: Usage?
    }

    private struct Parser {
        let bytes: [UInt8]
        var offset = 0
        var globals = Globals()
        var stack: [Globals] = []
        var locals = Locals()
        var depth = 0
        var buttons: [Int: ButtonLocation] = [:]
        var inputBits: [UInt8?: Int] = [:]
        var reportOrder: [UInt8?] = []
        /// Whether a main item came before the first Report ID (then no IDs are allowed).
        var mainItemWithoutID = false
        var sawReportID = false

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        func fail(_ message: String) -> HIDDescriptorError {
            HIDDescriptorError(offset: offset, message: message)
        }

        mutating func run() throws(HIDDescriptorError) {
            guard bytes.count <= HIDReportDescriptor.maxBytes else {
                throw fail("\(bytes.count) bytes, more than the \(HIDReportDescriptor.maxBytes) a descriptor may have")
            }
            while offset < bytes.count {
                let prefix = bytes[offset]
                if prefix == 0xFE {  // long item: size, tag, data; none is defined for input
                    guard offset + 2 < bytes.count else { throw fail("a long item cut short") }
                    let size = Int(bytes[offset + 1])
                    guard offset + 3 + size <= bytes.count else { throw fail("a long item cut short") }
                    offset += 3 + size
                    continue
                }
                let size = [0, 1, 2, 4][Int(prefix & 0x03)]
                guard offset + size < bytes.count else { throw fail("an item cut short (needs \(size) data byte(s))") }
                var value: UInt32 = 0
                for k in 0..<size { value |= UInt32(bytes[offset + 1 + k]) << (8 * k) }
                let tag = prefix >> 4
                switch (prefix >> 2) & 0x03 {
                case 0: try main(tag: tag, value: value)
                case 1: try global(tag: tag, value: value, size: size)
                case 2: local(tag: tag, value: value, size: size)
                default: throw fail("a reserved item type (prefix 0x\(String(prefix, radix: 16)))")
                }
                offset += 1 + size
            }
            guard depth == 0 else { throw fail("\(depth) collection(s) not closed at the end") }
        }

        static func signed(_ value: UInt32, size: Int) -> Int64 {
            switch size {
            case 1: Int64(Int8(truncatingIfNeeded: value))
            case 2: Int64(Int16(truncatingIfNeeded: value))
            case 4: Int64(Int32(bitPattern: value))
            default: 0
            }
        }

        mutating func global(tag: UInt8, value: UInt32, size: Int) throws(HIDDescriptorError) {
            switch tag {
            case 0x0: globals.usagePage = value & 0xFFFF
            case 0x1: globals.logicalMinimum = Self.signed(value, size: size)
            case 0x2:
                // Signed only when the minimum is negative, as the kernel reads it.
                globals.logicalMaximum = globals.logicalMinimum < 0 ? Self.signed(value, size: size) : Int64(value)
            case 0x7:
                guard value <= 32 else { throw fail("Report Size \(value): fields of more than 32 bits") }
                globals.reportSize = Int(value)
            case 0x8:
                guard value >= 1 && value <= 255 else { throw fail("Report ID \(value): IDs are 1–255") }
                guard !mainItemWithoutID else { throw fail("a Report ID after fields without one (a descriptor uses IDs for every report or none)") }
                globals.reportID = UInt8(value)
                sawReportID = true
            case 0x9:
                guard value <= UInt32(HIDReportDescriptor.maxReportBits) else { throw fail("Report Count \(value) is too large") }
                globals.reportCount = Int(value)
            case 0xA:
                guard stack.count < HIDReportDescriptor.maxPushDepth else { throw fail("Push nested more than \(HIDReportDescriptor.maxPushDepth) deep") }
                stack.append(globals)
            case 0xB:
                guard let saved = stack.popLast() else { throw fail("Pop without a Push") }
                globals = saved
            default:
                break  // physical range, unit, exponent: nothing to do with where bits are
            }
        }

        mutating func local(tag: UInt8, value: UInt32, size: Int) {
            let usage = Usage(page: size == 4 ? value >> 16 : nil, id: value & 0xFFFF)
            switch tag {
            case 0x0: if locals.usages.count < HIDReportDescriptor.maxButtons { locals.usages.append(usage) }
            case 0x1: locals.minimum = usage
            case 0x2: locals.maximum = usage
            default: break  // designators, strings, delimiters
            }
        }

        /// A usage from `local`, with the page filled in.
        func resolved(_ usage: Usage) -> (page: UInt32, id: UInt32) {
            (usage.page ?? globals.usagePage, usage.id)
        }

        mutating func main(tag: UInt8, value: UInt32) throws(HIDDescriptorError) {
            defer { locals = Locals() }
            switch tag {
            case 0x8: try input(flags: value)
            case 0x9, 0xB:  // Output, Feature: other directions; only the ID rule applies
                if !sawReportID { mainItemWithoutID = true }
            case 0xA:
                guard depth < HIDReportDescriptor.maxCollectionDepth else {
                    throw fail("collections nested more than \(HIDReportDescriptor.maxCollectionDepth) deep")
                }
                depth += 1
            case 0xC:
                guard depth > 0 else { throw fail("End Collection without a Collection") }
                depth -= 1
            default:
                throw fail("an unknown main item (tag 0x\(String(tag, radix: 16)))")
            }
        }

        mutating func input(flags: UInt32) throws(HIDDescriptorError) {
            if !sawReportID { mainItemWithoutID = true }
            let id = globals.reportID
            let size = globals.reportSize
            let count = globals.reportCount
            if inputBits[id] == nil {
                inputBits[id] = 0
                reportOrder.append(id)
            }
            let start = inputBits[id]!
            guard start + size * count <= HIDReportDescriptor.maxReportBits else {
                throw fail("input report \(id.map(String.init) ?? "(no ID)") longer than \(HIDReportDescriptor.maxReportBits / 8) bytes")
            }
            inputBits[id] = start + size * count
            guard flags & 0x01 == 0, size > 0, count > 0 else { return }  // constant: padding
            if flags & 0x02 != 0 {
                try variable(id: id, start: start, size: size, count: count)
            } else {
                try array(id: id, start: start, size: size, count: count)
            }
        }

        /// The usage of each field of a Variable item: listed usages in order (the last one
        /// repeats), else the Usage Minimum–Maximum range.
        func fieldUsages(count: Int) -> [(page: UInt32, id: UInt32)] {
            if !locals.usages.isEmpty {
                return (0..<count).map { resolved(locals.usages[min($0, locals.usages.count - 1)]) }
            }
            guard let minimum = locals.minimum.map(resolved), let maximum = locals.maximum.map(resolved),
                maximum.id >= minimum.id
            else { return [] }
            let n = min(count, Int(maximum.id - minimum.id) + 1)
            return (0..<n).map { (minimum.page, minimum.id + UInt32($0)) }
        }

        mutating func variable(id: UInt8?, start: Int, size: Int, count: Int) throws(HIDDescriptorError) {
            for (i, usage) in fieldUsages(count: count).enumerated() where usage.page == 0x09 && usage.id >= 1 {
                guard size == 1 else { throw fail("button \(usage.id) in a field of \(size) bits (buttons are single bits)") }
                try add(Int(usage.id), .bit(reportID: id, bit: start + i))
            }
        }

        /// An array of `count` slots, each holding the index of a pressed usage (offset by
        /// the Logical Minimum), or a value outside the range when the slot is empty.
        mutating func array(id: UInt8?, start: Int, size: Int, count: Int) throws(HIDDescriptorError) {
            let logicalMinimum = globals.logicalMinimum
            var usages: [(page: UInt32, id: UInt32)]
            if !locals.usages.isEmpty {
                usages = locals.usages.map(resolved)
            } else if let minimum = locals.minimum.map(resolved), let maximum = locals.maximum.map(resolved), maximum.id >= minimum.id {
                let span = min(Int(maximum.id - minimum.id) + 1, HIDReportDescriptor.maxButtons)
                usages = (0..<span).map { (minimum.page, minimum.id + UInt32($0)) }
            } else {
                usages = []
            }
            let values = globals.logicalMaximum - logicalMinimum + 1
            for (index, usage) in usages.enumerated() where usage.page == 0x09 && usage.id >= 1 && Int64(index) < values {
                try add(Int(usage.id), .arrayValue(reportID: id, bit: start, size: size, count: count, value: logicalMinimum + Int64(index)))
            }
        }

        mutating func add(_ button: Int, _ location: ButtonLocation) throws(HIDDescriptorError) {
            guard buttons[button] == nil else { return }
            guard buttons.count < HIDReportDescriptor.maxButtons else {
                throw fail("more than \(HIDReportDescriptor.maxButtons) buttons")
            }
            buttons[button] = location
        }
    }
}
