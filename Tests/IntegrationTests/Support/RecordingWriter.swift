import Foundation
import VKBCore
import VKBInput

/// Writes small evemu recordings of a VKB Gladiator for tests: the demo recording's
/// header and the key events given, each followed by a SYN_REPORT.
enum RecordingWriter {
    struct Press: Sendable {
        var seconds: Double
        var button: Int
        var down: Bool
    }

    /// The header (device description) of the shipped demo recording, examples/demo.evemu:
    /// a Gladiator NXT EVO R with 80 buttons, 8 axes and a hat.
    static let header: String = {
        let demo = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("examples/demo.evemu")
        let text = (try? String(contentsOf: demo, encoding: .utf8)) ?? ""
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.hasPrefix("E:") }
            .filter { !$0.hasPrefix("#") || $0.hasPrefix("# EVEMU") }
            .joined(separator: "\n") + "\n"
    }()

    /// Recording text for `presses` (times in seconds from the start of the recording).
    static func text(_ presses: [Press]) -> String {
        // Timestamps are relative to the first event, so the recording starts with a
        // report at 0 for the presses' own times to count from it.
        var lines = ["E: 0.000000 0000 0000 0000"]
        for p in presses {
            let code = try! VKBButton.code(forButton: p.button).get()
            let t = stamp(p.seconds)
            lines.append("E: \(t) 0004 0004 \(0x90000 + p.button)")
            lines.append("E: \(t) 0001 \(hex4(code)) \(p.down ? 1 : 0)")
            lines.append("E: \(t) 0000 0000 0000")
        }
        return header + lines.joined(separator: "\n") + "\n"
    }

    /// Writes the recording into `directory` and returns its path.
    static func write(_ presses: [Press], named name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try text(presses).write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    private static func stamp(_ seconds: Double) -> String {
        let micros = Int((seconds * 1_000_000).rounded())
        let frac = String(micros % 1_000_000)
        return "\(micros / 1_000_000).\(String(repeating: "0", count: 6 - frac.count))\(frac)"
    }

    private static func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }
}
