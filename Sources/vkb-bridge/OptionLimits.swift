import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// Bounds for the numeric command-line options, checked in `validate()`: a value that
/// passes converts to milliseconds, `Duration`s and ports without trapping.
enum OptionLimits {
    /// One week: longer than any wait anyone means, far inside what `Int` milliseconds hold.
    static let maxSeconds: Double = 604_800
    /// Replay and demo speeds: from a thousandth of real time to a thousand times faster.
    static let speeds: ClosedRange<Double> = 0.001...1000

    /// `value` seconds, 0 allowed or not, at most `maxSeconds`.
    static func seconds(_ value: Double, _ option: String, allowZero: Bool) throws {
        let low = allowZero ? "0 or more" : "more than 0"
        guard value.isFinite, allowZero ? value >= 0 : value > 0, value <= maxSeconds else {
            throw ValidationError("\(option) must be \(low) seconds, at most \(Int(maxSeconds)) (a week), got \(value)")
        }
    }

    /// A speed factor in `speeds`, or 0 (as fast as possible) where `allowZero`.
    static func speed(_ value: Double, _ option: String, allowZero: Bool) throws {
        guard (allowZero && value == 0) || speeds.contains(value) else {
            throw ValidationError(
                "\(option) must be \(allowZero ? "0 (as fast as possible) or " : "")between \(speeds.lowerBound) and \(Int(speeds.upperBound)), got \(value)")
        }
    }

    /// A TCP port, 1–65535.
    static func port(_ value: Int, _ option: String) throws {
        guard (1...65535).contains(value) else { throw ValidationError("\(option) must be a TCP port, 1-65535, got \(value)") }
    }

    /// A path that exists and can be read as a stream: a FIFO, a character device or a file.
    static func readableStream(_ path: String, _ option: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw ValidationError("\(option) \(path): \(String(cString: strerror(errno)))")
        }
        let type = info.st_mode & S_IFMT
        guard type == S_IFIFO || type == S_IFCHR || type == S_IFREG else {
            throw ValidationError("\(option) \(path): not a FIFO, character device or file")
        }
    }
}
