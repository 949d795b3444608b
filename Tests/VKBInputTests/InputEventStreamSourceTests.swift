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
        let source = InputEventStreamSource(path: path)
        #expect(source.device.path == path)
        let reading = try LoopReading.read(source)
        #expect(reading.error == nil)
        #expect(reading.events == Self.expected + [.ended])
    }

    @Test func fifoEventsSplitAcrossWritesThenEndOfFile() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        var writer = open(path, O_RDWR | O_NONBLOCK)
        #expect(writer >= 0)
        defer { if writer >= 0 { close(writer) } }
        // Cut one event in two: the reader must keep the first half until the rest comes.
        let cut = 3 * InputEventStreamSource.eventSize + 10
        let reading = try LoopReading.read(InputEventStreamSource(path: path)) { events in
            if events.count == Self.expected.count {
                close(writer)  // the last writer goes: end of file
                writer = -1
            }
            return false
        } during: { loop in
            Self.frames[..<cut].withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            // The rest a little later, after the reader has had the first part.
            loop.schedule(in: .milliseconds(20)) {
                Self.frames[cut...].withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            }
        }
        #expect(reading.error == nil && !reading.timedOut)
        #expect(reading.events == Self.expected + [.ended])
    }

    @Test func stoppedWhileTheWriterStaysReportsNoEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-fifo-\(UUID().uuidString)").path
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        let writer = open(path, O_RDWR | O_NONBLOCK)
        defer { close(writer) }
        let reading = try LoopReading.read(InputEventStreamSource(path: path)) { $0.count == Self.expected.count } during: { _ in
            Self.frames.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
        }
        #expect(reading.events == Self.expected)
    }

    @Test func missingPathNamesIt() throws {
        let reading = try LoopReading.read(InputEventStreamSource(path: "/nonexistent/vkb-stream"))
        let error = try #require(reading.error as? InputEventStreamError)
        #expect("\(error)".contains("/nonexistent/vkb-stream"))
        #expect("\(error)".contains("No such file"))
        #expect(reading.events.isEmpty)
    }
}
