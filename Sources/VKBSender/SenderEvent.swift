import VKBCore

/// The sender's connection state. A new value is published only when it differs
/// from the last one, so retries against an absent server publish nothing new.
public enum ConnectionState: Sendable, Equatable, CustomStringConvertible {
    /// First attempt to reach the endpoint (at start or after it changed).
    case connecting(endpoint: String)
    /// Connected; `peer` is the address the name resolved to.
    case connected(peer: String)
    /// The connection just ended, and why.
    case disconnected(reason: String)
    /// Retrying after failures; `reason` is the latest failure.
    case reconnecting(reason: String)
    /// Shut down on request.
    case stopped

    public var description: String {
        switch self {
        case .connecting(let endpoint): "connecting to \(endpoint)"
        case .connected(let peer): "connected to \(peer)"
        case .disconnected(let reason): "disconnected: \(reason)"
        case .reconnecting(let reason): "reconnecting: \(reason)"
        case .stopped: "stopped"
        }
    }
}

/// Something the sender reports to the daemon, on the sender's event loop.
public enum SenderEvent: Sendable, Equatable {
    case connectionState(ConnectionState)
    /// One connection attempt failed; the next comes after `retryInMilliseconds`.
    /// Published for every attempt: log it at debug level only.
    case attemptFailed(attempt: Int, reason: String, retryInMilliseconds: Int)
    /// The server became unreachable (the connection died, or the first attempt failed).
    case outageBegan(reason: String)
    /// Still unreachable; published at most every `outageReminderSeconds`.
    case outageContinues(seconds: Double, attempts: Int, reason: String)
    /// Reachable again after `seconds` and `attempts` failed attempts.
    case outageEnded(seconds: Double, attempts: Int)
    /// Packets that were written on a connection that died before the server's kernel
    /// acknowledged them (they may never have arrived). The current state is re-sent
    /// first on the next connection, so the server still converges.
    case unacknowledgedOnDeadConnection(packets: Int, lastState: ShiftState)
    /// The outbound queue was full; `total` states were coalesced so far.
    case queueOverflow(total: Int)
}

/// Counters since the sender started.
public struct SenderStatistics: Sendable, Equatable {
    public var connections = 0
    public var connectAttempts = 0
    public var packetsWritten = 0
    /// Packets whose bytes the server's kernel acknowledged (from `SIOCOUTQ`).
    public var packetsAcknowledged = 0
    /// Packets written on connections that died before they were acknowledged.
    public var packetsUnacknowledgedOnDeadConnections = 0
    public var queueOverflows = 0
    /// Bytes the server sent us (VKB-Link documents no reply; drained and counted).
    public var bytesReceived = 0
    /// States queued now because the socket cannot take more.
    public var queued = 0
    /// The last state submitted.
    public var currentState = ShiftState.clear
    /// The last state whose packet the server's kernel acknowledged on the live connection.
    public var acknowledgedState: ShiftState?
    public var isConnected = false

    public init() {}
}
