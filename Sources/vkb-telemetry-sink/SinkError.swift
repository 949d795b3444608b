import Glibc

/// Why the sink cannot start; the message names the argument, address or file involved.
enum SinkError: Error, CustomStringConvertible {
    case badArgument(String)
    case cannotListen(ListenAddress, reason: String)
    case cannotOpen(path: String, what: String, errno: Int32)
    case cannotWrite(what: String, errno: Int32)

    var description: String {
        switch self {
        case .badArgument(let message):
            return message
        case .cannotListen(let address, let reason):
            return "cannot listen on \(address): \(reason)"
        case .cannotOpen(let path, let what, let code):
            return "cannot open \(what) '\(path)': \(Self.text(errno: code))"
        case .cannotWrite(let what, let code):
            return "cannot write \(what): \(Self.text(errno: code))"
        }
    }

    /// `Address already in use (errno 98)`.
    static func text(errno code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
