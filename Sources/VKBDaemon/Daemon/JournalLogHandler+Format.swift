import Glibc
import Logging

extension JournalLogHandler {
    /// The syslog priority journald stores for `level` (`PRIORITY=`, `journalctl -p`).
    public static func syslogPriority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    /// One record as text. Journal style prefixes *every* line with the priority, because
    /// journald reads each line of the stream as its own entry.
    static func format(
        style: Style, level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
        time: timespec, utc: Bool
    ) -> String {
        var body = label.isEmpty ? message : "\(label): \(message)"
        let rendered = render(metadata)
        if !rendered.isEmpty { body += " " + rendered }
        while body.last?.isNewline == true { body.removeLast() }
        switch style {
        case .journal:
            let prefix = "<\(syslogPriority(level))>"
            return body.split(separator: "\n", omittingEmptySubsequences: false)
                .map { prefix + $0 + "\n" }
                .joined()
        case .terminal:
            return "\(timestamp(time, utc: utc)) \(level) \(body)\n"
        }
    }

    /// `a=1 b="two words"`, keys sorted.
    static func render(_ metadata: Logger.Metadata) -> String {
        metadata.keys.sorted().map { "\($0)=\(render(metadata[$0]!))" }.joined(separator: " ")
    }

    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let s): quoted(s)
        case .stringConvertible(let c): quoted(c.description)
        case .array(let items): "[" + items.map(render).joined(separator: ",") + "]"
        case .dictionary(let d): "{" + d.keys.sorted().map { "\($0)=\(render(d[$0]!))" }.joined(separator: ",") + "}"
        }
    }

    /// Quotes a value only when it would not read back as one token.
    static func quoted(_ s: String) -> String {
        let plain = !s.isEmpty && s.unicodeScalars.allSatisfy { c in
            c.value > 0x20 && !(0x7F..<0xA0).contains(c.value) && c.value != 0x2028 && c.value != 0x2029
                && c != "\"" && c != "\\" && c != "=" && c != ","
                && c != "[" && c != "]" && c != "{" && c != "}"
        }
        if plain { return s }
        return "\"" + LineEscaping.escaped(s) + "\""
    }

    /// `2026-11-21 16:20:00.123`, local time unless `utc`.
    static func timestamp(_ time: timespec, utc: Bool) -> String {
        var seconds = time.tv_sec
        var parts = tm()
        if utc { gmtime_r(&seconds, &parts) } else { localtime_r(&seconds, &parts) }
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        let date = "\(pad(Int(parts.tm_year) + 1900, 4))-\(pad(Int(parts.tm_mon) + 1, 2))-\(pad(Int(parts.tm_mday), 2))"
        let clock = "\(pad(Int(parts.tm_hour), 2)):\(pad(Int(parts.tm_min), 2)):\(pad(Int(parts.tm_sec), 2))"
        return "\(date) \(clock).\(pad(Int(time.tv_nsec) / 1_000_000, 3))"
    }
}
