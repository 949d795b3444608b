// Owns one TCP socket descriptor, from `socket()` to `close()`.

import CLinux
import Glibc
import VKBCore
import VKBLoop

/// A non-blocking TCP client socket: the system calls the sender makes, with the
/// results it acts on. Closed when freed (or by `close()`); whoever holds it registers
/// and deregisters it with the loop.
package final class TCPSocket {
    package private(set) var fd: Int32

    /// What a non-blocking call did.
    package enum Outcome: Equatable {
        case done(Int)
        case wouldBlock
        case failed(errno: Int32)
    }

    /// A new socket for `family`'s addresses.
    package init(family: Int32) throws(SystemCallError) {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        fd = socket(family, type, Int32(IPPROTO_TCP))
        guard fd >= 0 else { throw SystemCallError("socket", errno: errno) }
    }

    deinit {
        close()
    }

    package func close() {
        guard fd >= 0 else { return }
        Glibc.close(fd)
        fd = -1
    }

    // MARK: - Options

    /// Sets an `Int32` option; the error of the first that fails.
    package func set(_ level: Int32, _ name: Int32, _ value: Int) throws(SystemCallError) {
        var v = Int32(clamping: value)
        guard setsockopt(fd, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw SystemCallError("setsockopt(\(level), \(name))", errno: errno)
        }
    }

    /// The pending error of a connect in progress or of a failed connection (`SO_ERROR`).
    package func pendingError() -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    // MARK: - Connecting

    /// Starts connecting: `.done(0)` when connected at once, `.wouldBlock` while in
    /// progress (wait for `EPOLLOUT`, then read `pendingError`).
    package func connect(to address: TCPAddress) -> Outcome {
        while true {
            let rc = address.withSockAddr { Glibc.connect(fd, $0, $1) }
            if rc == 0 { return .done(0) }
            switch errno {
            case EINTR: continue
            case EINPROGRESS: return .wouldBlock
            case let code: return .failed(errno: code)
            }
        }
    }

    package var localAddress: TCPAddress? { address(getsockname) }
    package var remoteAddress: TCPAddress? { address(getpeername) }

    private func address(_ call: (Int32, UnsafeMutablePointer<sockaddr>, UnsafeMutablePointer<socklen_t>) -> Int32) -> TCPAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(fd, $0, &length) }
        }
        return rc == 0 ? TCPAddress(storage: storage, length: length) : nil
    }

    /// A loopback connect to a port nobody listens on can be given that same port as its
    /// source and connect to itself (TCP simultaneous open). VKB-Link's port 50995 lies in
    /// Linux's ephemeral range (32768–60999), so a bridge retrying while the server is down
    /// would sooner or later "connect", deliver into the void, and hold the port the
    /// restarting server needs.
    package var isSelfConnected: Bool {
        guard let local = localAddress, let remote = remoteAddress else { return false }
        return local == remote
    }

    // MARK: - Data

    /// Writes what the kernel takes now; never raises SIGPIPE.
    package func write(_ bytes: UnsafeRawBufferPointer) -> Outcome {
        while true {
            let n = send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return .done(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(errno: code)
            }
        }
    }

    /// Reads into `buffer`: `.done(0)` is the peer's FIN.
    package func read(into buffer: UnsafeMutableRawBufferPointer) -> Outcome {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return .done(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            case let code: return .failed(errno: code)
            }
        }
    }

    /// Drains what the peer sent, after the loop reported `events`: the bytes read, and why
    /// the connection is over if it is (a FIN, an RST or another error, a hang-up).
    package func drain(after events: IOEvents, using scratch: inout [UInt8]) -> (bytes: Int, closed: String?) {
        var total = 0
        while true {
            switch scratch.withUnsafeMutableBytes({ read(into: $0) }) {
            case .done(0):
                return (total, "the server closed the connection")
            case .done(let n):
                total += n
            case .wouldBlock:
                if events.contains(.error) {
                    let code = pendingError()
                    return (total, code == 0 ? "the connection failed" : SystemCallError.reason(code))
                }
                return (total, events.contains(.hangUp) ? "the connection closed" : nil)
            case .failed(let code):
                return (total, SystemCallError.reason(code))
            }
        }
    }

    /// Bytes written and not yet acknowledged by the peer's kernel (`SIOCOUTQ`: sent or
    /// still queued); nil when the socket cannot say.
    package func unacknowledgedBytes() -> Int? {
        var queued: Int32 = 0
        guard ioctl(fd, UInt(SIOCOUTQ), &queued) == 0 else { return nil }
        return Int(queued)
    }
}

extension SystemCallError {
    /// How the sender reports an errno in its log lines: `connection refused`.
    package static func reason(_ code: Int32) -> String {
        message(code).lowercased()
    }
}
