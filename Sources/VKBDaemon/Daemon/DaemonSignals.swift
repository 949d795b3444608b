import Synchronization
import VKBCore
import VKBInput

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM, SIGINT and SIGHUP for the daemon (and SIGUSR1 for `monitor`, when asked): a
/// handler writes each signal's number into a socket pair (the self-pipe trick), and one
/// thread of this object's own reads it. This object owns both ends and that thread.
///
/// Not swift-service-lifecycle's UnixSignals: its `DispatchSource` starts libdispatch
/// worker threads, and those call `setpriority()`, which the unit's
/// `SystemCallFilter=~@resources` refuses; libdispatch then logs "Failed to set thread
/// priority" into the journal for as long as the service runs. A handler, unlike a
/// blocked mask read through `signalfd`, works whichever thread the kernel picks.
/// One instance at a time (the handler has one place to write to).
public final class DaemonSignals: Sendable {
    /// The signals in the order they arrived; finishes after `stop()`.
    public let received: AsyncStream<Int32>
    private let readFD: Int32
    private let writeFD: Int32
    private let wake: WakePipe
    private let thread: BlockingThread

    /// The signals the daemon handles.
    public static let handled: [Int32] = [SIGTERM, SIGINT, SIGHUP]
    /// What this instance handles (`monitor` adds SIGUSR1).
    private let signals: [Int32]

    /// Installs the handlers for `signals` and starts reading.
    public init(handling signals: [Int32] = DaemonSignals.handled) throws(SystemCallError) {
        self.signals = signals
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemCallError("socketpair", errno: errno) }
        (readFD, writeFD) = (fds[0], fds[1])
        let wake: WakePipe
        do {
            wake = try WakePipe()
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        self.wake = wake
        let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
        received = stream
        let readFD = readFD
        do {
            thread = try BlockingThread { Self.read(readFD, until: wake.readFD, into: continuation) }
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        precondition(handlerFD.exchange(writeFD, ordering: .sequentiallyConsistent) == -1, "one DaemonSignals at a time")
        for signal in signals {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = forwardSignal
            action.sa_flags = SA_RESTART
            sigemptyset(&action.sa_mask)
            sigaction(signal, &action, nil)
        }
    }

    /// Restores the default actions, stops the reader thread and closes the descriptors.
    public func stop() {
        for signal in signals { Glibc.signal(signal, SIG_DFL) }
        _ = handlerFD.exchange(-1, ordering: .sequentiallyConsistent)
        wake.wake()
        thread.join()
        close(readFD)
        close(writeFD)
    }

    private static func read(_ fd: Int32, until wakeFD: Int32, into continuation: AsyncStream<Int32>.Continuation) {
        defer { continuation.finish() }
        var bytes = [UInt8](repeating: 0, count: 64)
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakeFD, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&fds, 2, -1)
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0, fds[1].revents == 0 else { return }
            let n = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            guard n > 0 else { return }
            for signal in bytes[..<n] { continuation.yield(Int32(signal)) }
        }
    }
}

/// Where the handler writes: the write end of the live `DaemonSignals`, or -1.
private let handlerFD = Atomic<Int32>(-1)

/// The signal handler: async-signal-safe (an atomic load and a `write`), errno kept.
private func forwardSignal(_ signal: Int32) {
    let saved = errno
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(handlerFD.load(ordering: .relaxed), &byte, 1)
    errno = saved
}
