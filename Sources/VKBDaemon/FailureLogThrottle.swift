/// Decides which failures of a retry loop deserve a log line, so a server that is down for
/// hours gives a handful of lines instead of one per attempt.
///
/// The first failure is logged; repeats of the same reason are counted silently and summed
/// up in a reminder every `reminderInterval`; a new reason is logged at once; the first
/// success after failures reports how many attempts failed. Pure: the caller passes the time.
public struct FailureLogThrottle: Sendable {
    public enum Decision: Sendable, Hashable {
        /// Log this failure. `attempts` counts failures since the last success, this one included.
        case log(attempts: Int)
        /// Stay quiet.
        case suppress
    }

    public let reminderInterval: Duration
    /// Failures since the last success.
    public private(set) var failures = 0
    private var lastReason: String?
    private var lastLogged: ContinuousClock.Instant?

    public init(reminderInterval: Duration = .seconds(600)) {
        self.reminderInterval = reminderInterval
    }

    /// Records a failed attempt and says whether to log it.
    public mutating func failure(_ reason: String, at now: ContinuousClock.Instant) -> Decision {
        failures += 1
        if reason != lastReason || lastLogged.map({ now - $0 >= reminderInterval }) ?? true {
            lastReason = reason
            lastLogged = now
            return .log(attempts: failures)
        }
        return .suppress
    }

    /// Records a success. Returns how many attempts had failed before it, or `nil` if none
    /// did (nothing to report beyond the success itself).
    public mutating func success() -> Int? {
        defer {
            failures = 0
            lastReason = nil
            lastLogged = nil
        }
        return failures > 0 ? failures : nil
    }
}
