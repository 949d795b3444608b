import VKBCore
import VKBSender

/// What `systemctl status` shows on its `Status:` line (sent as `STATUS=`): the
/// connection, the endpoint, the bitmap last handed to the sender, and the attached devices.
public struct ServiceStatus: Sendable, Equatable, CustomStringConvertible {
    /// The sender's latest connection state.
    public var connection: ConnectionState
    /// The configured endpoint, `host:port` (`SenderConfiguration.endpointDescription`).
    public var endpoint: String
    public var state: ShiftState
    /// One label per attached device: its `[[device]]` id, else its name.
    public var devices: [String]

    public init(connection: ConnectionState, endpoint: String, state: ShiftState = .clear, devices: [String] = []) {
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
            case .connected(let peer) where peer == endpoint: "connected to \(endpoint)"
            case .connected(let peer): "connected to \(endpoint) (\(peer))"
            case .disconnected(let reason): "disconnected from \(endpoint): \(reason)"
            case .reconnecting(let reason): "retrying \(endpoint): \(reason)"
            case .stopped: "stopped"
            }
        let bitmap = "shift \(Hex.prefixed(state.shift, digits: 2)) subshift \(Hex.prefixed(state.subshift, digits: 2)) (\(state))"
        let attached = devices.isEmpty ? "no devices" : "devices: " + devices.joined(separator: ", ")
        return "\(link); \(bitmap); \(attached)"
    }
}
