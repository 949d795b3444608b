// Owns one stick's hidraw descriptor while buttons above 80 are wanted from it, or the
// descriptor of a stream of input reports (`HIDReportStreamSource`).

import Glibc
import Logging
import VKBCore
import VKBLoop

/// Reads buttons 81–128 from a stick's `/dev/hidrawN`, where evdev stops (DESIGN §4).
///
/// - Read-only, non-blocking; never writes, never asks for output or feature reports.
/// - The report descriptor (`HIDIOCGRDESC`) says which report and bit carries each button
///   (`HIDReportDescriptor`); a descriptor it does not understand fails the reader with
///   the reason, and buttons 1–80 keep coming through evdev.
/// - The state at open comes from `HIDIOCGINPUT` where the device answers it (kept in
///   `held`, not reported: the owner reports it with its key state), else from the first
///   report; until then the buttons count as released.
/// - hidraw has no per-client event mask: every input report (~1,000 a second with axes
///   moving) wakes the loop, which is why it is opened only when a binding needs it. Each
///   wake-up reads at most `batch` reports.
///
/// Reports `.key` with vkb-bridge's hidraw codes (`VKBButton.hidrawCode`), only for the
/// `wanted` buttons, only on a change.
///
/// With `framing: .stream` it reads the same reports from a FIFO, pipe or file instead,
/// where `read()` keeps no report boundaries: the reports are split by the lengths the
/// descriptor declares, one `read()` per wake-up, as `StreamReader` reads input events. It
/// then reports `.keyState` at open and `.ended` at end of file, as a device of its own.
final class HidrawReader: DeviceReader {
    /// How reports arrive.
    enum Framing {
        /// A hidraw node: one report per `read()`, whatever its length.
        case node
        /// A byte stream of whole reports back to back (the descriptor gives each length).
        case stream
    }

    private let path: String
    private let framing: Framing
    private var wanted: [Int]
    private let loop: EpollLoop
    private let logger: Logger
    private let events: DeviceEventHandler
    private let failure: FailureReport
    private var node: LoopDescriptor?
    private var fd: Int32 { node?.fd ?? -1 }
    private var descriptor: HIDReportDescriptor?
    /// The wanted buttons down now, as hidraw codes.
    private(set) var held = KeySet()
    private var stopped = false
    private var buffer = [UInt8](repeating: 0, count: 4096)
    /// `.stream`: bytes of a partial report kept from the previous read.
    private var have = 0
    /// `.stream`: report ID (0 without IDs) → length in bytes, ID byte included.
    private var lengths: [UInt8: Int] = [:]

    /// Reports read per wake-up, at most.
    static let batch = 64

    /// - Parameters:
    ///   - wanted: button numbers (81–128) to report.
    ///   - descriptor: the report descriptor, when not to be asked of the node (streams,
    ///     tests).
    init(
        path: String, wanted: [Int], descriptor: HIDReportDescriptor? = nil, framing: Framing = .node,
        loop: EpollLoop, logger: Logger, events: @escaping DeviceEventHandler, failed: @escaping DeviceFailureHandler
    ) {
        self.path = path
        self.framing = framing
        self.wanted = Self.readableButtons(wanted)
        self.descriptor = descriptor
        self.loop = loop
        self.logger = logger
        self.events = events
        self.failure = FailureReport(loop: loop, failed: failed)
    }

    deinit {
        close()
    }

    /// Buttons this reader can report: 81–128, sorted.
    private static func readableButtons(_ buttons: [Int]) -> [Int] {
        buttons.filter { VKBButton.hidrawCode(forButton: $0) != nil }.sorted()
    }

    func stop() {
        stopped = true
        failure.cancel()
        close()
    }

    /// A stream's bindings changed: its wanted buttons above 80 from now on, and a fresh
    /// `.keyState`. (A stick's `EvdevReader` opens a new reader instead.)
    func want(_ codes: KeySet) {
        wanted = Self.readableButtons(codes.filter(KeyCode.isHidraw).codes.compactMap(VKBButton.button(forCode:)))
        held = held.filter { code in wanted.contains { VKBButton.hidrawCode(forButton: $0) == code } }
        if framing == .stream, !stopped { events(.keyState(held)) }
    }

    private func close() {
        node?.close()
        node = nil
    }

