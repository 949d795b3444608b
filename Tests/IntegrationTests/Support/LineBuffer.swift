import NIOConcurrencyHelpers

/// The lines a child process wrote on one stream, filled by a reader thread and read
/// by tests from any task.
final class LineBuffer: Sendable {
    private struct State {
        var lines: [String] = []
        var partial: [UInt8] = []
        var closed = false
    }

    private let state = NIOLockedValueBox(State())

    /// Every complete line so far, without the newline.
    var lines: [String] { state.withLockedValue { $0.lines } }

    /// Number of complete lines so far.
    var count: Int { state.withLockedValue { $0.lines.count } }

    /// True once the writer closed the stream (the process and its children exited
    /// or closed it); no more lines will come.
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Lines from `index` on.
    func lines(from index: Int) -> [String] {
        state.withLockedValue { Array($0.lines[min(index, $0.lines.count)...]) }
    }

    /// Appends raw bytes; completes a line at each `\n`.
    func append(_ bytes: UnsafeRawBufferPointer) {
        state.withLockedValue { state in
            for byte in bytes {
                if byte == UInt8(ascii: "\n") {
                    state.lines.append(String(decoding: state.partial, as: UTF8.self))
                    state.partial.removeAll(keepingCapacity: true)
                } else {
                    state.partial.append(byte)
                }
            }
        }
    }

    /// Marks the end of the stream; an unterminated last line becomes a line.
    func close() {
        state.withLockedValue { state in
            if !state.partial.isEmpty {
                state.lines.append(String(decoding: state.partial, as: UTF8.self))
                state.partial.removeAll()
            }
            state.closed = true
        }
    }

    /// The last `n` lines, indented, for error messages.
    func tail(_ n: Int = 20) -> String {
        let lines = self.lines
        var shown = lines.suffix(n).map { "  " + $0 }
        if lines.count > n { shown.insert("  … \(lines.count - n) earlier line(s)", at: 0) }
        return shown.isEmpty ? "  (nothing)" : shown.joined(separator: "\n")
    }
}
