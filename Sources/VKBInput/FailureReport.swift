import VKBLoop

/// How a reader reports that it failed: once, through the loop (never inside `open`, where
/// the caller has not stored the reader yet), and not at all once the reader was stopped.
final class FailureReport {
    private let loop: EpollLoop
    private let failed: DeviceFailureHandler
    private var reported = false
    private var cancelled = false

    init(loop: EpollLoop, failed: @escaping DeviceFailureHandler) {
        self.loop = loop
        self.failed = failed
    }

    /// Reports `error` on a coming loop turn, unless `cancel()` comes first; later calls do nothing.
    func report(_ error: any Error) {
        guard !reported else { return }
        reported = true
        loop.schedule(in: .zero) { [weak self] in
            guard let self, !cancelled else { return }
            failed(error)
        }
    }

    /// The reader was stopped: nothing is reported any more.
    func cancel() {
        cancelled = true
    }
}
