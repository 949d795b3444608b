import Foundation
import Testing
import VKBCore

@testable import VKBInput

@Suite("ReplayDeviceSource")
struct ReplayDeviceSourceTests {
    /// Keys at 0.1 s, 0.35 s and 1.0 s after the first event, with noise around them and a
    /// last (non-key) event at 1.5 s.
    static let timed = Fixtures.minimal(events: [
        "E: 0.000001 0003 0000 2048",
        "E: 0.000001 0000 0000 0000",
        "E: 0.100001 0004 0004 589825",
        "E: 0.100001 0001 0120 0001",
        "E: 0.100001 0000 0000 0000",
        "E: 0.200001 0003 0000 1000",
        "E: 0.300001 0001 0120 0002",
        "E: 0.350001 0001 0120 0000",
        "E: 1.000001 0001 02ff 0001",
        "E: 1.500001 0003 0000 0",
    ])

    private func run(_ source: ReplayDeviceSource) throws -> [DeviceSourceEvent] {
        let log = EventLog<DeviceSourceEvent>()
        try source.run { log.append($0) }
        return log.events
    }

    @Test func eventSequence() throws {
        let recording = try Fixtures.parse(Self.timed)
        let events = try run(ReplayDeviceSource(recording: recording, speed: 0))
        #expect(
            events == [
                .keyState(KeySet()),
                .key(code: 0x120, pressed: true),
                // value 2 (autorepeat) is not reported; MSC/ABS/SYN are dropped
                .key(code: 0x120, pressed: false),
                .key(code: 0x2FF, pressed: true),
                .ended,
            ])
    }

    @Test func deviceIsTheRecordingsDescription() throws {
        let recording = try Fixtures.parse(Self.timed, path: "a/b.evemu")
        let source = ReplayDeviceSource(recording: recording)
        #expect(source.device == recording.device)
        #expect(source.device.path == "a/b.evemu")
        #expect(source.device.name == "Test Stick")
    }

    @Test(arguments: [
        (1.0, [100.0, 250.0, 650.0, 500.0]),
        (2.0, [50.0, 125.0, 325.0, 250.0]),
        (0.5, [200.0, 500.0, 1300.0, 1000.0]),
        (0.0, []),
    ])
    func delaysScaleWithSpeed(speed: Double, expected: [Double]) throws {
        let clock = FakeClock()
        let recording = try Fixtures.parse(Self.timed)
        let source = ReplayDeviceSource(recording: recording, speed: speed, loop: false, clock: clock)
        let events = try run(source)
        #expect(events.count == 5)
        // Waits happen only before reported keys, then once to the recording's end (1.5 s).
        #expect(clock.sleptMilliseconds == expected)
    }

    @Test func absoluteTimestampsUseDifferences() throws {
        let recording = try Fixtures.parse(
            Fixtures.minimal(events: ["E: 1316171018.997000 0001 0120 1", "E: 1316171019.247000 0001 0120 0"], version: nil))
        let clock = FakeClock()
        let events = try run(ReplayDeviceSource(recording: recording, speed: 1, loop: false, clock: clock))
        #expect(events.count == 4)
        #expect(clock.sleptMilliseconds == [250])
    }

    @Test func loopStartsEachPassFreshUntilStopped() throws {
        let clock = FakeClock()
        let recording = try Fixtures.parse(Self.timed)
        let source = ReplayDeviceSource(recording: recording, speed: 1, loop: true, clock: clock)
        let log = EventLog<DeviceSourceEvent>()
        try source.run { event in
            log.append(event)
            if case .keyState = event, log.events.count(where: { $0 == .keyState(KeySet()) }) == 3 {
                source.stop()
            }
        }
        let pass: [DeviceSourceEvent] = [
            .keyState(KeySet()), .key(code: 0x120, pressed: true), .key(code: 0x120, pressed: false),
            .key(code: 0x2FF, pressed: true),
        ]
        // Two whole passes, the third stopped right after its key state; never `.ended`.
        #expect(log.events == pass + pass + [.keyState(KeySet())])
        // Timing restarts with each pass; the third pass's first wait sees the stop.
        #expect(clock.sleptMilliseconds == [100, 250, 650, 500, 100, 250, 650, 500, 100])
    }

    @Test func loopAsFastAsPossibleStopsToo() throws {
        let recording = try Fixtures.parse(Self.timed)
        let source = ReplayDeviceSource(recording: recording, speed: 0, loop: true)
        let count = EventLog<Int>()
        try source.run { event in
            count.append(0)
            if count.events.count >= 1000 { source.stop() }
        }
        #expect(count.events.count == 1000)
    }

    @Test func emptyRecordingEndsAtOnce() throws {
        let recording = try Fixtures.parse(Fixtures.minimal(events: []))
        #expect(try run(ReplayDeviceSource(recording: recording)) == [.keyState(KeySet()), .ended])
    }

    @Test func stopBeforeRunReportsNothing() throws {
        let source = ReplayDeviceSource(recording: try Fixtures.parse(Self.timed), speed: 0)
        source.stop()
        source.stop()  // idempotent
        #expect(try run(source).isEmpty)
    }

    /// Real clock: the second key is an hour away; stop() must cut the wait short.
    @Test func stopInterruptsALongWait() throws {
        let recording = try Fixtures.parse(
            Fixtures.minimal(events: ["E: 0.000001 0001 0120 1", "E: 3600.000001 0001 0120 0"]))
        let source = ReplayDeviceSource(recording: recording, speed: 1)
        let log = EventLog<DeviceSourceEvent>()
        let firstKey = DispatchSemaphore(value: 0)
        let run = BackgroundRun {
            try source.run { event in
                log.append(event)
                if case .key = event { firstKey.signal() }
            }
        }
        #expect(firstKey.wait(timeout: .now() + 10) == .success)
        let stopped = Date()
        source.stop()
        #expect(run.wait(seconds: 5), "run did not return after stop()")
        #expect(Date().timeIntervalSince(stopped) < 5)
        #expect(run.error == nil)
        #expect(log.events == [.keyState(KeySet()), .key(code: 0x120, pressed: true)])
    }

    @Test func scaledNanoseconds() throws {
        let recording = try Fixtures.parse(Self.timed)
        let clock = FakeClock()
        #expect(ReplayDeviceSource(recording: recording, speed: 1, loop: false, clock: clock).scaledNanoseconds(1) == 1_000)
        #expect(ReplayDeviceSource(recording: recording, speed: 4, loop: false, clock: clock).scaledNanoseconds(1_000) == 250_000)
        #expect(ReplayDeviceSource(recording: recording, speed: 1e-9, loop: false, clock: clock).scaledNanoseconds(.max) == 1 << 62)
    }
}
