import CSystemd
import Glibc

/// Tells the service manager about the daemon's state through libsystemd's `sd_notify(3)`.
///
/// Every message is a no-op when `NOTIFY_SOCKET` is unset (not started by systemd, or not
/// `Type=notify`), so the daemon calls these unconditionally. `sd_notify` reads the
/// environment on each call and never unsets it here, so repeated messages keep working.
/// The type holds no socket: it is safe to use from any thread.
public struct SystemdNotifier: Sendable {
    /// What became of one notification.
    public enum Delivery: Sendable, Equatable {
        /// The service manager's socket accepted the datagram.
        case sent
        /// `NOTIFY_SOCKET` is unset: nobody to tell.
        case notConfigured
        /// Sending failed with this errno (socket gone, permission, …).
        case failed(errno: Int32)
    }

    /// The watchdog timeout systemd enforces (`WatchdogSec=`), read from `WATCHDOG_USEC` and
    /// `WATCHDOG_PID` by `sd_watchdog_enabled(3)` when the notifier was made; `nil` when the
    /// watchdog is off or meant for another process.
    public let watchdogTimeout: Duration?

    public init() {
        var usec: UInt64 = 0
        watchdogTimeout = sd_watchdog_enabled(0, &usec) > 0 && usec > 0 ? .microseconds(usec) : nil
    }

    /// Whether a notification socket is configured right now.
    public var isConfigured: Bool { getenv("NOTIFY_SOCKET") != nil }

    /// How often to send `WATCHDOG=1`: half the timeout, as `sd_watchdog_enabled(3)` advises.
    public var watchdogPingInterval: Duration? { watchdogTimeout.map { $0 / 2 } }

    /// `READY=1`: the config is loaded and devices are watched. Also ends a reload.
    @discardableResult
    public func ready(status: String? = nil) -> Delivery {
        send(["READY=1"] + Self.statusField(status))
    }

    /// `STATUS=…`, the line `systemctl status` shows. Line breaks become spaces.
    @discardableResult
    public func status(_ text: String) -> Delivery {
        send(Self.statusField(text))
    }

    /// `WATCHDOG=1`: the main loop is alive.
    @discardableResult
    public func watchdog() -> Delivery {
        send(["WATCHDOG=1"])
    }

    /// `RELOADING=1` with `MONOTONIC_USEC=` (systemd ≥ 253 uses it to match reload cycles;
    /// older versions ignore the field). Send `ready()` when the reload is done.
    @discardableResult
    public func reloading(status: String? = nil) -> Delivery {
        send(["RELOADING=1", "MONOTONIC_USEC=\(Self.monotonicMicroseconds())"] + Self.statusField(status))
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping(status: String? = nil) -> Delivery {
        send(["STOPPING=1"] + Self.statusField(status))
    }

    /// Sends `KEY=value` assignments as one datagram.
    @discardableResult
    public func send(_ assignments: [String]) -> Delivery {
        let result = sd_notify(0, assignments.joined(separator: "\n"))
        if result > 0 { return .sent }
        if result == 0 { return .notConfigured }
        return .failed(errno: -result)
    }

    static func statusField(_ text: String?) -> [String] {
        guard let text else { return [] }
        let line = text.map { $0.isNewline ? " " : $0 }
        return ["STATUS=" + String(line)]
    }

    static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }
}
