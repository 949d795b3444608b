/// Exponential backoff with jitter between connection attempts.
///
/// The n-th delay is drawn from [d/2, d] where d = min(initial · 2ⁿ, max): the jitter
/// keeps many bridges from retrying in lock-step, and the lower bound keeps the
/// retry rate bounded. With the defaults (50 ms, 1 s) a server that comes back is
/// reached at most ~1 s after it listens.
public struct Backoff: Sendable {
    public struct Policy: Sendable, Equatable {
        public var initialMilliseconds: Int
        public var maxMilliseconds: Int

        public init(initialMilliseconds: Int = 50, maxMilliseconds: Int = 1000) {
            self.initialMilliseconds = max(1, initialMilliseconds)
            self.maxMilliseconds = max(self.initialMilliseconds, maxMilliseconds)
        }
    }

    public let policy: Policy
    /// Failed attempts since the last success.
    public private(set) var failures = 0
    private var random: @Sendable (ClosedRange<Double>) -> Double

    /// `random` returns a uniform value in the range; injectable for tests.
    public init(policy: Policy, random: @escaping @Sendable (ClosedRange<Double>) -> Double = { Double.random(in: $0) }) {
        self.policy = policy
        self.random = random
    }

    /// The ceiling d for the next delay, in milliseconds.
    public var currentCeilingMilliseconds: Int {
        let shift = min(failures, 30)
        let grown = Double(policy.initialMilliseconds) * Double(1 << shift)
        return Int(min(grown, Double(policy.maxMilliseconds)))
    }

    /// The delay before the next attempt, in milliseconds; counts one more failure.
    public mutating func nextDelayMilliseconds() -> Int {
        let ceiling = Double(currentCeilingMilliseconds)
        failures += 1
        return Int(random((ceiling / 2)...ceiling).rounded())
    }

    /// Call after a successful connection.
    public mutating func reset() {
        failures = 0
    }
}
