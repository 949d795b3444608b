import Glibc

/// Loopback TCP ports for tests.
public enum LoopbackPort {
    /// A port nobody listens on: bound once on 127.0.0.1, then released.
    public static func free() -> Int {
        let (fd, port) = bound()
        close(fd)
        return port
    }

    /// A socket listening on 127.0.0.1 at a free port; the caller closes it.
    public static func listener() -> (fd: Int32, port: Int) {
        let (fd, port) = bound()
        precondition(listen(fd, 4) == 0, "listen: \(errno)")
        return (fd, port)
    }

    /// A TCP socket bound to 127.0.0.1, port chosen by the kernel.
    private static func bound() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(fd >= 0, "socket: \(errno)")
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        precondition(bound, "bind: \(errno)")
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}
