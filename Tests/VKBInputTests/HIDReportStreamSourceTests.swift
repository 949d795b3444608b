import Foundation
import Glibc
import Logging
import Testing
import VKBCore
import VKBLoop

@testable import VKBInput

/// Input reports back to back in a FIFO or file (`--hidraw-fifo`): split by the lengths the
/// descriptor declares, as `make bench` feeds them to the bridge.
@Suite struct HIDReportStreamSourceTests {
    typealias D = HIDReportDescriptor

    static func code(_ n: Int) -> UInt16 { VKBButton.hidrawCode(forButton: n)! }
    static func wanting(_ buttons: [Int]) -> KeySet { KeySet(buttons.map(code)) }

    /// Report 1 of `HIDReportDescriptorTests.twoReports`: 4 axes, buttons 1–64 (17 bytes).
    static let axes: [UInt8] = [1] + [UInt8](repeating: 0x5A, count: 16)
    static func report2(_ down: [Int]) -> [UInt8] { HidrawReaderTests.report2(down: down) }

    static func source(_ path: String) throws -> HIDReportStreamSource {
        HIDReportStreamSource(path: path, descriptor: try D(parsing: HIDReportDescriptorTests.twoReports))
    }

    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("vkb-\(name)-\(UUID().uuidString)").path
    }

    @Test func aFileOfReportsIsSplitByTheirDeclaredLengths() throws {
        let path = Self.temporaryPath("reports")
        defer { unlink(path) }
        // Reports of 17 and 10 bytes mixed: a reader that took a read for one report
        // would see none of the changes after the first.
        let bytes = Self.axes + Self.report2([81]) + Self.axes + Self.report2([81, 128]) + Self.axes
            + Self.report2([128]) + Self.report2([128])
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let reading = try LoopReading.read(try Self.source(path), wanting: Self.wanting([81, 128]))
        #expect(reading.error == nil)
        #expect(reading.events == [
            .keyState(KeySet()),
            .key(code: Self.code(81), pressed: true), .key(code: Self.code(128), pressed: true),
            .key(code: Self.code(81), pressed: false), .ended,
        ])
    }

    @Test func aReportCutAcrossWritesWaitsForItsRest() throws {
        let path = Self.temporaryPath("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        var writer = open(path, O_RDWR | O_NONBLOCK)
        defer { if writer >= 0 { close(writer) } }
        let bytes = Self.axes + Self.report2([97]) + Self.report2([])
        let cut = Self.axes.count + 4
        let reading = try LoopReading.read(try Self.source(path), wanting: Self.wanting([97])) { events in
            if events.count == 3 {
                close(writer)
                writer = -1
            }
            return false
        } during: { loop in
            bytes[..<cut].withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            loop.schedule(in: .milliseconds(20)) {
                bytes[cut...].withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            }
        }
        #expect(reading.error == nil && !reading.timedOut)
        #expect(reading.events == [
            .keyState(KeySet()), .key(code: Self.code(97), pressed: true), .key(code: Self.code(97), pressed: false),
            .ended,
        ])
    }

    @Test func aReportIDTheDescriptorLacksFailsTheStreamWithItsPlace() throws {
        let path = Self.temporaryPath("reports")
        defer { unlink(path) }
        try Data(Self.report2([81]) + [7, 0, 0]).write(to: URL(fileURLWithPath: path))
        let reading = try LoopReading.read(try Self.source(path), wanting: Self.wanting([81]))
        let error = try #require(reading.error as? HidrawError)
        #expect("\(error)" == "\(path): report ID 7 at byte 10 of a read is not an input report of the descriptor; the stream is out of step")
        #expect(reading.events == [.keyState(KeySet()), .key(code: Self.code(81), pressed: true)])
    }

    @Test func newBindingsGiveAFreshStateAndTheirButtons() throws {
        let path = Self.temporaryPath("fifo")
        #expect(mkfifo(path, 0o600) == 0)
        defer { unlink(path) }
        let writer = open(path, O_RDWR | O_NONBLOCK)
        defer { close(writer) }
        let loop = try EpollLoop()
        defer { loop.close() }
        var events: [DeviceSourceEvent] = []
        let reader = try Self.source(path).open(
            on: loop, wanting: Self.wanting([81]),
            events: { event in
                events.append(event)
                if case .key = event { loop.stop() }
            },
            failed: { _ in loop.stop() })
        defer { reader.stop() }
        func send(_ report: [UInt8]) -> [DeviceSourceEvent] {
            let before = events.count
            report.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            let limit = loop.schedule(in: .seconds(2)) { loop.stop() }
            loop.run()
            loop.cancel(limit)
            return Array(events[before...])
        }
        #expect(events == [.keyState(KeySet())])
        #expect(send(Self.report2([81, 97])) == [.key(code: Self.code(81), pressed: true)])
        // A reload binds 97 instead of 81: the state says neither is held (97's state is
        // unknown until the next report), and 81 is no longer reported.
        reader.want(Self.wanting([97]))
        #expect(events.last == .keyState(KeySet()))
        #expect(send(Self.report2([97])) == [.key(code: Self.code(97), pressed: true)])
    }

    @Test func aDescriptorFileNamesItselfWhenItCannotBeUsed() throws {
        #expect(throws: HIDDescriptorFileError(path: "/nonexistent/rdesc", message: "No such file or directory")) {
            try D(contentsOfFile: "/nonexistent/rdesc")
        }
        let path = Self.temporaryPath("rdesc")
        defer { unlink(path) }
        try Data([0x05, 0x09, 0x19]).write(to: URL(fileURLWithPath: path))
        let error = try #require(throws: HIDDescriptorFileError.self) { try D(contentsOfFile: path) }
        #expect(error.description.hasPrefix("\(path): HID report descriptor, byte 2: "))
        try Data(HIDReportDescriptorTests.twoReports).write(to: URL(fileURLWithPath: path))
        #expect(try D(contentsOfFile: path).highestButton == 128)
    }
}
