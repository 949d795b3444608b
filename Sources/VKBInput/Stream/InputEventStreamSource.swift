import CEvdev

#if canImport(Glibc)
import Glibc
#endif
import VKBCore

/// Reads raw `struct input_event` records, exactly as a `/dev/input/eventN` node delivers
/// them, from a FIFO, pipe or file. It is the input path `make bench` gives the bridge and
/// its baseline relays alike, and a way for another program to feed the bridge.
///
/// `run` reports `.keyState(KeySet())` first (a stream has no `EVIOCGKEY` to ask), then
/// each key press and release; autorepeat and every other event type are dropped. Unlike
/// the evdev source it cannot ask the kernel to mask axis events, so every frame a writer
/// sends wakes it. When every writer has closed the stream (end of file) it reports
/// `.ended` and returns, and the device keeps its last state, like a finished recording.
/// A stream has no kernel state to re-read, so `SYN_DROPPED` is ignored.
///
/// Open a FIFO's write end before `run` opens it for reading, or `run` sees end of file
/// at once.
public final class InputEventStreamSource: DeviceSource {
    public let device: DeviceDescription
    private let stopSignal = StopSignal()
    /// Wakes the `poll` in `run` on `stop()`.
    private let wakePipe: WakePipe

    /// Events read with one `read()`, at most.
    static let batch = 64
    static let eventSize = MemoryLayout<input_event>.size
    private static let typeOffset = MemoryLayout<input_event>.offset(of: \.type)!
    private static let codeOffset = MemoryLayout<input_event>.offset(of: \.code)!
    private static let valueOffset = MemoryLayout<input_event>.offset(of: \.value)!

    /// A source for the stream at `path`, described as `device` (by default a device named
    /// "input event stream" whose `path` is `path`). Opens nothing yet.
    public init(path: String, device: DeviceDescription? = nil) throws(InputEventStreamError) {
        var description = device ?? DeviceDescription(name: "input event stream")
        description.path = path
        self.device = description
        do {
            wakePipe = try WakePipe()
        } catch {
            throw .systemCall(path: path, call: error.call, errno: error.errno)
        }
    }

    public func stop() {
        stopSignal.stop()
        wakePipe.wake()
    }

    public func run(_ handler: @escaping DeviceEventHandler) throws {
        guard !stopSignal.isStopped else { return }
        let path = device.path
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { throw InputEventStreamError.systemCall(path: path, call: "open", errno: errno) }
        defer { close(fd) }
        handler(.keyState(KeySet()))

        let capacity = Self.batch * Self.eventSize
        let buffer = UnsafeMutableRawBufferPointer.allocate(
            byteCount: capacity, alignment: MemoryLayout<input_event>.alignment)
        defer { buffer.deallocate() }
        let base = buffer.baseAddress!
        var have = 0  // bytes of a partial event kept from the previous read
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0), pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                throw InputEventStreamError.systemCall(path: path, call: "poll", errno: errno)
            }
            if fds[1].revents != 0 && stopSignal.isStopped { return }
            guard fds[0].revents != 0 else { continue }
            let got = read(fd, base + have, capacity - have)
            if got == 0 {
                handler(.ended)
                return
            }
            if got < 0 {
                if errno == EAGAIN || errno == EINTR { continue }
                throw InputEventStreamError.systemCall(path: path, call: "read", errno: errno)
            }
            have += got
            var offset = 0
            while have - offset >= Self.eventSize {
                if buffer.load(fromByteOffset: offset + Self.typeOffset, as: UInt16.self) == EventType.key {
                    let value = buffer.load(fromByteOffset: offset + Self.valueOffset, as: Int32.self)
                    if value == 0 || value == 1 {
                        let code = buffer.load(fromByteOffset: offset + Self.codeOffset, as: UInt16.self)
                        handler(.key(code: code, pressed: value == 1))
                    }
                }
                offset += Self.eventSize
            }
            have -= offset
            if have > 0 { memmove(base, base + offset, have) }
        }
    }
}
