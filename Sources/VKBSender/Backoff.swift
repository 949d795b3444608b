/// Exponential backoff with jitter between connection attempts.
///
/// The n-th delay is drawn from [d/2, d] where d = min(initial · 2ⁿ, max): the jitter
/// keeps many bridges from retrying in lock-step, and the lower bound keeps the retry
/// rate bounded. With the defaults (50 ms, 1 s) a server that comes back is reached at
/// most ~1 s after it listens, and a long outage costs one attempt a second or less.
///
/// A server that was connected and went away is usually being restarted. For
/// `restartWindowMilliseconds` after such a loss, d is also capped at
/// `restartMaxMilliseconds` (70 ms by default: delays of 35–70 ms), so a restarted server
/// gets the current state within ~70 ms of listening (`make bench`, figure 4), at the cost
/// of about 20 refused attempts a second during those first seconds.
public struct Backoff: Sendable {
    public struct Policy: Sendable, Equatable {
        public var initialMilliseconds: Int
        public var maxMilliseconds: Int
        /// How long after losing a live connection the lower cap applies; 0 turns it off.
        public var restartWindowMilliseconds: Int
        /// The cap on d during the restart window.
        public var restartMaxMilliseconds: Int

        public init(
            initialMilliseconds: Int = 50, maxMilliseconds: Int = 1000,
            restartWindowMilliseconds: Int = 10_000, restartMaxMilliseconds: Int = 70
        ) {
            self.initialMilliseconds = max(1, initialMilliseconds)
            self.maxMilliseconds = max(self.initialMilliseconds, maxMilliseconds)
            self.restartWindowMilliseconds = max(0, restartWindowMilliseconds)
            self.restartMaxMilliseconds = max(self.initialMilliseconds, restartMaxMilliseconds)
        }
    }

    public let policy: Policy
    /// Failed attempts since the last success.
    public private(set) var failures = 0
    private(set) var random: @Sendable (ClosedRange<Double>) -> Double

    /// `random` returns a uniform value in the range; injectable for tests.
    public init(policy: Policy, random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) {
        self.policy = policy
        self.random = random
    }

    /// The ceiling d for the next delay, in milliseconds. `sinceLoss` is the time since a
    /// live connection was lost, or nil when none was (e.g. the server was absent at start).
    public func ceilingMilliseconds(sinceLoss: Int? = nil) -> Int {
        let shift = min(failures, 30)
        let grown = Double(policy.initialMilliseconds) * Double(1 << shift)
        var ceiling = Int(min(grown, Double(policy.maxMilliseconds)))
        if let sinceLoss, sinceLoss < policy.restartWindowMilliseconds {
            ceiling = min(ceiling, policy.restartMaxMilliseconds)
        }
        return ceiling
    }

    /// The delay before the next attempt, in milliseconds; counts one more failure.
    public mutating func nextDelayMilliseconds(sinceLoss: Int? = nil) -> Int {
        let ceiling = Double(ceilingMilliseconds(sinceLoss: sinceLoss))
        failures += 1
        return Int(random((ceiling / 2)...ceiling).rounded())
    }

    /// Call after a successful connection.
    public mutating func reset() {
        failures = 0
    }
}
