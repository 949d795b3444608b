#if canImport(Glibc)
import Glibc
#endif
import VKBCore

/// A self-pipe that lets any thread interrupt a `poll()` running on another.
/// Both ends are non-blocking and close-on-exec; they close when the pipe is freed.
/// (A socket pair: `pipe2` and `eventfd` are not visible from Swift's Glibc module.)
package final class WakePipe: Sendable {
    /// Poll this end for `POLLIN`.
    package let readFD: Int32
    private let writeFD: Int32

    package init() throws(SystemCallError) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, type, 0, &fds) == 0 else { throw SystemCallError("socketpair", errno: errno) }
        readFD = fds[0]
        writeFD = fds[1]
    }

    deinit {
        close(readFD)
        close(writeFD)
    }

    /// Makes `readFD` readable. Async-signal-safe; a full pipe is already readable.
    package func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }
}
