import FuzzSupport
import Glibc
import VKBCore
import VKBInput
import VKBLoop

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
            // The daemon's path: the reader on a loop, until the end of the file.
            guard let loop = try? EpollLoop() else { return 0 }
            let reader = InputEventStreamSource(path: path).open(
                on: loop, events: { if $0 == .ended { loop.stop() } }, failed: { _ in loop.stop() })
            loop.run()
            reader.stop()
            return 0
        }
    }
}
