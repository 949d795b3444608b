import Glibc
import SystemPackage

/// A file descriptor written with one `write(2)` per call, never buffered, so a reader
/// sees every line as soon as it happens.
final class OutputFile: Sendable {
    let fd: Int32
    private let ownsDescriptor: Bool

    static let standardOutput = OutputFile(fd: STDOUT_FILENO, ownsDescriptor: false)
    static let standardError = OutputFile(fd: STDERR_FILENO, ownsDescriptor: false)

    private init(fd: Int32, ownsDescriptor: Bool) {
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
    }

    /// Opens `path` for appending, creating it if needed.
    static func appending(to path: String) throws(SinkError) -> OutputFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, what: "output file", errno: errno) }
        return OutputFile(fd: fd, ownsDescriptor: true)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Writes all of `text`, retrying on `EINTR` and short writes.
    func write(_ text: String) throws(SinkError) {
        do {
            _ = try FileDescriptor(rawValue: fd).writeAll(text.utf8)
        } catch {
            throw .cannotWrite(what: "to descriptor \(fd)", errno: (error as? Errno)?.rawValue ?? EIO)
        }
    }
}

extension OutputFile {
    /// Writes `text` to `path` atomically: a temporary file in the same directory, then `rename(2)`.
    static func writeAtomically(_ text: String, to path: String) throws(SinkError) {
        let temporary = "\(path).\(getpid()).tmp"
        do {
            let file = try OutputFile.truncating(temporary)
            try file.write(text)
        }
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw .cannotOpen(path: path, what: "ready file", errno: code)
        }
    }

    private static func truncating(_ path: String) throws(SinkError) -> OutputFile {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .cannotOpen(path: path, what: "ready file", errno: errno) }
        return OutputFile(fd: fd, ownsDescriptor: true)
    }
}
