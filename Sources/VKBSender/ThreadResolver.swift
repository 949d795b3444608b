import NIOCore
import NIOPosix
import VKBCore

#if canImport(Glibc)
import Glibc
#endif

/// Resolves the server's host for one connection attempt without libdispatch.
///
/// NIO's default resolver runs `getaddrinfo` on `DispatchQueue.global()`, even for a
/// numeric address; that starts libdispatch worker threads, which call `setpriority()`
/// and fill the journal with "Failed to set thread priority" under the unit's
/// `SystemCallFilter=~@resources`. Here a numeric address needs no lookup at all, and a
/// host name is looked up by `getaddrinfo` on a thread of its own that ends with the
/// lookup. One instance per connection attempt (a `ClientBootstrap`'s resolver).
final class ThreadResolver: Resolver, Sendable {
    private let v4: EventLoopPromise<[SocketAddress]>
    private let v6: EventLoopPromise<[SocketAddress]>

    init(on loop: EventLoop) {
        v4 = loop.makePromise()
        v6 = loop.makePromise()
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        v4.futureResult
    }

    /// NIO asks for AAAA first; the one lookup answers both queries.
    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        if let numeric = try? SocketAddress(ipAddress: host, port: port) {
            publish([numeric])
        } else {
            let (v4, v6) = (v4, v6)
            do {
                _ = try BlockingThread { [self] in
                    do {
                        publish(try Self.lookUp(host, port: port))
                    } catch {
                        v4.fail(error)
                        v6.fail(error)
                    }
                }
            } catch {
                v4.fail(error)
                v6.fail(error)
            }
        }
        return v6.futureResult
    }

    /// A `getaddrinfo` in flight cannot be cancelled; its answer is dropped by NIO.
    func cancelQueries() {}

    private func publish(_ addresses: [SocketAddress]) {
        v6.succeed(addresses.filter { $0.protocol == .inet6 })
        v4.succeed(addresses.filter { $0.protocol == .inet })
    }

    /// Why a host name did not resolve.
    struct LookupError: Error, CustomStringConvertible {
        var host: String
        var code: Int32
        var description: String { "cannot resolve \(host): \(String(cString: gai_strerror(code)))" }
    }

    /// Blocking `getaddrinfo` for TCP addresses of `host`, in its preference order.
    static func lookUp(_ host: String, port: Int) throws(LookupError) -> [SocketAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else { throw LookupError(host: host, code: rc) }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var entry = list
        while let info = entry?.pointee {
            defer { entry = info.ai_next }
            guard let address = info.ai_addr else { continue }
            switch info.ai_family {
            case AF_INET:
                addresses.append(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                })
            case AF_INET6:
                addresses.append(address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    SocketAddress($0.pointee, host: host)
                })
            default:
                continue
            }
        }
        return addresses
    }
}
