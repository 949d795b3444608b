import Foundation
import Testing
import VKBLoop
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
        let reading = try LoopReading.read(source)
        #expect(reading.error == nil && !reading.timedOut)
        return reading.events
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

    /// The plan's offsets: each reported key, and the pass's end (the last event, 1.5 s).
    @Test(arguments: [
        (1.0, [100.0, 350.0, 1000.0], 1500.0),
        (2.0, [50.0, 175.0, 500.0], 750.0),
        (0.5, [200.0, 700.0, 2000.0], 3000.0),
    ])
    func offsetsScaleWithSpeed(speed: Double, keys: [Double], length: Double) throws {
        let plan = ReplayPlan(recording: try Fixtures.parse(Self.timed), speed: speed)
        #expect(plan.timed)
        #expect(plan.keys.map { (Double($0.offset) / 1e6).rounded() } == keys)
        #expect((Double(plan.length) / 1e6).rounded() == length)
    }

    @Test func speedZeroWaitsForNothing() throws {
        let plan = ReplayPlan(recording: try Fixtures.parse(Self.timed), speed: 0)
        #expect(!plan.timed)
        #expect(plan.keys.allSatisfy { $0.offset == 0 } && plan.length == 0)
    }

    @Test func absoluteTimestampsUseDifferences() throws {
        let recording = try Fixtures.parse(
            Fixtures.minimal(events: ["E: 1316171018.997000 0001 0120 1", "E: 1316171019.247000 0001 0120 0"], version: nil))
        let plan = ReplayPlan(recording: recording, speed: 1)
        #expect(plan.keys.map(\.offset) == [0, 250_000_000])
    }

    @Test func hugeOffsetsAreCapped() throws {
        let recording = try Fixtures.parse(Self.timed)
        #expect(ReplayPlan(recording: recording, speed: 1e-12).length == 1 << 62)
    }

    /// Real time on the loop: the keys come at their recorded offsets (at 10× speed),
    /// and the pass ends after the recording's full length.
    @Test func keysArriveOnTimeOnTheLoop() throws {
        let recording = try Fixtures.parse(Self.timed)
        let start = ContinuousClock.now
        var arrivals: [Duration] = []
        let reading = try LoopReading.read(ReplayDeviceSource(recording: recording, speed: 10)) { events in
            arrivals.append(ContinuousClock.now - start)
            return false
        }
        #expect(reading.events.count == 5)
        // keyState at once; keys at 10, 35, 100 ms; ended at 150 ms (never early).
        let expected: [Duration] = [.zero, .milliseconds(10), .milliseconds(35), .milliseconds(100), .milliseconds(150)]
        for (arrival, due) in zip(arrivals, expected) { #expect(arrival >= due) }
    }

    @Test func loopStartsEachPassFreshUntilStopped() throws {
        let recording = try Fixtures.parse(Self.timed)
        let source = ReplayDeviceSource(recording: recording, speed: 20, loop: true)
        let reading = try LoopReading.read(source) { events in
            events.count(where: { $0 == .keyState(KeySet()) }) == 3
        }
        let pass: [DeviceSourceEvent] = [
            .keyState(KeySet()), .key(code: 0x120, pressed: true), .key(code: 0x120, pressed: false),
            .key(code: 0x2FF, pressed: true),
        ]
        // Two whole passes, the third stopped right after its key state; never `.ended`.
        #expect(reading.events == pass + pass + [.keyState(KeySet())])
    }

    /// At speed 0 a long recording comes in batches: the loop gets a turn between them,
    /// so a deadline due meanwhile fires before the replay is through.
    @Test func speedZeroYieldsToTheLoopBetweenBatches() throws {
        var lines: [String] = []
        for i in 0..<2_000 {
            lines.append("E: 0.\(String(format: "%06d", i + 1)) 0001 0120 \(i % 2 == 0 ? 1 : 0)")
        }
        let recording = try Fixtures.parse(Fixtures.minimal(events: lines))
        var keysBeforeTimer: Int?
        var keys = 0
        let reading = try LoopReading.read(ReplayDeviceSource(recording: recording, speed: 0)) { events in
            if case .key = events.last { keys += 1 }
            return false
        } during: { loop in
            loop.schedule(in: .zero) { keysBeforeTimer = keys }
        }
        #expect(reading.events.last == .ended)
        #expect(keys == 2_000)
        // The first batch comes inside `open`, the next is queued before the test's deadline.
        #expect(keysBeforeTimer.map { $0 <= 2 * ReplayDeviceSource.batch } == true)
    }

    @Test func loopAsFastAsPossibleStopsToo() throws {
        let recording = try Fixtures.parse(Self.timed)
        let source = ReplayDeviceSource(recording: recording, speed: 0, loop: true)
        let reading = try LoopReading.read(source) { $0.count >= 1000 }
        #expect(reading.events.count == 1000)
        #expect(!reading.timedOut)
    }

    @Test func emptyRecordingEndsAtOnce() throws {
        let recording = try Fixtures.parse(Fixtures.minimal(events: []))
        #expect(try run(ReplayDeviceSource(recording: recording)) == [.keyState(KeySet()), .ended])
    }

    /// Real clock: the second key is an hour away; stopping the reader ends it at once and
    /// leaves no deadline behind.
    @Test func stopEndsALongWait() throws {
        let recording = try Fixtures.parse(
            Fixtures.minimal(events: ["E: 0.000001 0001 0120 1", "E: 3600.000001 0001 0120 0"]))
        let loop = try EpollLoop()
        var events: [DeviceSourceEvent] = []
        var reader: (any DeviceReader)?
        reader = ReplayDeviceSource(recording: recording, speed: 1).open(
            on: loop,
            events: { event in
                events.append(event)
                if case .key = event {
                    reader?.stop()
                    // Nothing else pending: a left-over replay timer would fire first.
                    loop.schedule(in: .milliseconds(50)) { loop.stop() }
                }
            },
            failed: { _ in Issue.record("no failure expected") })
        let started = ContinuousClock.now
        loop.run()
        reader = nil  // its events closure holds it
        loop.close()
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(events == [.keyState(KeySet()), .key(code: 0x120, pressed: true)])
    }
}
