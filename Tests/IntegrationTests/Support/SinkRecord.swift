import Foundation
import VKBCore

/// One JSON line of `vkb-telemetry-sink`, decoded and typed.
struct SinkRecord: Sendable, Equatable, CustomStringConvertible {
    /// What the line reports.
    enum Event: Sendable, Hashable {
        case connect(peer: String)
        case packet(ShiftState, raw: [UInt8])
        case malformed(raw: [UInt8], reason: String)
        case disconnect(reason: String, packets: Int)
        /// A line that is not one of the above (a sink bug); `problem` says why.
        case unparsable(problem: String)
    }

    /// Which sink process wrote it: 0 for the first, +1 per `SinkProcess.restart()`.
    let run: Int
    /// Connection number within the run (each run counts from 1); 0 for unparsable lines.
    let conn: Int
    /// Unix time in seconds, as the sink wrote it.
    let time: Double
    let event: Event
    /// The line as written.
    let line: String

    /// The state, for a packet.
    var state: ShiftState? {
        if case .packet(let state, _) = event { state } else { nil }
    }

    var description: String { "run \(run): \(line)" }

    /// Decodes one output line; never fails (bad lines become `.unparsable`).
    init(line: String, run: Int) {
        self.line = line
        self.run = run
        let wire = Result { try JSONDecoder().decode(Wire.self, from: Data(line.utf8)) }
        conn = (try? wire.get().conn) ?? 0
        time = (try? wire.get().time) ?? 0
        do {
            event = try wire.get().decoded()
        } catch {
            event = .unparsable(problem: "\(error)")
        }
    }

    /// The JSON keys, exactly as the sink writes them.
    private struct Wire: Decodable {
        var event: String
        var conn: Int
        var time: Double
        var peer: String?
        var shift: UInt8?
        var subshift: UInt8?
        var raw: String?
        var reason: String?
        var packets: Int?

        func decoded() throws -> Event {
            func need<T>(_ value: T?, _ key: String) throws -> T {
                guard let value else { throw HarnessError("\"\(event)\" line without \"\(key)\"") }
                return value
            }
            switch event {
            case "connect":
                return .connect(peer: try need(peer, "peer"))
            case "packet":
                let shift = try need(shift, "shift"), subshift = try need(subshift, "subshift")
                let state = ShiftState(shift: shift, subshift: subshift)
                guard state.shift == shift, state.subshift == subshift else {
                    throw HarnessError("packet bits outside the masks: shift \(shift), subshift \(subshift)")
                }
                return .packet(state, raw: try Self.bytes(hex: need(raw, "raw")))
            case "malformed":
                return .malformed(raw: try Self.bytes(hex: need(raw, "raw")), reason: try need(reason, "reason"))
            case "disconnect":
                return .disconnect(reason: try need(reason, "reason"), packets: try need(packets, "packets"))
            default:
                throw HarnessError("unknown event \"\(event)\"")
            }
        }

        static func bytes(hex: String) throws -> [UInt8] {
            let digits = Array(hex.utf8)
            guard digits.count % 2 == 0 else { throw HarnessError("odd-length hex \"\(hex)\"") }
            return try stride(from: 0, to: digits.count, by: 2).map { i in
                guard let byte = UInt8(String(decoding: digits[i..<(i + 2)], as: UTF8.self), radix: 16) else {
                    throw HarnessError("bad hex \"\(hex)\"")
                }
                return byte
            }
        }
    }
}

/// A packet the sink received.
struct SinkPacket: Sendable, Equatable {
    let run: Int
    let conn: Int
    let time: Double
    let state: ShiftState
    let raw: [UInt8]
}
