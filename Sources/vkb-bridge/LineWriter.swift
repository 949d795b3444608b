import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Writes whole lines to stdout, each with one `write(2)`: lines from several threads
/// never interleave, and each reaches a pipe reader at once (no stdio buffering).
final class LineWriter: Sendable {
    private let lock = Mutex<Void>(())

    func line(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        lock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                let n = bytes.withUnsafeMutableBytes { write(STDOUT_FILENO, $0.baseAddress! + offset, $0.count - offset) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
        bytes.removeAll()
    }
}

/// Open file descriptors of this process (entries of /proc/self/fd, minus the one
/// used to list them), or nil when /proc is not there.
func openFileDescriptorCount() -> Int? {
    guard let dir = opendir("/proc/self/fd") else { return nil }
    defer { closedir(dir) }
    var count = 0
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        if name != "." && name != ".." { count += 1 }
    }
    return count - 1
}
