// Owns the daemon's signalfd.

import CLinux
import Glibc
import VKBCore
import VKBLoop

/// SIGTERM, SIGINT and SIGHUP for the daemon (and SIGUSR1 for `monitor`, when asked),
/// read from a signalfd in the loop's epoll set.
///
/// A signalfd sees a signal only while no thread lets it through: `init` blocks the
/// signals in the calling thread, and threads started afterwards inherit the mask. So
/// create it before any other thread starts (first thing in `main`, as the CLI does),
/// or a signal the kernel gives to an older thread takes its default action. The mask
/// stays for the life of the process: unblocking would let a signal still pending kill
/// it on its way out.
public final class DaemonSignals: Sendable {
    /// The signals the daemon handles.
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]

    private let fd: Int32
    /// What this instance handles (`monitor` adds SIGUSR1).
    public let signals: [Int32]

    /// Blocks `signals` in the calling thread and opens the signalfd that reads them.
    public init(handling signals: [Int32] = DaemonSignals.handled) throws(SystemCallError) {
        self.signals = signals
        var mask = Self.mask(signals)
        guard pthread_sigmask(SIG_BLOCK, &mask, nil) == 0 else { throw SystemCallError("pthread_sigmask", errno: errno) }
        let fd = signalfd(-1, &mask, Int32(SFD_NONBLOCK) | Int32(SFD_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError("signalfd", errno: errno) }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    /// Calls `handler` on the loop with each signal, in the order they arrived.
    func register(on loop: EpollLoop, handler: @escaping (Int32) -> Void) throws(SystemCallError) -> EpollLoop.Registration {
        let fd = self.fd
        return try loop.register(fd, events: .readable) { _ in
            var info = signalfd_siginfo()
            while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) == MemoryLayout<signalfd_siginfo>.size {
                handler(Int32(info.ssi_signo))
            }
        }
    }

    private static func mask(_ signals: [Int32]) -> sigset_t {
        var mask = sigset_t()
        sigemptyset(&mask)
        for signal in signals { sigaddset(&mask, signal) }
        return mask
    }
}
