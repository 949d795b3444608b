import VKBShift

/// What `systemctl status` shows on its `Status:` line (sent as `STATUS=`): the
/// connection, the endpoint, the bitmap last handed to the sender, and the attached devices.
public struct ServiceStatus: Sendable, Hashable, CustomStringConvertible {
    public enum Connection: Sendable, Hashable {
        /// First attempt in progress.
        case connecting
        case connected
        /// The server is unreachable or went away; the sender keeps retrying.
        case retrying
    }

    public var connection: Connection
    /// `host:port`.
    public var endpoint: String
    public var state: ShiftState
    /// One label per attached device: its `[[device]]` id, else its name.
    public var devices: [String]

    public init(connection: Connection, endpoint: String, state: ShiftState = .clear, devices: [String] = []) {
        self.connection = connection
        self.endpoint = endpoint
        self.state = state
        self.devices = devices
    }

    /// `connected to 127.0.0.1:50995; shift 0x01 subshift 0x04 (shift1+subshift3); devices: left, right`
    public var description: String {
        let link =
            switch connection {
            case .connecting: "connecting to \(endpoint)"
            case .connected: "connected to \(endpoint)"
            case .retrying: "retrying \(endpoint)"
            }
        let bitmap = "shift \(Self.hex(state.shift)) subshift \(Self.hex(state.subshift)) (\(state))"
        let attached = devices.isEmpty ? "no devices" : "devices: " + devices.joined(separator: ", ")
        return "\(link); \(bitmap); \(attached)"
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return "0x" + (digits.count < 2 ? "0" : "") + digits
    }
}