    /// Closes and reports `error` through the loop (never inside `open`).
    private func fail(_ error: HidrawError) {
        close()
        stopped = true
        failure.report(error)
    }

    func open() {
        var opened: Int32
        repeat { opened = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) } while opened < 0 && errno == EINTR
        guard opened >= 0 else {
            let code = errno
            return fail(code == EACCES || code == EPERM ? .permissionDenied(path: path) : .openFailed(path: path, errno: code))
        }
        node = LoopDescriptor(owning: opened, on: loop)
        if descriptor == nil {
            do throws(HidrawError) {
                descriptor = try Self.readDescriptor(fd, path: path)
            } catch {
                return fail(error)
            }
        }
        guard let descriptor else { return }
        let missing = wanted.filter { descriptor.buttons[$0] == nil }
        if !missing.isEmpty {
            logger.warning("\(path): the stick's HID descriptor declares no button \(missing.map(String.init).joined(separator: ", ")); bindings on \(missing.count == 1 ? "it" : "them") never fire")
        }
        if framing == .stream {
            return openStream(descriptor)
        }
        do {
            try node?.watch(.readable) { [unowned self] _ in readable() }
        } catch {
            return fail(.openFailed(path: path, errno: error.errno))
        }
        askForCurrentReports(descriptor)
    }

    /// A stream has no `HIDIOCGINPUT`: its buttons count as released until a report says
    /// otherwise.
    private func openStream(_ descriptor: HIDReportDescriptor) {
        for report in descriptor.inputReports {
            lengths[report.id ?? 0] = (descriptor.usesReportIDs ? 1 : 0) + (report.bits + 7) / 8
        }
        guard lengths.values.allSatisfy({ $0 > 0 && $0 <= buffer.count }) && !lengths.isEmpty else {
            return fail(.descriptor(path: path, HIDDescriptorError(offset: 0, message: "no input report of 1 to \(buffer.count) bytes to split a stream by")))
        }
        do {
            try node?.watchReadable { [unowned self] in readStream() }
        } catch {
            return fail(.openFailed(path: path, errno: error.errno))
        }
        events(.keyState(held))
    }

    /// `HIDIOCGINPUT` for each input report that carries a wanted button; a device that
    /// does not answer leaves them released until its first report.
    private func askForCurrentReports(_ descriptor: HIDReportDescriptor) {
        var ids: Set<UInt8> = []
        for button in wanted {
            switch descriptor.buttons[button] {
            case .bit(let id, _)?, .arrayValue(let id, _, _, _, _)?: ids.insert(id ?? 0)
            case nil: continue
            }
        }
        for id in ids.sorted() {
            let length = 1 + (descriptor.inputReports.first { ($0.id ?? 0) == id }.map { ($0.bits + 7) / 8 } ?? 0)
            guard length > 1, length <= buffer.count else { continue }
            buffer[0] = id
            let got = buffer.withUnsafeMutableBytes { ioctl(fd, Self.hidiocginput(length), $0.baseAddress!) }
            guard got > 0 else {
                logger.debug("\(path): HIDIOCGINPUT for report \(id): \(SystemCallError.message(errno)); the first report will tell")
                continue
            }
            // The kernel returns the report with its ID byte first, also without IDs (0).
            let report = descriptor.usesReportIDs ? buffer[0..<Int(got)] : buffer[1..<Int(got)]
            apply(report, with: descriptor, reporting: false)
        }
    }

    private func readable() {
        guard !stopped, let descriptor else { return }
        for _ in 0..<Self.batch {
            let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if got > 0 {
                apply(buffer[0..<got], with: descriptor)
                if stopped { return }
                continue
            }
            if got < 0 && errno == EINTR { continue }
            if got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { return }
            // ENODEV or end of file: the stick is gone; its evdev reader reports that.
            close()
            stopped = true
            return
        }
    }

    /// One read per wake-up, split into reports by their declared lengths; a partial
    /// report waits for the next read. A writer flooding the stream cannot starve the loop.
    private func readStream() {
        guard !stopped, let descriptor else { return }
        let got = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + have, $0.count - have) }
        if got == 0 {
            close()
            stopped = true
            events(.ended)
            return
        }
        if got < 0 {
            if errno == EAGAIN || errno == EINTR { return }
            return fail(.openFailed(path: path, errno: errno))
        }
        have += got
        var offset = 0
        while offset < have, !stopped {
            let id = descriptor.usesReportIDs ? buffer[offset] : 0
            guard let length = lengths[id] else {
                return fail(.stream(path: path, message: "report ID \(id) at byte \(offset) of a read is not an input report of the descriptor; the stream is out of step"))
            }
            guard have - offset >= length else { break }
            apply(buffer[offset..<(offset + length)], with: descriptor)
            offset += length
        }
        have -= offset
        if have > 0, offset > 0 { buffer.withUnsafeMutableBytes { _ = memmove($0.baseAddress!, $0.baseAddress! + offset, have) } }
    }

    /// Updates `held`; reports each change unless `reporting` is false (the state at
    /// open, which the owner reports as part of its `.keyState`).
    private func apply(_ report: ArraySlice<UInt8>, with descriptor: HIDReportDescriptor, reporting: Bool = true) {
        for button in wanted {
            guard let down = descriptor.isDown(button, in: report), let code = VKBButton.hidrawCode(forButton: button) else { continue }
            guard held.contains(code) != down else { continue }
            held.set(code, down)
            guard reporting else { continue }
            events(.key(code: code, pressed: down))
            if stopped { return }
        }
    }

    // MARK: - ioctls

    /// `_IOR('H', 0x01, int)`; the macros do not import into Swift.
    static let hidiocgrdescsize = UInt(2 << 30 | 4 << 16 | 0x48 << 8 | 0x01)
    /// `_IOR('H', 0x02, struct hidraw_report_descriptor)` (a 4-byte size and 4,096 bytes).
    static let hidiocgrdesc = UInt(2 << 30 | 4100 << 16 | 0x48 << 8 | 0x02)
    /// `_IOC(_IOC_WRITE|_IOC_READ, 'H', 0x0A, len)`.
    static func hidiocginput(_ length: Int) -> UInt {
        UInt(3 << 30 | length << 16 | 0x48 << 8 | 0x0A)
    }

    /// The node's report descriptor, parsed.
    static func readDescriptor(_ fd: Int32, path: String) throws(HidrawError) -> HIDReportDescriptor {
        var size: Int32 = 0
        guard ioctl(fd, hidiocgrdescsize, &size) == 0 else { throw .openFailed(path: path, errno: errno) }
        guard size > 0, Int(size) <= HIDReportDescriptor.maxBytes else {
            throw .descriptor(path: path, HIDDescriptorError(offset: 0, message: "a descriptor of \(size) bytes"))
        }
        var raw = [UInt8](repeating: 0, count: 4 + HIDReportDescriptor.maxBytes)
        raw.withUnsafeMutableBytes { $0.storeBytes(of: UInt32(size), as: UInt32.self) }
        guard raw.withUnsafeMutableBytes({ ioctl(fd, hidiocgrdesc, $0.baseAddress!) }) == 0 else {
            throw .openFailed(path: path, errno: errno)
        }
        do throws(HIDDescriptorError) {
            return try HIDReportDescriptor(parsing: Array(raw[4..<(4 + Int(size))]))
        } catch {
            throw .descriptor(path: path, error)
        }
    }
}

/// Why buttons above 80 cannot be read from a stick's hidraw node.
public enum HidrawError: Error, Equatable, CustomStringConvertible {
    case permissionDenied(path: String)
    case openFailed(path: String, errno: Int32)
    case descriptor(path: String, HIDDescriptorError)
    /// A report stream (`HIDReportStreamSource`) that cannot be split into reports.
    case stream(path: String, message: String)

    public var description: String {
        switch self {
        case .permissionDenied(let path):
            return "cannot open \(path): permission denied. Buttons above 80 are read from the stick's hidraw node; "
                + "install the udev rule (\(EvdevSourceError.udevRule)), which gives VKB hidraw nodes to group 'input', "
                + "then replug the stick"
        case .openFailed(let path, let errno):
            return "cannot read \(path): \(SystemCallError.message(errno))"
        case .descriptor(let path, let error):
            return "\(path): cannot use the stick's report descriptor (\(error))"
        case .stream(let path, let message):
            return "\(path): \(message)"
        }
    }
}
