#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Time for `ReplayDeviceSource`: a monotonic "now" and an interruptible sleep.
/// Injectable so tests can check the delays a replay asks for without timing anything.
protocol ReplayClock: Sendable {
    /// Monotonic time in nanoseconds.
    func now() -> UInt64
    /// Sleeps `nanoseconds` unless `stop` is signalled first. Returns `false` if stopped.
    func sleep(nanoseconds: UInt64, unless stop: StopSignal) -> Bool
}

/// The real clock: `CLOCK_MONOTONIC`, sleeping on the stop signal's condition variable.
struct MonotonicReplayClock: ReplayClock {
    func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    func sleep(nanoseconds: UInt64, unless stop: StopSignal) -> Bool {
        !stop.wait(nanoseconds: nanoseconds)
    }
}
