import Foundation
import Testing
import VKBCore

@testable import VKBInput

@Suite("EvemuRecording: good files")
struct EvemuRecordingGoodFileTests {
    @Test func evemu13RelativeTimestamps() throws {
        let text = Fixtures.v13(events: [
            "E: 0.000001 0003 0000 2048\t# EV_ABS / ABS_X                2048",
            "E: 0.000001 0003 0010 -001\t# EV_ABS / ABS_HAT0X            -1",
            "E: 0.000001 0000 0000 0000\t# ------------ SYN_REPORT (0) ---------- +0ms",
            "E: 0.250001 0004 0004 589825\t# EV_MSC / MSC_SCAN             589825",
            "E: 0.250001 0001 0120 0001\t# EV_KEY / BTN_TRIGGER          1",
            "E: 0.250001 0000 0000 0000\t# ------------ SYN_REPORT (0) ---------- +250ms",
            "E: 1.500001 0004 0004 589904",
            "E: 1.500001 0001 02ff 0001",
            "E: 1.500001 0000 0000 0000",
        ])
        let r = try Fixtures.parse(text, path: "rec/stick.evemu")
        #expect(r.formatVersion == .init(major: 1, minor: 3))
        #expect(r.device.name == Fixtures.vkbName)
        #expect(r.device.name.hasSuffix("R  "))
        #expect(r.device.bus == 3 && r.device.vendor == 0x231d && r.device.product == 0x200 && r.device.version == 0x111)
        #expect(r.device.usbID == "231d:0200")
        #expect(r.device.path == "rec/stick.evemu")
        #expect(r.device.keys.codes == Fixtures.vkbCodes)
        #expect(r.device.vkbButtons == Array(1...80))
        #expect(r.device.keys.contains(0x2FF))  // button 80 = KEY_MAX
        #expect(r.device.absoluteAxes == [0, 1, 2, 3, 4, 5, 6, 7, 0x10, 0x11])
        #expect(r.properties == [0, 0, 0, 0, 0, 0, 0, 0])
        #expect(r.eventBits[Int(EventType.ff)].count == 16)
        #expect(r.axes.count == 10)
        #expect(r.axes.first == .init(code: 0, minimum: 0, maximum: 4095, fuzz: 15, flat: 255, resolution: 0))
        #expect(r.axes.last == .init(code: 0x11, minimum: -1, maximum: 1, fuzz: 0, flat: 0, resolution: 12))
        #expect(
            r.events == [
                InputEvent(timeMicroseconds: 1, type: 3, code: 0, value: 2048),
                InputEvent(timeMicroseconds: 1, type: 3, code: 0x10, value: -1),
                InputEvent(timeMicroseconds: 1, type: 0, code: 0, value: 0),
                InputEvent(timeMicroseconds: 250_001, type: 4, code: 4, value: 0x90001),
                InputEvent(timeMicroseconds: 250_001, type: 1, code: 0x120, value: 1),
                InputEvent(timeMicroseconds: 250_001, type: 0, code: 0, value: 0),
                InputEvent(timeMicroseconds: 1_500_001, type: 4, code: 4, value: 0x90050),
                InputEvent(timeMicroseconds: 1_500_001, type: 1, code: 0x2FF, value: 1),
                InputEvent(timeMicroseconds: 1_500_001, type: 0, code: 0, value: 0),
            ])
        #expect(r.durationMicroseconds == 1_500_000)
    }

    /// evemu 1.0 (no version line, 5-field A:, absolute wall-clock timestamps).
    @Test func oldAbsoluteTimestampFile() throws {
        var lines = ["N: Logitech-Extreme-3D", "I: 0003 046d c215 0111", "P: 00 00 00 00 00 00 00 00"]
        lines += Fixtures.keyBitLines([0x120, 0x121])
        lines += [
            "B: 03 03 00 00 00 00 00 00 00",
            "A: 00 0 1023 3 63",
            "A: 01 0 1023 3 63",
            "E: 1316171018.997000 0001 0120 1",
            "E: 1316171018.997000 0000 0000 0",
            "E: 1316171019.000500 0003 0000 512",
            "E: 1316171019.247000 0001 0120 0",
            "E: 1316171019.247000 0000 0000 0",
        ]
        let r = try Fixtures.parse(lines.joined(separator: "\n"))
        #expect(r.formatVersion == nil)
        #expect(r.device.name == "Logitech-Extreme-3D")
        #expect(r.device.keys.codes == [0x120, 0x121])
        #expect(r.device.absoluteAxes == [0, 1])
        #expect(r.axes.map(\.resolution) == [0, 0])
        #expect(r.events.count == 5)
        #expect(r.events[0].timeMicroseconds == 1_316_171_018_997_000)
        #expect(r.durationMicroseconds == 250_000)
    }

    @Test func evemu11FiveFieldAxes() throws {
        var lines = ["# EVEMU 1.1", "N: Old Stick", "I: 0003 231d 0125 0100"]
        lines += Fixtures.keyBitLines([0x120])
        lines += ["A: 00 0 4095 15 255", "A: 01 -512 511 0 0", "E: 0.000001 0001 0120 1"]
        let r = try Fixtures.parse(lines.joined(separator: "\n"))
        #expect(r.formatVersion == .init(major: 1, minor: 1))
        #expect(r.axes == [.init(code: 0, minimum: 0, maximum: 4095, fuzz: 15, flat: 255), .init(code: 1, minimum: -512, maximum: 511)])
        #expect(r.device.absoluteAxes == [0, 1])
    }

    @Test func nameKeepsTrailingSpacesButNotTheLineEnding() throws {
        let crlf = "# EVEMU 1.3\r\nN: \(Fixtures.vkbName)\r\nI: 0003 231d 0200 0111\r\n\r\nE: 0.000001 0001 0120 0001\r\n"
        let r = try Fixtures.parse(crlf)
        #expect(r.device.name == Fixtures.vkbName)
        #expect(r.device.name.utf8.count == Fixtures.vkbName.utf8.count)
        #expect(r.events.count == 1)

        // Only the one separator space goes; the rest is name (and a tab-free line stays whole).
        let lf = try Fixtures.parse("N:  lead space  \nI: 3 1 2 3\n")
        #expect(lf.device.name == " lead space  ")
        #expect(lf.device.bus == 3 && lf.device.vendor == 1 && lf.device.product == 2 && lf.device.version == 3)
        #expect(lf.events.isEmpty)
    }

    @Test func bitmaskContinuationLines() throws {
        // Three B: 01 lines carry bytes 0-7, 8-15 and 16-23 (a B: 03 line between them does not
        // break the run): byte 0 bit 0 = code 0, byte 8 bit 1 = code 65, byte 23 bit 0 = code 184.
        let text = """
            N: x
            I: 0003 0001 0002 0003
            B: 01 01 00 00 00 00 00 00 00
            B: 03 01 00 00 00 00 00 00 00
            B: 01 02 00 00 00 00 00 00 00
            B: 01 00 00 00 00 00 00 00 01
            """
        let r = try Fixtures.parse(text)
        #expect(r.device.keys.codes == [0, 65, 184])
        #expect(r.eventBits[1].count == 24)
        #expect(r.device.absoluteAxes == [0])
    }

    @Test func blankLinesCommentsAndUppercaseHex() throws {
        let text = [
            "",
            "# just a comment, no version",
            "   \t",
            "N: Upper",
            "# between",
            "I: 0003 231D 0200 0111",
            "",
            "B: 01 00 00 00 00 00 00 00 00",
            "E: 0.000010 0001 00C0 1   # trailing comment",
            "   # an indented comment among events",
            "",
            "E: 0.000020 0001 00C0 +0",
        ].joined(separator: "\n")
        let r = try Fixtures.parse(text)
        #expect(r.device.vendor == 0x231d)
        #expect(r.events.map(\.code) == [0xC0, 0xC0])
        #expect(r.events.map(\.value) == [1, 0])
    }

    @Test func smallStepBackIsToleratedLargerIsNot() throws {
        let ok = Fixtures.minimal(events: ["E: 2.000000 0001 0120 1", "E: 1.999000 0001 0120 0", "E: 2.000100 0000 0000 0"])
        #expect(try Fixtures.parse(ok).events.count == 3)
    }

    @Test func fileEntryPoint() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("stick.evemu").path
        // Bigger than one read buffer, so the read loop runs several times.
        var events: [String] = []
        for i in 0..<5000 { events.append(String(format: "E: %d.%06d 0003 0000 %d", i / 1000, (i % 1000) * 1000, i)) }
        try Fixtures.v13(events: events).write(toFile: file, atomically: true, encoding: .utf8)

        let r = try EvemuRecording(contentsOfFile: file)
        #expect(r.device.path == file)
        #expect(r.device.name == Fixtures.vkbName)
        #expect(r.events.count == 5000)
        #expect(r.events.last == InputEvent(timeMicroseconds: 4_999_000, type: 3, code: 0, value: 4999))

        let missing = dir.appendingPathComponent("nope.evemu").path
        #expect(throws: EvemuRecordingError.unreadable(path: missing, reason: "No such file or directory")) {
            try EvemuRecording(contentsOfFile: missing)
        }
        #expect(throws: EvemuRecordingError.unreadable(path: dir.path, reason: "is a directory")) {
            try EvemuRecording(contentsOfFile: dir.path)
        }
    }
}

