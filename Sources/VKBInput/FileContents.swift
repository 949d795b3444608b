import Glibc

/// Whole-file reads with plain POSIX calls (no Foundation), for recordings, configs and
/// sysfs attributes.
package enum FileContents {
    /// Why a file could not be read: the `strerror` text, or "is a directory".
    package struct Failure: Error, CustomStringConvertible {
        package let reason: String
        package var description: String { reason }
    }

    /// The file's bytes, up to `limit`. Reads until EOF: `st_size` is only a hint
    /// (pipes and /proc or /sys files say 0 or 4096).
    package static func bytes(atPath path: String, limit: Int = .max) throws(Failure) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(reason: errnoText()) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(reason: errnoText()) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw Failure(reason: "is a directory") }

        var bytes: [UInt8] = []
        bytes.reserveCapacity(min(limit, max(Int(info.st_size), 4096)))
        var chunk = [UInt8](repeating: 0, count: 65536)
        while bytes.count < limit {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, min($0.count, limit - bytes.count)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: errnoText())
            }
            if n == 0 { break }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }

    /// The whole file, refused when it is larger than `maxBytes`: a config or recording
    /// never is, and `/dev/zero` or a runaway file must not fill memory.
    package static func bytes(atPath path: String, atMost maxBytes: Int) throws(Failure) -> [UInt8] {
        let bytes = try bytes(atPath: path, limit: maxBytes + 1)
        guard bytes.count <= maxBytes else { throw Failure(reason: "larger than \(maxBytes) bytes, the limit") }
        return bytes
    }

    /// The whole file as UTF-8 text, at most `maxBytes`.
    package static func text(atPath path: String, atMost maxBytes: Int) throws(Failure) -> String {
        String(decoding: try bytes(atPath: path, atMost: maxBytes), as: UTF8.self)
    }

    private static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
