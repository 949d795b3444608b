import Foundation
import VKBInput

/// Writes small evemu recordings of a VKB Gladiator for tests: a fixed header and the
/// key events given, each followed by a SYN_REPORT.
enum RecordingWriter {
    struct Press: Sendable {
        var seconds: Double
        var button: Int
        var down: Bool
    }

    static let header = """
        # EVEMU 1.3
        N: VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  
        I: 0003 231d 0200 0111
        P: 00 00 00 00 00 00 00 00
        B: 00 1b 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 ff ff 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 00 00 00 00 00 00 00 00
        B: 01 ff ff ff ff ff ff ff ff
        B: 03 ff 00 00 00 00 00 00 00
        B: 04 10 00 00 00 00 00 00 00
        A: 00 0 4095 15 255 0
        A: 01 0 4095 15 255 0
        A: 02 0 2047 7 127 0
        A: 03 0 1023 3 63 0
        A: 04 0 1023 3 63 0
        A: 05 0 2047 7 127 0
        A: 06 0 4095 15 255 0
        A: 07 0 4095 15 255 0

        """

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
