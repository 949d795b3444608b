import Glibc

/// SIGTERM and SIGINT, blocked in every thread and taken synchronously with `sigwait(2)`.
/// No handler runs in signal context, so stopping can use ordinary code.
/// `block()` must run before any other thread starts: threads inherit the mask.
struct StopSignals {
    private var set = sigset_t()

    /// Blocks SIGTERM and SIGINT in the calling thread (and threads it starts later).
    static func block() -> StopSignals {
        var signals = StopSignals()
        sigemptyset(&signals.set)
        sigaddset(&signals.set, SIGTERM)
        sigaddset(&signals.set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals.set, nil)
        return signals
    }

    /// Waits until one of the signals arrives; returns its number.
    func wait() -> Int32 {
        var set = self.set
        var signal: Int32 = 0
        while sigwait(&set, &signal) != 0 {}
        return signal
    }
}
