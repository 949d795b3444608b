#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import VKBCore

/// One pass over a recording's bytes, line by line, without building per-line strings:
/// `E:` lines (nearly all of a file) are scanned in place. The format is documented on
/// `EvemuRecording`.
struct EvemuParser {
    private let path: String
    private let bytes: UnsafeRawBufferPointer

    private enum Stage { case name, id, description, events }
    private var stage = Stage.name
    private var lineNumber = 0
    private var sawContent = false

    private var name = ""
    private var ids: [UInt16] = [0, 0, 0, 0]
    private var formatVersion: EvemuRecording.FormatVersion?
    private var properties: [UInt8] = []
    private var eventBits = Array(repeating: [UInt8](), count: Int(EventType.max) + 1)
    private var axes: [EvemuRecording.AxisInfo] = []
    private var events: [InputEvent] = []
    private var latestTime = Int64.min

    static let eventFormat = "\"E: <sec>.<usec> <type> <code> <value>\""
    static let absMax: UInt32 = 0x3f

    init(path: String, bytes: UnsafeRawBufferPointer) {
        self.path = path
        self.bytes = bytes
    }

    mutating func parse() throws(EvemuRecordingError) -> EvemuRecording {
        events.reserveCapacity(bytes.count / 32)
        let end = bytes.count
        var pos = 0
        while pos < end {
            lineNumber += 1
            let start = pos
            var lineEnd = end
            if let found = memchr(bytes.baseAddress! + start, 0x0A, end - start) {
                lineEnd = bytes.baseAddress!.distance(to: UnsafeRawPointer(found))
            }
            pos = lineEnd + 1
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            try line(start, lineEnd)
        }
        switch stage {
        case .name: throw malformed("expected \"N: <device name>\", got end of file", line: max(lineNumber, 1))
        case .id: throw malformed("expected \"I: <bus> <vendor> <product> <version>\", got end of file", line: max(lineNumber, 1))
        case .description, .events: break
        }

        var absCodes = Set<UInt16>()
        for (byteIndex, byte) in eventBits[Int(EventType.abs)].enumerated() where byte != 0 {
            for bit in 0..<8 where byte & (1 << bit) != 0 { absCodes.insert(UInt16(byteIndex * 8 + bit)) }
        }
        for axis in axes { absCodes.insert(axis.code) }
        let device = DeviceDescription(
            name: name, bus: ids[0], vendor: ids[1], product: ids[2], version: ids[3], path: path,
            keys: KeySet(bitmap: eventBits[Int(EventType.key)]), absoluteAxes: absCodes.sorted()
        )
        return EvemuRecording(
            device: device, formatVersion: formatVersion, properties: properties, axes: axes,
            eventBits: eventBits, events: events
        )
    }

    // MARK: Lines

    private mutating func line(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        // The hot path: an event line.
        if e - s >= 2 && bytes[s] == UInt8(ascii: "E") && bytes[s + 1] == UInt8(ascii: ":") {
            switch stage {
            case .name: throw expectedName(s, e)
            case .id: throw expectedID(s, e)
            case .description: stage = .events
            case .events: break
            }
            try event(s, e)
            return
        }

        var first = s
        while first < e && isBlank(bytes[first]) { first += 1 }
        if first == e { return }
        if bytes[first] == UInt8(ascii: "#") {
            if !sawContent { versionComment(first, e) }
            sawContent = true
            return
        }
        sawContent = true

        let tag: UInt8 = e - s >= 2 && bytes[s + 1] == UInt8(ascii: ":") ? bytes[s] : 0
        switch stage {
        case .name:
            guard tag == UInt8(ascii: "N") else { throw expectedName(s, e) }
            try nameLine(s, e)
            stage = .id
        case .id:
            guard tag == UInt8(ascii: "I") else { throw expectedID(s, e) }
            try idLine(s, e)
            stage = .description
        case .description:
            switch tag {
            case UInt8(ascii: "P"): try propertyLine(s, e)
            case UInt8(ascii: "B"): try bitsLine(s, e)
            case UInt8(ascii: "A"): try axisLine(s, e)
            case UInt8(ascii: "L"): try stateLine(s, e, format: "\"L: <led> <state>\"")
            case UInt8(ascii: "S"): try stateLine(s, e, format: "\"S: <switch> <state>\"")
            default:
                throw malformed(
                    "expected a \"P:\", \"B:\", \"A:\", \"L:\", \"S:\" or \"E:\" line, got \(quoted(s, e))")
            }
        case .events:
            switch tag {
            case UInt8(ascii: "N"), UInt8(ascii: "I"), UInt8(ascii: "P"), UInt8(ascii: "B"),
                UInt8(ascii: "A"), UInt8(ascii: "L"), UInt8(ascii: "S"):
                throw malformed(
                    "expected \(Self.eventFormat), got \(quoted(s, e)): device description lines must come before the first \"E:\" line"
                )
            default:
                throw malformed("expected \(Self.eventFormat), got \(quoted(s, e))")
            }
        }
    }

