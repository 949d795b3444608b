/// Why a recording cannot be replayed. Raised while loading, before anything is replayed.
public enum EvemuRecordingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file could not be read (`errno` text in `reason`).
    case unreadable(path: String, reason: String)
    /// Line `line` (1-based) of `path` is not what the format allows there.
    case malformed(path: String, line: Int, message: String)

    /// `stick.evemu:12: expected "E: <sec>.<usec> <type> <code> <value>", got "E: 0.1 01"`.
    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            return "\(path): cannot read recording: \(reason)"
        case .malformed(let path, let line, let message):
            return "\(path):\(line): \(message)"
        }
    }
}
