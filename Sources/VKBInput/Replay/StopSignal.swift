import NIOConcurrencyHelpers

/// A one-way "stop" flag that blocked waits can be woken by, from any thread.
/// Sticky: once stopped, it stays stopped.
final class StopSignal: Sendable {
    // ConditionLock pairs the flag with a pthread condition variable, so waiters
    // sleep in the kernel and `stop()` wakes them at once (no polling).
    private let condition = ConditionLock(value: false)

    func stop() {
        condition.lock()
        condition.unlock(withValue: true)
    }

    var isStopped: Bool { condition.value }

    /// Waits up to `nanoseconds`. Returns `true` if stopped (before or during the wait).
    func wait(nanoseconds: UInt64) -> Bool {
        guard condition.lock(whenValue: true, timeoutSeconds: Double(nanoseconds) / 1e9) else { return false }
        condition.unlock()
        return true
    }

    /// Blocks until stopped.
    func waitUntilStopped() {
        condition.lock(whenValue: true)
        condition.unlock()
    }
}
