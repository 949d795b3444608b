#if canImport(Glibc)
import Glibc
#endif

/// Why an input event stream could not be opened or read.
public enum InputEventStreamError: Error, CustomStringConvertible, Equatable {
    case systemCall(path: String, call: String, errno: Int32)

    public var description: String {
        switch self {
        case .systemCall(let path, let call, let errno):
            return "\(path): \(call) failed: \(String(cString: strerror(errno)))"
        }
    }
}