    /// `# EVEMU 1.3` on the first non-blank line sets the format version; anything else is a comment.
    private mutating func versionComment(_ s: Int, _ e: Int) {
        var i = s + 1
        skipBlanks(&i, e)
        for ch in "EVEMU".utf8 {
            guard i < e, bytes[i] == ch else { return }
            i += 1
        }
        guard skipBlanks(&i, e) > 0, let major = decimalDigits(&i, e, maxDigits: 4),
            i < e, bytes[i] == UInt8(ascii: ".")
        else { return }
        i += 1
        guard let minor = decimalDigits(&i, e, maxDigits: 4) else { return }
        skipBlanks(&i, e)
        guard i == e else { return }
        formatVersion = .init(major: Int(major), minor: Int(minor))
    }

    private mutating func nameLine(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        var i = s + 2
        // Exactly one separator space: the rest, trailing spaces included, is the kernel name.
        if i < e && bytes[i] == UInt8(ascii: " ") { i += 1 }
        guard i < e else { throw expectedName(s, e) }
        name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[i..<e]), as: UTF8.self)
    }

    private mutating func idLine(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        let f = fields(s + 2, e)
        guard f.count == 4 else { throw expectedID(s, e) }
        for (k, field) in f.enumerated() {
            guard let v = hex(field, maxDigits: 4) else { throw expectedID(s, e) }
            ids[k] = UInt16(v)
        }
    }

    private mutating func propertyLine(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        let f = fields(s + 2, e)
        let format = "expected \"P: <8 hex bytes>\", got \(quoted(s, e))"
        guard f.count == 8 else { throw malformed(format) }
        for field in f {
            guard let v = hex(field, maxDigits: 2) else { throw malformed(format) }
            properties.append(UInt8(v))
        }
    }

    private mutating func bitsLine(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        let f = fields(s + 2, e)
        let format = "expected \"B: <type> <8 hex bytes>\", got \(quoted(s, e))"
        guard f.count == 9, let type = hex(f[0], maxDigits: 2) else { throw malformed(format) }
        guard type <= UInt32(EventType.max) else {
            throw malformed("event type \(Hex.prefixed(type)) is above EV_MAX (0x1f), in \(quoted(s, e))")
        }
        for field in f.dropFirst() {
            guard let v = hex(field, maxDigits: 2) else { throw malformed(format) }
            eventBits[Int(type)].append(UInt8(v))
        }
    }

    private mutating func axisLine(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        let f = fields(s + 2, e)
        // Resolution arrived with format 1.2; without a version line either form is clear.
        let allowed: ClosedRange<Int>
        let format: String
        switch formatVersion {
        case .some(let v) where v <= .init(major: 1, minor: 1):
            allowed = 5...5
            format = "\"A: <code> <min> <max> <fuzz> <flat>\" (format \(v) has no resolution)"
        case .some(let v):
            allowed = 6...6
            format = "\"A: <code> <min> <max> <fuzz> <flat> <resolution>\" (format \(v))"
        case .none:
            allowed = 5...6
            format = "\"A: <code> <min> <max> <fuzz> <flat> [<resolution>]\""
        }
        guard allowed.contains(f.count), let code = hex(f[0], maxDigits: 2) else {
            throw malformed("expected \(format), got \(quoted(s, e))")
        }
        guard code <= Self.absMax else {
            throw malformed("axis code \(Hex.prefixed(code)) is above ABS_MAX (0x3f), in \(quoted(s, e))")
        }
        var values: [Int32] = []
        for field in f.dropFirst() {
            guard let v = signedDecimal(field) else { throw malformed("expected \(format), got \(quoted(s, e))") }
            values.append(v)
        }
        axes.append(
            .init(
                code: UInt16(code), minimum: values[0], maximum: values[1], fuzz: values[2], flat: values[3],
                resolution: values.count > 4 ? values[4] : 0))
    }

    private func stateLine(_ s: Int, _ e: Int, format: String) throws(EvemuRecordingError) {
        let f = fields(s + 2, e)
        guard f.count == 2, hex(f[0], maxDigits: 4) != nil, signedDecimal(f[1]) != nil else {
            throw malformed("expected \(format), got \(quoted(s, e))")
        }
    }

    /// `E: <sec>.<usec> <type> <code> <value>[ # comment]`, scanned in place.
    private mutating func event(_ s: Int, _ e: Int) throws(EvemuRecordingError) {
        var i = s + 2
        skipBlanks(&i, e)
        guard let sec = decimalDigits(&i, e, maxDigits: 12), i < e, bytes[i] == UInt8(ascii: ".") else {
            throw malformed("expected \(Self.eventFormat), got \(quoted(s, e))")
        }
        i += 1
        let usecStart = i
        let usec = decimalDigits(&i, e, maxDigits: 7)
        let usecDigits = i - usecStart
        guard usec != nil, skipBlanks(&i, e) > 0, let type = hexDigits(&i, e, maxDigits: 4),
            skipBlanks(&i, e) > 0, let code = hexDigits(&i, e, maxDigits: 4),
            skipBlanks(&i, e) > 0, let value = signedDecimal(&i, e),
            restIsComment(&i, e)
        else {
            throw malformed("expected \(Self.eventFormat), got \(quoted(s, e))")
        }
        // evemu always writes 6 digits; "0.1" would mean 1 µs to evemu but 0.1 s to a reader.
        guard usecDigits == 6, let usec else {
            throw malformed("expected \(Self.eventFormat) with a 6-digit <usec>, got \(quoted(s, e))")
        }
        guard type <= UInt32(EventType.max) else {
            throw malformed("event type \(Hex.prefixed(type)) is above EV_MAX (0x1f), in \(quoted(s, e))")
        }
        if type == UInt32(EventType.key) && code > UInt32(KeyCode.max) {
            throw malformed(
                "key code \(Hex.prefixed(code)) is above KEY_MAX (0x2ff): the kernel never delivers it, in \(quoted(s, e))")
        }
        let time = Int64(sec) * 1_000_000 + Int64(usec)
        if latestTime != .min && time < latestTime - EvemuRecording.backwardsTolerance {
            throw malformed(
                "time goes back from \(timeText(latestTime)) to \(timeText(time)) (more than \(timeText(EvemuRecording.backwardsTolerance)) s): events must be in recorded order, in \(quoted(s, e))"
            )
        }
        if time > latestTime { latestTime = time }
        events.append(InputEvent(timeMicroseconds: time, type: UInt16(type), code: UInt16(code), value: value))
    }

    // MARK: Scanning

    @inline(__always)
    private func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 }

    /// Skips spaces and tabs; returns how many.
    @inline(__always) @discardableResult
    private func skipBlanks(_ i: inout Int, _ e: Int) -> Int {
        let start = i
        while i < e && isBlank(bytes[i]) { i += 1 }
        return i - start
    }

    /// Whether only blanks and an optional `#` comment follow.
    @inline(__always)
    private func restIsComment(_ i: inout Int, _ e: Int) -> Bool {
        skipBlanks(&i, e)
        return i == e || bytes[i] == UInt8(ascii: "#")
    }

    /// 1…maxDigits decimal digits, followed by a non-digit or the end.
    @inline(__always)
    private func decimalDigits(_ i: inout Int, _ e: Int, maxDigits: Int) -> UInt64? {
        let start = i
        var v: UInt64 = 0
        while i < e {
            let d = bytes[i] &- UInt8(ascii: "0")
            guard d < 10 else { break }
            guard i - start < maxDigits else { return nil }
            v = v * 10 + UInt64(d)
            i += 1
        }
        return i > start ? v : nil
    }

    /// 1…maxDigits hex digits (either case, no `0x`), followed by a blank, `#` or the end.
    @inline(__always)
    private func hexDigits(_ i: inout Int, _ e: Int, maxDigits: Int) -> UInt32? {
        let start = i
        var v: UInt32 = 0
        while i < e {
            let b = bytes[i]
            let d: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = b - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = b - UInt8(ascii: "A") + 10
            default:
                guard isBlank(b) || b == UInt8(ascii: "#"), i > start else { return nil }
                return v
            }
            guard i - start < maxDigits else { return nil }
            v = v << 4 | UInt32(d)
            i += 1
        }
        return i > start ? v : nil
    }

    /// An optionally signed decimal that fits `Int32`, followed by a blank, `#` or the end.
    @inline(__always)
    private func signedDecimal(_ i: inout Int, _ e: Int) -> Int32? {
        var negative = false
        if i < e && (bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+")) {
            negative = bytes[i] == UInt8(ascii: "-")
            i += 1
        }
        guard let magnitude = decimalDigits(&i, e, maxDigits: 11) else { return nil }
        guard i == e || isBlank(bytes[i]) || bytes[i] == UInt8(ascii: "#") else { return nil }
        let v = negative ? -Int64(magnitude) : Int64(magnitude)
        return Int32(exactly: v)
    }

    private func hex(_ field: Range<Int>, maxDigits: Int) -> UInt32? {
        var i = field.lowerBound
        guard let v = hexDigits(&i, field.upperBound, maxDigits: maxDigits), i == field.upperBound else { return nil }
        return v
    }

    private func signedDecimal(_ field: Range<Int>) -> Int32? {
        var i = field.lowerBound
        guard let v = signedDecimal(&i, field.upperBound), i == field.upperBound else { return nil }
        return v
    }

    /// Blank-separated fields up to the end or a `#` comment.
    private func fields(_ s: Int, _ e: Int) -> [Range<Int>] {
        var result: [Range<Int>] = []
        var i = s
        while true {
            skipBlanks(&i, e)
            guard i < e, bytes[i] != UInt8(ascii: "#") else { return result }
            let start = i
            while i < e && !isBlank(bytes[i]) { i += 1 }
            result.append(start..<i)
        }
    }

    // MARK: Errors

    private func malformed(_ message: String, line: Int? = nil) -> EvemuRecordingError {
        .malformed(path: path, line: line ?? lineNumber, message: message)
    }

    private func expectedName(_ s: Int, _ e: Int) -> EvemuRecordingError {
        malformed("expected \"N: <device name>\", got \(quoted(s, e))")
    }

    private func expectedID(_ s: Int, _ e: Int) -> EvemuRecordingError {
        malformed("expected \"I: <bus> <vendor> <product> <version>\" (hex), got \(quoted(s, e))")
    }

    /// The offending line, quoted and cut to a readable length.
    private func quoted(_ s: Int, _ e: Int) -> String {
        let limit = 120
        let cut = min(e, s + limit)
        var text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[s..<cut]), as: UTF8.self)
        if cut < e { text += "…" }
        return "\"" + text + "\""
    }


    /// `12.000345`.
    private func timeText(_ microseconds: Int64) -> String {
        let sign = microseconds < 0 ? "-" : ""
        let m = microseconds.magnitude
        let frac = String(m % 1_000_000)
        return sign + String(m / 1_000_000) + "." + String(repeating: "0", count: 6 - frac.count) + frac
    }
}
