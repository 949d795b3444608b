import Glibc
import VKBCore

/// One line of the sink's output. The keys are a contract: tests and users decode them.
enum SinkEvent: Sendable {
    case connect(conn: Int, peer: String)
    case packet(conn: Int, state: ShiftState, raw: [UInt8])
    case malformed(conn: Int, raw: [UInt8], reason: String)
    case disconnect(conn: Int, reason: String, packets: Int)

    /// The JSON object, on one line, keys in a fixed order, `time` stamped now.
    func jsonLine(time: String = SinkEvent.now()) -> String {
        var fields: [(String, String)]
        switch self {
        case .connect(let conn, let peer):
            fields = [("event", quoted("connect")), ("conn", "\(conn)"), ("time", time), ("peer", quoted(peer))]
        case .packet(let conn, let state, let raw):
            fields = [
                ("event", quoted("packet")), ("conn", "\(conn)"), ("time", time),
                ("shift", "\(state.shift)"), ("subshift", "\(state.subshift)"), ("raw", quoted(hex(raw))),
            ]
        case .malformed(let conn, let raw, let reason):
            fields = [
                ("event", quoted("malformed")), ("conn", "\(conn)"), ("time", time),
                ("raw", quoted(hex(raw))), ("reason", quoted(reason)),
            ]
        case .disconnect(let conn, let reason, let packets):
            fields = [
                ("event", quoted("disconnect")), ("conn", "\(conn)"), ("time", time),
                ("reason", quoted(reason)), ("packets", "\(packets)"),
            ]
        }
        return "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}\n"
    }

    /// Wall-clock Unix time in seconds with microseconds, e.g. `1732200000.123456`.
    static func now() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let micros = String(ts.tv_nsec / 1000)
        return "\(ts.tv_sec)." + String(repeating: "0", count: 6 - micros.count) + micros
    }
}

/// Lower-case hex without separators: `a50d000401000000`.
private func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
        out.append(digits[Int(b >> 4)])
        out.append(digits[Int(b & 0xF)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// A JSON string literal. Hand-written because the sink must not pull in Foundation,
/// and its strings are short and mostly ASCII.
private func quoted(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20:
            let code = String(scalar.value, radix: 16)
            out += "\\u" + String(repeating: "0", count: 4 - code.count) + code
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out + "\""
}
