import FuzzSupport
import Glibc
import VKBInput

/// The raw `struct input_event` stream reader (`--input-fifo`) on arbitrary bytes, read
/// from a file to its end.
@main enum FuzzInputStream {
    static func main() {
        runFuzzer { data, size in
            var template = Array("/tmp/vkb-fuzz-stream-XXXXXX".utf8CString)
            let fd = mkstemp(&template)
            precondition(fd >= 0, "mkstemp failed")
            let path = String(cString: template)
            defer { unlink(path) }
            let input = bytes(data, size)
            let written = input.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            precondition(written == input.count, "short write")
            guard let source = try? InputEventStreamSource(path: path) else { return 0 }
            try? source.run { _ in }
            return 0
        }
    }
}
