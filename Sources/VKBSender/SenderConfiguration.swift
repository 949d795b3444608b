import VKBWire

/// How the sender reaches the server and how hard it tries.
public struct SenderConfiguration: Sendable, Equatable {
    /// Host name or address (IPv4 or IPv6), resolved again on every attempt.
    public var host: String
    public var port: Int
    /// Packet header and command bytes (VKB-Link defaults 0xA5, 13).
    public var header: UInt8
    public var command: UInt8
    public var backoff: Backoff.Policy
    /// `TCP_USER_TIMEOUT`: how long written data may stay unacknowledged before the
    /// kernel gives up on the connection. Also bounds the keepalive probing below.
    public var userTimeoutMilliseconds: Int
    /// `TCP_KEEPIDLE`, `TCP_KEEPINTVL` (seconds) and `TCP_KEEPCNT`: how soon an idle
    /// connection to a silently vanished peer is found dead.
    public var keepaliveIdleSeconds: Int
    public var keepaliveIntervalSeconds: Int
    public var keepaliveCount: Int
    /// Gives up a single connect attempt after this long.
    public var connectTimeoutMilliseconds: Int
    /// States held while the socket cannot take more. When full, the newest state
    /// replaces the last queued one and the overflow is counted.
    public var queueCapacity: Int
    /// While the server stays unreachable, the log is reminded at most this often.
    public var outageReminderSeconds: Int
    /// Re-sends the current state this often while connected; 0 (the default) never
    /// does, so an idle bridge has no periodic wake-ups.
    public var refreshIntervalMilliseconds: Int

    public init(
        host: String = "127.0.0.1",
        port: Int = 50995,
        header: UInt8 = VKBShiftBitmapPacket.defaultHeader,
        command: UInt8 = VKBShiftBitmapPacket.defaultCommand,
        backoff: Backoff.Policy = .init(),
        userTimeoutMilliseconds: Int = 3000,
        keepaliveIdleSeconds: Int = 2,
        keepaliveIntervalSeconds: Int = 1,
        keepaliveCount: Int = 3,
        connectTimeoutMilliseconds: Int = 2000,
        queueCapacity: Int = 1024,
        outageReminderSeconds: Int = 300,
        refreshIntervalMilliseconds: Int = 0
    ) {
        self.host = host
        self.port = port
        self.header = header
        self.command = command
        self.backoff = backoff
        self.userTimeoutMilliseconds = userTimeoutMilliseconds
        self.keepaliveIdleSeconds = keepaliveIdleSeconds
        self.keepaliveIntervalSeconds = keepaliveIntervalSeconds
        self.keepaliveCount = keepaliveCount
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.queueCapacity = queueCapacity
        self.outageReminderSeconds = outageReminderSeconds
        self.refreshIntervalMilliseconds = refreshIntervalMilliseconds
    }

    /// `host:port`, with brackets around an IPv6 address.
    public var endpointDescription: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// True when a change from `self` to `other` needs a new connection.
    public func needsReconnect(comparedTo other: SenderConfiguration) -> Bool {
        host != other.host || port != other.port || userTimeoutMilliseconds != other.userTimeoutMilliseconds
            || keepaliveIdleSeconds != other.keepaliveIdleSeconds
            || keepaliveIntervalSeconds != other.keepaliveIntervalSeconds || keepaliveCount != other.keepaliveCount
    }
}
