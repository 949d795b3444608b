import Glibc

/// A failed system call, with its errno.
public struct SystemCallError: Error, CustomStringConvertible, Equatable {
    public var call: String
    public var errno: Int32

    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(SystemCallError.message(errno))" }

    /// `strerror` text for an errno value.
    public static func message(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
