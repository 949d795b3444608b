import VKBCore
import VKBInput

/// A readable summary of a valid config, for `check-config`.
public struct ConfigurationSummary: Sendable {
    public let configuration: BridgeConfiguration

    public init(_ configuration: BridgeConfiguration) {
        self.configuration = configuration
    }

    public func text(file: String) -> String {
        let c = configuration
        var lines = ["\(file): OK"]
        let s = c.sender
        lines.append("server: \(s.endpointDescription), header 0x\(String(s.header, radix: 16)), command \(s.command)"
            + (c.clearOnExit ? ", clears the state on exit" : ""))
        lines.append("reconnect: \(s.backoff.initialMilliseconds) ms initial, \(s.backoff.maxMilliseconds) ms max; "
            + "dead peer after \(s.userTimeoutMilliseconds) ms unacknowledged")
        if c.devices.isEmpty {
            lines.append("devices: every joystick (no [[device]] rules)")
        } else {
            lines.append("devices:")
            for d in c.devices {
                var keys: [String] = []
                if let v = d.vendor { keys.append("vendor \(Self.hex4(v))") }
                if let p = d.product { keys.append("product \(Self.hex4(p))") }
                if let n = d.nameContains { keys.append("name contains \"\(n)\"") }
                if let p = d.phys { keys.append("phys \(p)") }
                if let u = d.uniq { keys.append("uniq \(u)") }
                if let p = d.path { keys.append("path \(p)") }
                lines.append("  \(d.id): \(keys.isEmpty ? "any device" : keys.joined(separator: ", "))")
            }
        }
        lines.append("bindings: \(c.bindings.count)")
        for b in c.bindings {
            let button = VKBButton.button(forCode: b.code).map { "VKB button \($0) (\(EvdevCodeNames.keyName(b.code)))" }
                ?? EvdevCodeNames.keyName(b.code)
            lines.append("  \(b.bit) ← \(button), \(b.mode)\(b.device.map { " on \($0)" } ?? "")")
        }
        let unbound = ShiftBit.allCases.filter { bit in !c.bindings.contains { $0.bit == bit } }
        if !unbound.isEmpty { lines.append("unbound bits: \(unbound.map(\.description).joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }

    static func hex4(_ v: UInt16) -> String {
        let s = String(v, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 4 - s.count)) + s
    }
}