@Suite("EvemuRecording: refused files")
struct EvemuRecordingMalformedTests {
    // `Fixtures.minimal` has 15 description lines, so its first event is line 16.

    private func refusal(events: [String], version: String? = "1.3") -> String? {
        Fixtures.refusal(Fixtures.minimal(events: events, version: version))
    }

    @Test func shortEventLine() {
        #expect(
            refusal(events: ["E: 0.000001 0001 0120 1", "E: 0.1 01"])
                == #"stick.evemu:17: expected "E: <sec>.<usec> <type> <code> <value>", got "E: 0.1 01""#)
    }

    @Test func usecMustHaveSixDigits() {
        #expect(
            refusal(events: ["E: 0.1 0001 0120 1"])
                == #"stick.evemu:16: expected "E: <sec>.<usec> <type> <code> <value>" with a 6-digit <usec>, got "E: 0.1 0001 0120 1""#
        )
    }

    @Test(arguments: [
        "E: 0.000001 00g1 0120 1",  // non-hex type
        "E: 0.000001 0001 0x120 1",  // 0x prefix is not evemu's
        "E: 0.000001 0001 0120 one",  // non-decimal value
        "E: 0.000001 0001 0120 1 2",  // extra field
        "E: 0.000001 0001 0120",  // missing value
        "E: x.000001 0001 0120 1",  // non-decimal seconds
        "E: 0.000001 00001 0120 1",  // type wider than 4 hex digits
        "E: 0.000001 0003 0000 2147483648",  // value beyond Int32
    ])
    func badEventFields(line: String) {
        #expect(refusal(events: [line]) == "stick.evemu:16: expected \"E: <sec>.<usec> <type> <code> <value>\", got \"\(line)\"")
    }

    @Test func eventTypeAboveEVMax() {
        #expect(
            refusal(events: ["E: 0.000001 0020 0000 0"])
                == #"stick.evemu:16: event type 0x20 is above EV_MAX (0x1f), in "E: 0.000001 0020 0000 0""#)
    }

    @Test func keyCodeAboveKeyMax() {
        #expect(
            refusal(events: ["E: 0.000001 0001 02ff 1", "E: 0.000002 0001 0300 1"])
                == #"stick.evemu:17: key code 0x300 is above KEY_MAX (0x2ff): the kernel never delivers it, in "E: 0.000002 0001 0300 1""#
        )
        // Other types may use codes above 0x2ff.
        #expect(refusal(events: ["E: 0.000001 0015 0300 1"]) == nil)
    }

    @Test func timeGoingBackwards() {
        #expect(
            refusal(events: ["E: 2.000000 0001 0120 1", "E: 2.500000 0000 0000 0", "E: 1.000000 0001 0120 0"])
                == #"stick.evemu:18: time goes back from 2.500000 to 1.000000 (more than 0.001000 s): events must be in recorded order, in "E: 1.000000 0001 0120 0""#
        )
    }

    @Test func missingName() {
        #expect(
            Fixtures.refusal("# EVEMU 1.3\n# c\nI: 0003 231d 0200 0111\n")
                == #"stick.evemu:3: expected "N: <device name>", got "I: 0003 231d 0200 0111""#)
        #expect(
            Fixtures.refusal("E: 0.000001 0001 0120 1\n")
                == #"stick.evemu:1: expected "N: <device name>", got "E: 0.000001 0001 0120 1""#)
        #expect(Fixtures.refusal("N: \nI: 0003 231d 0200 0111\n") == #"stick.evemu:1: expected "N: <device name>", got "N: ""#)
        #expect(Fixtures.refusal("") == #"stick.evemu:1: expected "N: <device name>", got end of file"#)
        #expect(Fixtures.refusal("# EVEMU 1.3\n\n# only comments\n") == #"stick.evemu:3: expected "N: <device name>", got end of file"#)
    }

    @Test func missingOrBadID() {
        #expect(
            Fixtures.refusal("N: x\nB: 01 00 00 00 00 00 00 00 00\n")
                == #"stick.evemu:2: expected "I: <bus> <vendor> <product> <version>" (hex), got "B: 01 00 00 00 00 00 00 00 00""#
        )
        #expect(
            Fixtures.refusal("N: x\nI: 0003 231g 0200 0111\n")
                == #"stick.evemu:2: expected "I: <bus> <vendor> <product> <version>" (hex), got "I: 0003 231g 0200 0111""#)
        #expect(
            Fixtures.refusal("N: x\nI: 0003 231d 0200\n")
                == #"stick.evemu:2: expected "I: <bus> <vendor> <product> <version>" (hex), got "I: 0003 231d 0200""#)
        #expect(Fixtures.refusal("N: x\n") == #"stick.evemu:1: expected "I: <bus> <vendor> <product> <version>", got end of file"#)
    }

    @Test func badDescriptionLines() {
        func at4(_ line: String) -> String? { Fixtures.refusal("N: x\nI: 0003 231d 0200 0111\n# c\n\(line)\n") }
        #expect(at4("P: 00 00 00 00 00 00 00") == #"stick.evemu:4: expected "P: <8 hex bytes>", got "P: 00 00 00 00 00 00 00""#)
        #expect(at4("B: 01 00 00 00 00 00 00 00") == #"stick.evemu:4: expected "B: <type> <8 hex bytes>", got "B: 01 00 00 00 00 00 00 00""#)
        #expect(at4("B: 01 00 00 00 00 00 00 00 zz") == #"stick.evemu:4: expected "B: <type> <8 hex bytes>", got "B: 01 00 00 00 00 00 00 00 zz""#)
        #expect(at4("B: 01 00 00 00 00 00 00 00 100") == #"stick.evemu:4: expected "B: <type> <8 hex bytes>", got "B: 01 00 00 00 00 00 00 00 100""#)
        #expect(at4("B: 20 00 00 00 00 00 00 00 00") == #"stick.evemu:4: event type 0x20 is above EV_MAX (0x1f), in "B: 20 00 00 00 00 00 00 00 00""#)
        #expect(at4("A: 00 0 4095 15") == #"stick.evemu:4: expected "A: <code> <min> <max> <fuzz> <flat> [<resolution>]", got "A: 00 0 4095 15""#)
        #expect(at4("A: 00 0 4O95 15 255") == #"stick.evemu:4: expected "A: <code> <min> <max> <fuzz> <flat> [<resolution>]", got "A: 00 0 4O95 15 255""#)
        #expect(at4("A: 40 0 1 0 0 0") == #"stick.evemu:4: axis code 0x40 is above ABS_MAX (0x3f), in "A: 40 0 1 0 0 0""#)
        #expect(at4("L: 00") == #"stick.evemu:4: expected "L: <led> <state>", got "L: 00""#)
        #expect(at4("S: 00 on") == #"stick.evemu:4: expected "S: <switch> <state>", got "S: 00 on""#)
        #expect(at4("X: what") == #"stick.evemu:4: expected a "P:", "B:", "A:", "L:", "S:" or "E:" line, got "X: what""#)
    }

    @Test func axisFieldCountFollowsVersion() {
        let v11 = "# EVEMU 1.1\nN: x\nI: 0003 231d 0200 0111\nA: 00 0 4095 15 255 0\n"
        #expect(
            Fixtures.refusal(v11)
                == #"stick.evemu:4: expected "A: <code> <min> <max> <fuzz> <flat>" (format 1.1 has no resolution), got "A: 00 0 4095 15 255 0""#
        )
        let v13 = "# EVEMU 1.3\nN: x\nI: 0003 231d 0200 0111\nA: 00 0 4095 15 255\n"
        #expect(
            Fixtures.refusal(v13)
                == #"stick.evemu:4: expected "A: <code> <min> <max> <fuzz> <flat> <resolution>" (format 1.3), got "A: 00 0 4095 15 255""#
        )
    }

    @Test func descriptionAfterEvents() {
        #expect(
            refusal(events: ["E: 0.000001 0001 0120 1", "B: 01 00 00 00 00 00 00 00 00"])
                == #"stick.evemu:17: expected "E: <sec>.<usec> <type> <code> <value>", got "B: 01 00 00 00 00 00 00 00 00": device description lines must come before the first "E:" line"#
        )
        #expect(
            refusal(events: ["E: 0.000001 0001 0120 1", "garbage"])
                == #"stick.evemu:17: expected "E: <sec>.<usec> <type> <code> <value>", got "garbage""#)
    }

    @Test func longLinesAreCutInMessages() throws {
        let long = "E: " + String(repeating: "9", count: 300)
        let message = try #require(refusal(events: [long]))
        #expect(message.hasSuffix("…\""))
        #expect(message.count < 250)
    }
}
