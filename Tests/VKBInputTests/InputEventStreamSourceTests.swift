import Foundation
import Testing
import VKBCore

@testable import VKBInput

@Suite("InputEventStreamSource")
struct InputEventStreamSourceTests {
    /// `struct input_event` bytes (64-bit Linux: 16 bytes of time, type, code, value).
    static func raw(_ events: [(type: UInt16, code: UInt16, value: Int32)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (i, e) in events.enumerated() {
            withUnsafeBytes(of: Int64(i).littleEndian) { bytes += $0 }
            withUnsafeBytes(of: Int64(0).littleEndian) { bytes += $0 }
            withUnsafeBytes(of: e.type.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: e.code.littleEndian) { bytes += $0 }
            withUnsafeBytes(of: e.value.littleEndian) { bytes += $0 }
        }
        return bytes
    }

    /// A button press as hid-input sends it, axis motion, autorepeat, and a release.
    static let frames = raw([
        (EventType.abs, 0x00, 2048), (EventType.syn, 0, 0),
        (EventType.msc, 4, 0x90000 + 20), (EventType.key, 0x2c3, 1), (EventType.syn, 0, 0),
        (EventType.key, 0x2c3, 2), (EventType.syn, 0, 0),
        (EventType.abs, 0x01, 17), (EventType.key, 0x2ff, 1), (EventType.key, 0x2c3, 0), (EventType.syn, 0, 0),
    ])

    static let expected: [DeviceSourceEvent] = [
        .keyState(KeySet()),
        .key(code: 0x2c3, pressed: true),
        .key(code: 0x2ff, pressed: true),
        .key(code: 0x2c3, pressed: false),
    ]

    @Test func eventSizeIsTheKernels() {
        #expect(InputEventStreamSource.eventSize == 24)
    }

    @Test func fileIsReadToItsEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-stream-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try Data(Self.frames).write(to: URL(fileURLWithPath: path))
        let source = try InputEventStreamSource(path: path)
        #expect(source.device.path == path)
        let log = EventLog<DeviceSourceEvent>()
        try source.run { log.append($0) }
        #expect(log.events == Self.expected + [.ended])
    }

    @Test func fifoEventsSplitAcrossWritesThenStop() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        let writer = open(path, O_RDWR | O_NONBLOCK)
        #expect(writer >= 0)
        defer { close(writer) }
        let source = try InputEventStreamSource(path: path)
        let log = EventLog<DeviceSourceEvent>()
        let finished = EventLog<Bool>()
        let thread = Thread {
            try? source.run { log.append($0) }
            finished.append(true)
        }
        thread.start()
        // Cut one event in two: the source must keep the first half until the rest comes.
        let cut = 3 * InputEventStreamSource.eventSize + 10
        Self.frames[..<cut].withUnsafeBytes { #expect(write(writer, $0.baseAddress, $0.count) == $0.count) }
        try waitUntil { log.events.count >= 1 }
        Self.frames[cut...].withUnsafeBytes { #expect(write(writer, $0.baseAddress, $0.count) == $0.count) }
        try waitUntil { log.events.count >= Self.expected.count }
        source.stop()
        try waitUntil { !finished.events.isEmpty }
        // Stopped, not ended: the writer is still open.
        #expect(log.events == Self.expected)
    }

    @Test func missingPathNamesIt() throws {
        let source = try InputEventStreamSource(path: "/nonexistent/vkb-stream")
        #expect(throws: InputEventStreamError.self) { try source.run { _ in } }
        do {
            try source.run { _ in }
        } catch {
            #expect("\(error)".contains("/nonexistent/vkb-stream"))
            #expect("\(error)".contains("No such file"))
        }
    }

    private func waitUntil(timeout: TimeInterval = 10, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            guard Date() < deadline else {
                Issue.record("condition not met within \(timeout) s")
                return
            }
            usleep(1_000)
        }
    }
}
