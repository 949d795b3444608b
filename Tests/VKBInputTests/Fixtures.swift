import Foundation
import VKBCore
import VKBLoop
@testable import VKBInput

/// Recording texts and helpers shared by the replay tests.
enum Fixtures {
    static let vkbName = "VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  "

    /// `B: 01` lines (12 × 8 bytes = KEY_CNT bits) declaring the given codes.
    static func keyBitLines(_ codes: [UInt16]) -> [String] {
        var mask = [UInt8](repeating: 0, count: 96)
        for c in codes { mask[Int(c) / 8] |= 1 << (c % 8) }
        return stride(from: 0, to: 96, by: 8).map { i in
            "B: 01 " + mask[i..<i + 8].map { String(format: "%02x", $0) }.joined(separator: " ")
        }
    }

    /// VKB buttons 1…80.
    static let vkbCodes: [UInt16] = Array(0x120...0x12F) + Array(0x2C0...0x2FF)

    /// An evemu 1.3 file as `evemu-record` writes it: header comments, relative
    /// timestamps from 0.000001, trailing event comments, negative values.
    static func v13(events: [String]) -> String {
        var lines = [
            "# EVEMU 1.3",
            "# Kernel: 6.1.0-13-amd64",
            "# DMI: dmi:bvnLENOVO:bvrN2HET:",
            "# Input device name: \"\(vkbName)\"",
            "# Input device ID: bus 0x03 vendor 0x231d product 0x200 version 0x111",
            "# Supported events:",
            "#   Event type 0 (EV_SYN)",
            "N: \(vkbName)",
            "I: 0003 231d 0200 0111",
            "P: 00 00 00 00 00 00 00 00",
            "B: 00 0b 00 00 00 00 00 00 00",
        ]
        lines += keyBitLines(vkbCodes)
        lines += [
            "B: 02 00 00 00 00 00 00 00 00",
            "B: 03 ff 00 03 00 00 00 00 00",
            "B: 04 10 00 00 00 00 00 00 00",
            "B: 05 00 00 00 00 00 00 00 00",
            "B: 15 00 00 00 00 00 00 00 00",
            "B: 15 00 00 00 00 00 00 00 00",
            "A: 00 0 4095 15 255 0",
            "A: 01 0 4095 15 255 0",
            "A: 02 0 2047 7 127 0",
            "A: 03 0 1023 3 63 0",
            "A: 04 0 1023 3 63 0",
            "A: 05 0 2047 7 127 0",
            "A: 06 0 2047 7 127 0",
            "A: 07 0 2047 7 127 0",
            "A: 10 -1 1 0 0 0",
            "A: 11 -1 1 0 0 12",
            "L: 00 1",
            "S: 00 0",
            "################################",
            "#      Waiting for events      #",
            "################################",
        ]
        lines += events
        return lines.joined(separator: "\n") + "\n"
    }

    /// A minimal description (N:/I:/B: 01 with button 1) followed by `events`.
    static func minimal(events: [String], version: String? = "1.3") -> String {
        var lines: [String] = []
        if let version { lines.append("# EVEMU \(version)") }
        lines += ["N: Test Stick", "I: 0003 231d 0200 0111"]
        lines += keyBitLines([0x120, 0x121, 0x2FF])
        lines += events
        return lines.joined(separator: "\n") + "\n"
    }

    /// Parses under a test file name.
    static func parse(_ text: String, path: String = "test.evemu") throws -> EvemuRecording {
        try EvemuRecording(parsing: text, path: path)
    }

    /// The error text for a text that must be refused (nil if it parsed).
    static func refusal(_ text: String, path: String = "stick.evemu") -> String? {
        do {
            _ = try EvemuRecording(parsing: text, path: path)
            return nil
        } catch {
            return error.description
        }
    }
}

/// Collects a source's or watcher's events across threads.
final class EventLog<Event: Sendable>: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = NSLock()
    private var items: [Event] = []

    func append(_ e: Event) {
        lock.lock()
        items.append(e)
        lock.unlock()
    }

    var events: [Event] {
        lock.lock()
        defer { lock.unlock() }
        return items
    }
}

/// A source read on a loop of the test's own thread, until it ends, fails, `stop`
/// says so, or `limit` passes.
struct LoopReading {
    var events: [DeviceSourceEvent] = []
    var error: (any Error)?
    /// The limit passed before the source ended or failed.
    var timedOut = false

    /// - Parameters:
    ///   - stop: asked after each event; true stops the reader (and the reading).
    ///   - wanted: the codes the bindings read (buttons above 80 need saying).
    ///   - during: runs on the loop right after `open` (to feed a FIFO, to schedule things).
    static func read(
        _ source: any DeviceSource, wanting wanted: KeySet = KeySet(), limit: Duration = .seconds(10),
        stop: @escaping ([DeviceSourceEvent]) -> Bool = { _ in false },
        during: (EpollLoop) -> Void = { _ in }
    ) throws -> LoopReading {
        let loop = try EpollLoop()
        var reading = LoopReading()
        var reader: (any DeviceReader)?
        let timeout = loop.schedule(in: limit) {
            reading.timedOut = true
            loop.stop()
        }
        reader = source.open(
            on: loop, wanting: wanted,
            events: { event in
                reading.events.append(event)
                if event == .ended || stop(reading.events) { loop.stop() }
            },
            failed: { error in
                reading.error = error
                loop.stop()
            })
        during(loop)
        loop.run()
        loop.cancel(timeout)
        reader?.stop()
        loop.close()
        return reading
    }
}
