import Glibc
import VKBCore
import VKBLoop

/// Turns the configured host into addresses for one connection attempt without blocking
/// the loop: a numeric address needs no lookup; a host name is looked up by
/// `getaddrinfo` on a thread of its own that ends with the lookup and posts the answer
/// back to the loop. (No libdispatch: its workers call `setpriority()`, which the unit's
/// `SystemCallFilter=~@resources` refuses.)
package enum HostResolver {
    /// Why a host name did not resolve.
    package struct LookupError: Error, CustomStringConvertible {
        package var host: String
        package var code: Int32
        package var description: String { "cannot resolve \(host): \(String(cString: gai_strerror(code)))" }
    }

    /// Calls `completion` on `loop` with the addresses in `getaddrinfo`'s preference order;
    /// at once for a numeric address, later for a name.
    package static func resolve(
        _ host: String, port: Int, on loop: EpollLoop,
        completion: @escaping (Result<[TCPAddress], LookupError>) -> Void
    ) {
        if let numeric = TCPAddress(numeric: host, port: port) {
            completion(.success([numeric]))
            return
        }
        let handle = loop.handle
        let bound = LoopBound(completion, loop: loop)
        do {
            _ = try BlockingThread {
                let result: Result<[TCPAddress], LookupError>
                do throws(LookupError) {
                    result = .success(try lookUp(host, port: port))
                } catch {
                    result = .failure(error)
                }
                // A loop that ended meanwhile no longer wants the answer.
                handle.execute { _ in bound.value(result) }
            }
        } catch {
            completion(.failure(LookupError(host: host, code: EAI_SYSTEM)))
        }
    }

    /// Blocking `getaddrinfo` for TCP addresses of `host`, in its preference order.
    package static func lookUp(_ host: String, port: Int) throws(LookupError) -> [TCPAddress] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0 else { throw LookupError(host: host, code: rc) }
        defer { freeaddrinfo(list) }
        var addresses: [TCPAddress] = []
        var entry = list
        while let info = entry?.pointee {
            defer { entry = info.ai_next }
            guard let address = info.ai_addr else { continue }
            switch info.ai_family {
            case AF_INET:
                addresses.append(TCPAddress(copying: address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }))
            case AF_INET6:
                addresses.append(TCPAddress(copying: address.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee }))
            default:
                continue
            }
        }
        return addresses
    }
}
