import Foundation
import Glibc
import Logging
import Testing
import VKBCore
import VKBLoop

@testable import VKBInput

/// Buttons above 80 from input reports: where each is in a report, and the reader on a
/// loop fed whole reports through a FIFO (a real hidraw node runs in the kernel tier).
@Suite struct HidrawReaderTests {
    typealias D = HIDReportDescriptor

    /// A report of `HIDReportDescriptorTests.twoReports` (IDs 1 and 2): report 2 carries
    /// buttons 65–128 in its first 8 bytes, then a vendor byte.
    static func report2(down buttons: [Int]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 1 + 9)
        bytes[0] = 2
        for n in buttons where n >= 65 { bytes[1 + (n - 65) / 8] |= 1 << UInt8((n - 65) % 8) }
        return bytes
    }

    @Test func buttonsAreFoundInTheirReportOnly() throws {
        let d = try D(parsing: HIDReportDescriptorTests.twoReports)
        let report = Self.report2(down: [81, 128])
        #expect(d.isDown(81, in: report[...]) == true)
        #expect(d.isDown(128, in: report[...]) == true)
        #expect(d.isDown(97, in: report[...]) == false)
        // Button 1 lives in report 1: report 2 says nothing about it.
        #expect(d.isDown(1, in: report[...]) == nil)
        // Too short to carry button 128.
        #expect(d.isDown(128, in: report[0..<5]) == nil)
    }

    @Test func aVKBReportWithoutIDsCarriesAll128() throws {
        let d = try D(parsing: HIDReportDescriptorTests.joystick(buttons: 128))
        // 8 axes of 16 bits, a hat nibble and padding: buttons start at byte 17.
        var report = [UInt8](repeating: 0, count: 17 + 16)
        report[17 + (97 - 1) / 8] |= 1 << UInt8((97 - 1) % 8)
        #expect(d.isDown(97, in: report[...]) == true)
        #expect(d.isDown(96, in: report[...]) == false)
    }

    @Test func arrayFieldsHoldButtonsByValue() throws {
        let bytes: [UInt8] = [0x05, 0x09, 0x19, 0x01, 0x29, 0x80, 0x15, 0x01, 0x25, 0x80, 0x75, 0x08, 0x95, 0x04, 0x81, 0x00]
        let d = try D(parsing: bytes)
        #expect(d.isDown(97, in: [0, 97, 0, 0][...]) == true)
        #expect(d.isDown(98, in: [0, 97, 0, 0][...]) == false)
    }

    /// The reader on a loop of the test's thread, fed reports through a FIFO: one report,
    /// then the loop runs until its event came (a FIFO, unlike hidraw, could merge two).
    final class Feed {
        let loop: EpollLoop
        let path: String
        let writer: Int32
        var events: [DeviceSourceEvent] = []
        var error: (any Error)?
        var reader: HidrawReader!

        init(wanted: [Int]) throws {
            loop = try EpollLoop()
            path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-hidraw-\(UUID().uuidString)").path
            #expect(mkfifo(path, 0o600) == 0)
            writer = open(path, O_RDWR | O_NONBLOCK)
            let descriptor = try D(parsing: HIDReportDescriptorTests.twoReports)
            reader = HidrawReader(
                path: path, wanted: wanted, descriptor: descriptor, loop: loop, logger: Logger(label: "test"),
                events: { [unowned self] in
                    events.append($0)
                    loop.stop()
                },
                failed: { [unowned self] in
                    error = $0
                    loop.stop()
                })
            reader.open()
        }

        deinit {
            reader.stop()
            close(writer)
            unlink(path)
        }

        /// Writes `report` and returns the events it caused (within a second).
        func send(_ report: [UInt8]) -> [DeviceSourceEvent] {
            let before = events.count
            report.withUnsafeBytes { _ = write(writer, $0.baseAddress, $0.count) }
            let deadline = loop.schedule(in: .seconds(1)) { [loop] in loop.stop() }
            loop.run()
            loop.cancel(deadline)
            return Array(events[before...])
        }
    }

    static func code(_ n: Int) -> UInt16 { VKBButton.hidrawCode(forButton: n)! }

    @Test func changesOfWantedButtonsOnlyAreReported() throws {
        let feed = try Feed(wanted: [81, 96, 127, 128])
        #expect(feed.send(Self.report2(down: [81])) == [.key(code: Self.code(81), pressed: true)])
        #expect(feed.send(Self.report2(down: [81, 128])) == [.key(code: Self.code(128), pressed: true)])
        // Button 100 is not bound: no event, and the same state again reports nothing.
        #expect(feed.send(Self.report2(down: [81, 100, 128])).isEmpty)
        #expect(feed.send(Self.report2(down: [])) == [
            .key(code: Self.code(81), pressed: false), .key(code: Self.code(128), pressed: false),
        ])
        #expect(feed.reader.held.isEmpty)
        #expect(feed.error == nil)
    }

    @Test func reportsForOtherIDsChangeNothing() throws {
        let feed = try Feed(wanted: [81])
        #expect(feed.send(Self.report2(down: [81])) == [.key(code: Self.code(81), pressed: true)])
        // Report 1 (axes and buttons 1–64) says nothing about button 81.
        #expect(feed.send([1] + [UInt8](repeating: 0xFF, count: 16)).isEmpty)
        #expect(feed.reader.held.codes == [Self.code(81)])
    }

    @Test func aNodeItCannotOpenFailsWithTheReasonNeverInsideOpen() throws {
        let loop = try EpollLoop()
        var failure: (any Error)?
        var opening = true
        var failedWhileOpening = false
        let reader = HidrawReader(
            path: "/nonexistent/hidraw9", wanted: [81], loop: loop, logger: Logger(label: "test"), events: { _ in },
            failed: {
                failure = $0
                failedWhileOpening = opening
                loop.stop()
            })
        reader.open()
        opening = false
        loop.run()
        #expect(!failedWhileOpening)
        #expect(failure as? HidrawError == .openFailed(path: "/nonexistent/hidraw9", errno: ENOENT))
        #expect(HidrawError.permissionDenied(path: "/dev/hidraw3").description.contains("70-vkb-bridge.rules"))
    }
}
