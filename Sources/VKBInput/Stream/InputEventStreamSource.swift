import CEvdev

#if canImport(Glibc)
import Glibc
#endif
import VKBCore
import VKBLoop

/// Reads raw `struct input_event` records, exactly as a `/dev/input/eventN` node delivers
/// them, from a FIFO, pipe or file. It is the input path `make bench` gives the bridge and
/// its baseline relays alike, and a way for another program to feed the bridge.
///
/// The reader reports `.keyState(KeySet())` first (a stream has no `EVIOCGKEY` to ask), then
/// each key press and release; autorepeat and every other event type are dropped. Unlike
/// the evdev source it cannot ask the kernel to mask axis events, so every frame a writer
/// sends wakes it (one `read()` of at most `batch` events per wake-up). When every writer
/// has closed the stream (end of file) it reports `.ended`, and the device keeps its last
/// state, like a finished recording.
/// A stream has no kernel state to re-read, so `SYN_DROPPED` is ignored.
///
/// Open a FIFO's write end before the reader opens it, or it sees end of file at once.
public final class InputEventStreamSource: DeviceSource {
    public let device: DeviceDescription

    /// Events read with one `read()`, at most.
    static let batch = 64
    static let eventSize = MemoryLayout<input_event>.size

    /// A source for the stream at `path`, described as `device` (by default a device named
    /// "input event stream" whose `path` is `path`). Opens nothing yet.
    public init(path: String, device: DeviceDescription? = nil) {
        var description = device ?? DeviceDescription(name: "input event stream")
        description.path = path
        self.device = description
    }

    public func open(
        on loop: EpollLoop, wanting wanted: KeySet, events: @escaping DeviceEventHandler,
        failed: @escaping DeviceFailureHandler
    ) -> any DeviceReader {
        let reader = StreamReader(path: device.path, loop: loop, events: events, failed: failed)
        reader.open()
        return reader
    }
}

/// Owns the stream's descriptor and its partial-event buffer.
final class StreamReader: DeviceReader {
    private let path: String
    private let loop: EpollLoop
    private let events: DeviceEventHandler
    private let failure: FailureReport
    private var node: LoopDescriptor?
    private var fd: Int32 { node?.fd ?? -1 }
    private let buffer: UnsafeMutableRawBufferPointer
    /// Bytes of a partial event kept from the previous read.
    private var have = 0
    private var stopped = false

    private static let capacity = InputEventStreamSource.batch * InputEventStreamSource.eventSize
    private static let typeOffset = MemoryLayout<input_event>.offset(of: \.type)!
    private static let codeOffset = MemoryLayout<input_event>.offset(of: \.code)!
    private static let valueOffset = MemoryLayout<input_event>.offset(of: \.value)!

    init(path: String, loop: EpollLoop, events: @escaping DeviceEventHandler, failed: @escaping DeviceFailureHandler) {
        self.path = path
        self.loop = loop
        self.events = events
        self.failure = FailureReport(loop: loop, failed: failed)
        buffer = .allocate(byteCount: Self.capacity, alignment: MemoryLayout<input_event>.alignment)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    func stop() {
        stopped = true
        failure.cancel()
        close()
    }

    private func close() {
        node?.close()
        node = nil
    }

    /// Fails through the loop, never inside `open`.
    private func fail(_ error: InputEventStreamError) {
        close()
        stopped = true
        failure.report(error)
    }

    func open() {
        let opened = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard opened >= 0 else { return fail(.systemCall(path: path, call: "open", errno: errno)) }
        node = LoopDescriptor(owning: opened, on: loop)
        do {
            try node?.watchReadable { [unowned self] in readable() }
        } catch {
            return fail(.systemCall(path: path, call: error.call, errno: error.errno))
        }
        events(.keyState(KeySet()))
    }

    /// One read per wake-up: a writer flooding the stream cannot starve the loop.
    private func readable() {
        let base = buffer.baseAddress!
        let got = read(fd, base + have, Self.capacity - have)
        if got == 0 {
            stopped = true
            close()
            events(.ended)
            return
        }
        if got < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            return fail(.systemCall(path: path, call: "read", errno: errno))
        }
        have += got
        var offset = 0
        let size = InputEventStreamSource.eventSize
        while have - offset >= size, !stopped {
            if buffer.load(fromByteOffset: offset + Self.typeOffset, as: UInt16.self) == EventType.key {
                let value = buffer.load(fromByteOffset: offset + Self.valueOffset, as: Int32.self)
                if value == 0 || value == 1 {
                    let code = buffer.load(fromByteOffset: offset + Self.codeOffset, as: UInt16.self)
                    events(.key(code: code, pressed: value == 1))
                }
            }
            offset += size
        }
        have -= offset
        if have > 0 { memmove(base, base + offset, have) }
    }
}
