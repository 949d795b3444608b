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
        lines.append("server: \(s.endpointDescription), header \(Hex.prefixed(s.header)), command \(s.command)"
            + (c.clearOnExit ? ", clears the state on exit" : ""))
        lines.append("reconnect: \(s.backoff.initialMilliseconds) ms initial, \(s.backoff.maxMilliseconds) ms max; "
            + "dead peer after \(s.userTimeoutMilliseconds) ms unacknowledged")
        if c.devices.isEmpty {
            lines.append("devices: every joystick (no [[device]] rules)")
        } else {
            lines.append("devices:")
            for d in c.devices {
                var keys: [String] = []
                if let v = d.vendor { keys.append("vendor \(Hex.prefixed(v, digits: 4))") }
                if let p = d.product { keys.append("product \(Hex.prefixed(p, digits: 4))") }
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
        let high = c.bindings.compactMap { KeyCode.isHidraw($0.code) ? VKBButton.button(forCode: $0.code) : nil }
        if !high.isEmpty {
            lines.append("hidraw: buttons \(Set(high).sorted().map(String.init).joined(separator: ", ")) are read from each "
                + "matched stick's /dev/hidrawN (evdev stops at 80); it needs read access, which the udev rule "
                + "70-vkb-bridge.rules gives, and wakes the daemon for every input report")
        }
        return lines.joined(separator: "\n")
    }
}
