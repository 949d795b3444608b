import Foundation
import Glibc

/// The connected TCP sockets another process holds, with the options set on them, read
/// by `getsockopt` on the very socket: `pidfd_getfd(2)` (Linux 5.6, glibc 2.36) copies
/// each of the process's descriptors into this one. Needs ptrace access to the process
/// (root, or the same user on a child).
enum ProcessSockets {
    struct TCPSocket: CustomStringConvertible {
        var localPort: Int
        var peerPort: Int
        /// `TCP_NODELAY` at `IPPROTO_TCP`.
        var noDelay: Bool
        /// `SO_DEBUG` at `SOL_SOCKET` (what a wrong-level `TCP_NODELAY` sets; root only).
        var debug: Bool
        /// `SO_KEEPALIVE` at `SOL_SOCKET`.
        var keepAlive: Bool

        var description: String {
            "\(localPort)→\(peerPort) nodelay=\(noDelay) debug=\(debug) keepalive=\(keepAlive)"
        }
    }

    /// Every connected TCP socket of `pid`.
    static func connectedTCP(of pid: pid_t) throws -> [TCPSocket] {
        let pidfd = LibC.pidfdOpen(pid, 0)
        guard pidfd >= 0 else { throw HarnessError("pidfd_open(\(pid)): \(String(cString: strerror(errno)))") }
        defer { close(pidfd) }
        let fdDirectory = "/proc/\(pid)/fd"
        let entries = try FileManager.default.contentsOfDirectory(atPath: fdDirectory)
        return try entries.compactMap { entry -> TCPSocket? in
            guard let target = Int32(entry),
                  let link = try? FileManager.default.destinationOfSymbolicLink(atPath: "\(fdDirectory)/\(entry)"),
                  link.hasPrefix("socket:")
            else { return nil }
            let fd = LibC.pidfdGetfd(pidfd, target, 0)
            guard fd >= 0 else {
                if errno == EBADF { return nil }  // closed since the listing
                throw HarnessError("pidfd_getfd(\(pid), \(target)): \(String(cString: strerror(errno)))")
            }
            defer { close(fd) }
            guard option(fd, SOL_SOCKET, SO_TYPE) == Int32(SOCK_STREAM.rawValue),
                  [AF_INET, AF_INET6].contains(option(fd, SOL_SOCKET, SO_DOMAIN)),
                  let peer = port(fd, getpeername), let local = port(fd, getsockname)
            else { return nil }
            return TCPSocket(
                localPort: local, peerPort: peer,
                noDelay: option(fd, Int32(IPPROTO_TCP), TCP_NODELAY) != 0,
                debug: option(fd, SOL_SOCKET, SO_DEBUG) != 0,
                keepAlive: option(fd, SOL_SOCKET, SO_KEEPALIVE) != 0)
        }
    }

    /// The effective uid of `pid`, from `/proc/PID/status`.
    static func effectiveUID(of pid: pid_t) -> uid_t? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") })
        else { return nil }
        let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
        return fields.count > 2 ? uid_t(fields[2]) : nil
    }

    private static func option(_ fd: Int32, _ level: Int32, _ name: Int32) -> Int32 {
        var value: Int32 = -1
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, level, name, &value, &length) == 0 ? value : -1
    }

    private typealias NameFunction = (Int32, UnsafeMutablePointer<sockaddr>?, UnsafeMutablePointer<socklen_t>?) -> Int32

    /// The port of the address `get` (getpeername/getsockname) gives; nil when unconnected.
    private static func port(_ fd: Int32, _ get: NameFunction) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { get(fd, $0, &length) == 0 }
        }
        guard ok else { return nil }
        // sin_port and sin6_port sit at the same offset, in network byte order.
        return withUnsafeBytes(of: &storage) { Int($0[2]) << 8 | Int($0[3]) }
    }
}

/// glibc 2.36's pidfd wrappers, which the `Glibc` module does not import.
private enum LibC {
    typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
    typealias PidfdGetfd = @convention(c) (Int32, Int32, UInt32) -> Int32

    static let pidfdOpen: PidfdOpen = symbol("pidfd_open")
    static let pidfdGetfd: PidfdGetfd = symbol("pidfd_getfd")

    private static func symbol<F>(_ name: String) -> F {
        guard let pointer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            fatalError("glibc has no \(name) (glibc 2.36 or newer is needed)")
        }
        return unsafeBitCast(pointer, to: F.self)
    }
}
