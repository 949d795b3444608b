import NIOCore

/// A `HOST:PORT` to listen on: `127.0.0.1:50995`, `[::1]:50995`, `localhost:0`.
/// Port 0 asks the kernel for a free port.
struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    /// Host without brackets (`::1`, not `[::1]`).
    var host: String
    var port: Int

    static let `default` = ListenAddress(host: "127.0.0.1", port: 50995)

    init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `HOST:PORT` or `[IPV6]:PORT`; the error says what was expected.
    init(parsing text: String) throws(SinkError) {
        let expected = "expected HOST:PORT (e.g. 127.0.0.1:50995, [::1]:50995, localhost:0)"
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"),
                  text[text.index(after: close)...].hasPrefix(":")
            else { throw .badArgument(expected) }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                let hint = parts.count > 2 ? "; write an IPv6 address in brackets, e.g. [::1]:50995" : ""
                throw .badArgument(expected + hint)
            }
            host = parts[0]
            portText = parts[1]
        }
        guard !host.isEmpty else { throw .badArgument("empty host; \(expected)") }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw .badArgument("port '\(portText)' is not a number from 0 to 65535")
        }
        self.init(host: String(host), port: port)
    }

    /// Formats a socket address the way `--listen` takes it.
    init?(_ address: SocketAddress) {
        guard let ip = address.ipAddress, let port = address.port else { return nil }
        self.init(host: ip, port: port)
    }

    /// `HOST:PORT`, with brackets around an IPv6 host.
    var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}
