import Glibc
import VKBCore
import VKBInput

/// A child process with its standard output and error read line by line on a
/// background thread each. Used by `demo` to run the reference sink.
public final class SpawnedProcess: Sendable {
    public let pid: pid_t

    /// Starts `path` with `arguments`; `onLine(stream, line)` gets each output line
    /// (stream 1 = stdout, 2 = stderr) on a reader thread.
    public init(path: String, arguments: [String], onLine: @escaping @Sendable (Int32, String) -> Void) throws(SpawnError) {
        var outPipe: [Int32] = [0, 0]
        var errPipe: [Int32] = [0, 0]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0 else { throw SpawnError(path: path, errno: errno) }
        // Only the dup2'ed copies may reach the child.
        for fd in outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var child = pid_t()
        let rc = posix_spawn(&child, path, &actions, nil, argv, environ)
        close(outPipe[1])
        close(errPipe[1])
        guard rc == 0 else {
            close(outPipe[0])
            close(errPipe[0])
            throw SpawnError(path: path, errno: rc)
        }
        pid = child
        for (fd, stream) in [(outPipe[0], Int32(1)), (errPipe[0], Int32(2))] {
            // Detached when the handle is dropped: the reader ends at the child's EOF.
            do {
                _ = try BlockingThread { Self.readLines(fd: fd) { onLine(stream, $0) } }
            } catch {
                close(fd)
            }
        }
    }

    /// Sends `signal` (e.g. SIGKILL, SIGTERM).
    public func send(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the process to exit; returns its exit status or 128+signal.
    @discardableResult
    public func wait() -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    private static func readLines(fd: Int32, _ emit: (String) -> Void) {
        defer { close(fd) }
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            pending.append(contentsOf: buffer[0..<n])
            while let nl = pending.firstIndex(of: UInt8(ascii: "\n")) {
                emit(String(decoding: pending[..<nl], as: UTF8.self))
                pending.removeSubrange(...nl)
            }
        }
        if !pending.isEmpty { emit(String(decoding: pending, as: UTF8.self)) }
    }
}

/// A child process could not be started.
public struct SpawnError: Error, CustomStringConvertible {
    public let path: String
    public let errno: Int32
    public var description: String { "cannot start \(path): \(String(cString: strerror(errno)))" }
}
