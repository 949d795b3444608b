import Foundation
import VKBCore

/// A plain TCP client for tests, on a non-blocking socket: every wait polls with a
/// deadline, so a test never hangs and never blocks a concurrency thread.
///
/// ```swift
/// let client = try TCPTestClient(host: sink.host, port: sink.port)
/// try client.send(VKBShiftBitmapPacket(state: ShiftState(shift: 1)).bytes)
/// let (bytes, end) = try await client.readUntilEnd()
/// #expect(end == .eof)
/// ```
final class TCPTestClient {
    /// How the peer ended the connection.
    enum End: Sendable, Equatable, CustomStringConvertible {
        /// FIN: `read` returned 0.
        case eof
        /// RST: `ECONNRESET`.
        case reset
        /// Another errno.
        case error(Int32)

        var description: String {
            switch self {
            case .eof: "EOF"
            case .reset: "connection reset"
            case .error(let code): "error \(code) (\(String(cString: strerror(code))))"
            }
        }
    }

    /// The socket; -1 once closed.
    private(set) var fd: Int32

    /// Connects to `host` (an IPv4 or IPv6 literal) and `port`.
    /// - Throws: `HarnessError` naming the address and errno text (e.g. connection refused).
    init(host: String = "127.0.0.1", port: Int, timeout: Duration = .seconds(5)) throws {
        let v6 = host.contains(":")
        fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HarnessError("socket: \(String(cString: strerror(errno)))") }
        let display = v6 ? "[\(host)]:\(port)" : "\(host):\(port)"
        var result: Int32
        if v6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET6, host, &address.sin6_addr) == 1 else {
                Glibc.close(fd)
                throw HarnessError("not an IPv6 address: \(host)")
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                }
            }
        } else {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
                Glibc.close(fd)
                throw HarnessError("not an IPv4 address: \(host)")
            }
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        // Loopback connects complete (or fail) at once; blocking here is brief.
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw HarnessError("cannot connect to \(display): \(String(cString: strerror(code)))")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit {
        close()
    }

    /// The local port, to tell this client apart in the sink's `peer` field.
    var localPort: Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
        }
    }

    /// Sends all of `bytes` at once. Throws if the kernel would not take them all
    /// (use `trySend` to fill buffers deliberately) or on any error.
    func send(_ bytes: [UInt8]) throws {
        let n = trySend(bytes)
        guard n == bytes.count else {
            throw HarnessError("send: only \(n) of \(bytes.count) bytes accepted (\(String(cString: strerror(errno))))")
        }
    }

    /// Sends what the kernel takes without blocking; returns the count (0 when the
    /// send buffer is full, -1 on error with `errno` set). Never raises SIGPIPE.
    func trySend(_ bytes: [UInt8]) -> Int {
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                sent += n
            } else if n < 0, errno == EINTR {
                continue
            } else if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                return sent
            } else {
                return sent > 0 ? sent : -1
            }
        }
        return sent
    }

    /// Sets `SO_SNDBUF` (the kernel doubles it), to make a stalled peer fill it sooner.
    func setSendBufferSize(_ bytes: Int32) {
        var value = bytes
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// Reads what is there now, without waiting: bytes, or how the connection ended.
    func readAvailable() -> (bytes: [UInt8], end: End?) {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 {
                bytes += chunk[..<n]
            } else if n == 0 {
                return (bytes, .eof)
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                return (bytes, nil)
            } else {
                return (bytes, errno == ECONNRESET ? .reset : .error(errno))
            }
        }
    }

    /// Reads until at least `count` bytes arrived; returns them all.
    /// - Throws: `HarnessError` on timeout or if the connection ends first.
    func read(atLeast count: Int, timeout: Duration = .seconds(10)) async throws -> [UInt8] {
        var received: [UInt8] = []
        try await eventually("\(count) byte(s) from the server", timeout: timeout, context: { "got \(received)" }) {
            let (bytes, end) = readAvailable()
            received += bytes
            if received.count >= count { return true }
            if let end { throw HarnessError("connection ended (\(end)) after \(received.count) of \(count) byte(s)") }
            return false
        }
        return received
    }

    /// Reads until the server ends the connection; returns the bytes read and how it ended.
    /// - Throws: `HarnessError` if the connection is still open after `timeout`.
    func readUntilEnd(timeout: Duration = .seconds(10)) async throws -> (bytes: [UInt8], end: End) {
        var received: [UInt8] = []
        var end: End?
        try await eventually("the server to end the connection", timeout: timeout, context: { "got \(received.count) byte(s)" }) {
            let (bytes, ended) = readAvailable()
            received += bytes
            end = ended
            return ended != nil
        }
        return (received, end!)
    }

    /// Half-closes: sends FIN, keeps reading.
    func shutdownWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }

    /// Closes the socket (idempotent).
    func close() {
        if fd >= 0 {
            Glibc.close(fd)
            fd = -1
        }
    }
}
