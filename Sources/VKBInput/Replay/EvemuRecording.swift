import VKBCore

/// A parsed `evemu-record` file: the device description (`N:`, `I:`, `P:`, `B:`, `A:`,
/// `L:`, `S:` lines) and its events (`E:` lines).
///
/// Accepted format (evemu 1.0–1.3, as freedesktop evemu writes and reads it):
/// - an optional `# EVEMU <major>.<minor>` first line; other `#` lines are comments,
///   blank lines are skipped, and any line may end in `\n` or `\r\n`;
/// - `N: <name>` first, then `I: <bus> <vendor> <product> <version>` (hex). The name is
///   everything after the one separator space, untrimmed: VKB names end in two spaces;
/// - then, in any order, `P:` (8 hex property bytes), `B: <type> <8 hex bytes>` (repeated
///   lines for one type continue its bitmask: bit i of byte j is code 8j+i),
///   `A: <code> <min> <max> <fuzz> <flat> [<resolution>]` (code hex, rest decimal; 5 numbers
///   after the code up to format 1.1, 6 from 1.2, either when the file has no version line),
///   `L: <code> <state>` and `S: <code> <state>` (accepted and ignored);
/// - then `E: <sec>.<usec> <type> <code> <value>`: usec exactly 6 digits (as evemu writes
///   it; `0.1` would be ambiguous), type and code hex, value signed decimal, an optional
///   trailing `# comment` (newer evemu adds one). Description lines after the first `E:`
///   line are refused.
///
/// Timestamps may be relative (first ≈ 0, evemu ≥ 2.0) or absolute (older files); only
/// differences matter. An event may be up to `backwardsTolerance` µs earlier than the one
/// before it (replayed without delay); a larger step back is refused, since replaying it
/// would need a negative wait. Events with a type above `EV_MAX` or an `EV_KEY` code
/// above `KEY_MAX` are refused: the kernel never delivers them.
public struct EvemuRecording: Sendable, Hashable {
    /// A `# EVEMU <major>.<minor>` version.
    public struct FormatVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
        public var major: Int
        public var minor: Int

        public init(major: Int, minor: Int) {
            self.major = major
            self.minor = minor
        }

        public static func < (a: Self, b: Self) -> Bool {
            (a.major, a.minor) < (b.major, b.minor)
        }

        public var description: String { "\(major).\(minor)" }
    }

    /// One `A:` line (`struct input_absinfo`).
    public struct AxisInfo: Sendable, Hashable {
        public var code: UInt16
        public var minimum: Int32
        public var maximum: Int32
        public var fuzz: Int32
        public var flat: Int32
        public var resolution: Int32

        public init(code: UInt16, minimum: Int32, maximum: Int32, fuzz: Int32 = 0, flat: Int32 = 0, resolution: Int32 = 0) {
            self.code = code
            self.minimum = minimum
            self.maximum = maximum
            self.fuzz = fuzz
            self.flat = flat
            self.resolution = resolution
        }
    }

    /// How far (µs) an event's time may go back before the file is refused.
    public static let backwardsTolerance: Int64 = 1_000

    /// Name, ids and capabilities; `path` is the recording's path.
    public var device: DeviceDescription
    /// The `# EVEMU x.y` version line, if the file has one.
    public var formatVersion: FormatVersion?
    /// `P:` property bitmap bytes.
    public var properties: [UInt8]
    /// `A:` lines, in file order.
    public var axes: [AxisInfo]
    /// `B:` bitmaps by event type (index = type, 0…`EV_MAX`); empty for types not given.
    public var eventBits: [[UInt8]]
    /// The `E:` lines, in file order.
    public var events: [InputEvent]

    public init(
        device: DeviceDescription, formatVersion: FormatVersion? = nil, properties: [UInt8] = [],
        axes: [AxisInfo] = [], eventBits: [[UInt8]] = [], events: [InputEvent] = []
    ) {
        self.device = device
        self.formatVersion = formatVersion
        self.properties = properties
        self.axes = axes
        self.eventBits = eventBits
        self.events = events
    }

    /// Parses recording text. `path` names the source in error messages and becomes
    /// `device.path`.
    public init(parsing text: String, path: String = "<recording>") throws(EvemuRecordingError) {
        var text = text
        // withUTF8 only rethrows untyped errors: carry the typed one out in a Result.
        let result = text.withUTF8 { buffer in
            var parser = EvemuParser(path: path, bytes: UnsafeRawBufferPointer(buffer))
            return Result { () throws(EvemuRecordingError) in try parser.parse() }
        }
        self = try result.get()
    }

    /// Parses recording bytes (UTF-8).
    public init(parsing bytes: [UInt8], path: String = "<recording>") throws(EvemuRecordingError) {
        let result = bytes.withUnsafeBytes { buffer in
            var parser = EvemuParser(path: path, bytes: buffer)
            return Result { () throws(EvemuRecordingError) in try parser.parse() }
        }
        self = try result.get()
    }

    /// Reads and parses the recording at `path`.
    public init(contentsOfFile path: String) throws(EvemuRecordingError) {
        let bytes = try Self.readFile(path)
        try self.init(parsing: bytes, path: path)
    }

    /// Time from the first to the last event, in microseconds.
    public var durationMicroseconds: Int64 {
        guard let first = events.first, let last = events.last else { return 0 }
        return max(0, last.timeMicroseconds - first.timeMicroseconds)
    }
}
