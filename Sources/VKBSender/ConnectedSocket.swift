import Glibc
import NIOCore

/// Finds the descriptor behind a NIO channel's TCP connection.
///
/// NIO does not expose a channel's descriptor, but a connected TCP socket is the only
/// one in the process with its (local, remote) address pair, so it can be found among
/// the open descriptors and duplicated. The duplicate refers to the same socket: it
/// must be closed before (or with) the channel, or the connection stays open.
enum ConnectedSocket {
    /// A close-on-exec duplicate of the socket connected from `local` to `remote`, or -1.
    /// Call on the channel's event loop, so the channel cannot close meanwhile.
    static func duplicate(local: SocketAddress, remote: SocketAddress) -> Int32 {
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        defer { closedir(directory) }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard let fd = Int32(name), fd != dirfd(directory) else { continue }
            if matches(fd, getsockname, local) && matches(fd, getpeername, remote) {
                return fcntl(fd, F_DUPFD_CLOEXEC, 0)
            }
        }
        return -1
    }

    private static func matches(
        _ fd: Int32, _ query: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32,
        _ address: SocketAddress
    ) -> Bool {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { query(fd, $0, &length) == 0 }
        }
        guard ok else { return false }
        switch address {
        case .v4(let a):
            guard Int32(storage.ss_family) == AF_INET else { return false }
            return withUnsafeBytes(of: &storage) { raw in
                let s = raw.load(as: sockaddr_in.self)
                return s.sin_port == a.address.sin_port && s.sin_addr.s_addr == a.address.sin_addr.s_addr
            }
        case .v6(let a):
            guard Int32(storage.ss_family) == AF_INET6 else { return false }
            return withUnsafeBytes(of: &storage) { raw in
                let s = raw.load(as: sockaddr_in6.self)
                var mine = s.sin6_addr
                var theirs = a.address.sin6_addr
                return s.sin6_port == a.address.sin6_port
                    && memcmp(&mine, &theirs, MemoryLayout<in6_addr>.size) == 0
            }
        default:
            return false
        }
    }
}
