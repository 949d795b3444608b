import FuzzSupport
import Glibc
import VKBCore
import VKBInput
import VKBLoop

/// HID input reports back to back (`--hidraw-fifo`), split by a descriptor's report
/// lengths, on arbitrary bytes: the first two bytes (little-endian) are the descriptor's
/// length, then the descriptor, then the stream, read from a file to its end.
@main enum FuzzReportStream {
    static func main() {
        runFuzzer { data, size in
            let input = bytes(data, size)
            guard input.count >= 2 else { return 0 }
            let length = min(Int(input[0]) | Int(input[1]) << 8, input.count - 2)
            guard let descriptor = try? HIDReportDescriptor(parsing: Array(input[2..<(2 + length)])) else { return 0 }
            var template = Array("/tmp/vkb-fuzz-reports-XXXXXX".utf8CString)
            let fd = mkstemp(&template)
            precondition(fd >= 0, "mkstemp failed")
            let path = String(cString: template)
            defer { unlink(path) }
            let stream = Array(input[(2 + length)...])
            let written = stream.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
            precondition(written == stream.count, "short write")
            // The daemon's path: the reader on a loop, every button above 80 wanted.
            guard let loop = try? EpollLoop() else { return 0 }
            let wanted = KeySet((VKBButton.maxDeliverable + 1...VKBButton.maxButton).compactMap(VKBButton.hidrawCode(forButton:)))
            let reader = HIDReportStreamSource(path: path, descriptor: descriptor).open(
                on: loop, wanting: wanted, events: { if $0 == .ended { loop.stop() } }, failed: { _ in loop.stop() })
            loop.run()
            reader.stop()
            loop.close()
            return 0
        }
    }
}
