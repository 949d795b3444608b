import Glibc
import Logging
import NIOConcurrencyHelpers
import SystemPackage

/// A swift-log handler writing one line per record, fit for journald and for terminals.
///
/// Under systemd, when stderr *is* the journal (`JOURNAL_STREAM` names stderr's device and
/// inode), each line starts with a `<N>` syslog priority prefix, which journald strips and
/// stores as `PRIORITY=`; the journal adds time stamps itself. Anywhere else, lines carry a
/// local time stamp and the level in words. Metadata follows the message as `key=value`.
/// The logger's label leads the message unless it is just the program's name, which the
/// journal records anyway (`SYSLOG_IDENTIFIER`).
public struct JournalLogHandler: LogHandler {
    /// How lines are written.
    public enum Style: Sendable, Hashable {
        /// `<6>label: message key=value` for journald's stream protocol.
        case journal
        /// `2026-11-21 16:20:00.123 info label: message key=value`, local time.
        case terminal
    }

    /// Receives each finished record: one or more lines, each ending in `\n`.
    public typealias Output = @Sendable (String) -> Void

    public let label: String
    public let style: Style
    /// The label as printed: empty when it is the program's name.
    private let shownLabel: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: Output
    private let clock: @Sendable () -> timespec

    /// A handler writing to `output`; `clock` gives the terminal style's time stamps.
    public init(
        label: String,
        style: Style,
        logLevel: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil,
        programName: String = JournalLogHandler.programName,
        clock: @escaping @Sendable () -> timespec = JournalLogHandler.realtime,
        output: @escaping Output
    ) {
        self.label = label
        self.shownLabel = label == programName ? "" : label
        self.style = style
        self.logLevel = logLevel
        self.metadataProvider = metadataProvider
        self.clock = clock
        self.output = output
    }

    /// A handler writing to stderr in the style `detectedStyle()` picks.
    public static func standardError(
        label: String, logLevel: Logger.Level, metadataProvider: Logger.MetadataProvider? = nil
    ) -> JournalLogHandler {
        JournalLogHandler(
            label: label, style: detectedStyle(), logLevel: logLevel, metadataProvider: metadataProvider,
            output: writeToStandardError)
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        if let error = event.error { merged["error"] = .string(String(describing: error)) }
        let time = style == .terminal ? clock() : timespec()
        output(
            Self.format(
                style: style, level: event.level, label: shownLabel, message: event.message.description,
                metadata: merged, time: time, utc: false))
    }

    /// `.journal` when stderr is the journal stream, else `.terminal`.
    public static func detectedStyle() -> Style {
        let stream = getenv("JOURNAL_STREAM").map { String(cString: $0) }
        return isJournalStream(stream, fileDescriptor: STDERR_FILENO) ? .journal : .terminal
    }

    /// Whether `value` (`JOURNAL_STREAM`, "device:inode" in decimal) names the file open on
    /// `fileDescriptor`. systemd sets the variable for the stdout/stderr it connects to the
    /// journal; a child that redirected stderr elsewhere must not use the prefix.
    public static func isJournalStream(_ value: String?, fileDescriptor: Int32) -> Bool {
        guard let value else { return false }
        let parts = value.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        var info = stat()
        guard fstat(fileDescriptor, &info) == 0 else { return false }
        return UInt64(info.st_dev) == device && UInt64(info.st_ino) == inode
    }

    /// The running executable's file name (`vkb-bridge`).
    public static let programName = String(CommandLine.arguments.first?.split(separator: "/").last ?? "")

    /// The wall clock.
    @Sendable public static func realtime() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    private static let standardErrorLock = NIOLock()

    /// Writes all of `text` to fd 2 in one locked run, so records from threads never interleave.
    @Sendable public static func writeToStandardError(_ text: String) {
        standardErrorLock.withLock {
            // Nowhere left to report a failing stderr.
            _ = try? FileDescriptor.standardError.writeAll(text.utf8)
        }
    }
}
