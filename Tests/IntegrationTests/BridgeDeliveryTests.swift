import Foundation
import Glibc
import Testing
import VKBCore

/// The whole path on the replay backend: the real `vkb-bridge` and a real
/// `vkb-telemetry-sink` process, which the tests kill and restart. Every assertion is
/// about what the sink process decoded from the bytes it received.
@Suite(.serialized) struct BridgeDeliveryTests {
    typealias P = RecordingWriter.Press

    /// shift1 on, subshift1 on, shift1 off, shift2 toggled on, subshift1 off: ends shift2.
    static let sequence: [P] = [
        P(seconds: 0.00, button: 20, down: true),
        P(seconds: 0.03, button: 5, down: true),
        P(seconds: 0.06, button: 20, down: false),
        P(seconds: 0.09, button: 21, down: true),
        P(seconds: 0.12, button: 21, down: false),
        P(seconds: 0.15, button: 5, down: false),
        P(seconds: 0.18, button: 6, down: true),
        P(seconds: 0.21, button: 6, down: false),
    ]
    static let sequenceStates: [ShiftState] = [
        ShiftState(shift: 1), ShiftState(shift: 1, subshift: 1), ShiftState(subshift: 1),
        ShiftState(shift: 2, subshift: 1), ShiftState(shift: 2), ShiftState(shift: 2, subshift: 2),
        ShiftState(shift: 2),
    ]
    static let finalState = ShiftState(shift: 2)

    /// The sequence shifted `by` seconds.
    static func delayed(_ presses: [P], by offset: Double) -> [P] {
        presses.map { P(seconds: $0.seconds + offset, button: $0.button, down: $0.down) }
    }

    /// Replays `presses` into a bridge sending to `port` and waits until it exits 0 with
    /// the final state acknowledged (`--exit-when-delivered`).
    static func replayUntilDelivered(
        _ presses: [P], port: Int, host: String = "127.0.0.1", speed: String = "1", in directory: URL
    ) async throws {
        let rec = try RecordingWriter.write(presses, named: "rec-\(UUID().uuidString).evemu", in: directory)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: port, host: host),
            arguments: ["--replay", rec, "--speed", speed, "--exit-when-delivered", "--timeout", "30"],
            directory: directory)
        let status = try await bridge.waitForExit()
        #expect(status == .exited(0), "\(bridge.child.report())")
    }

    @Test func replayStateSequenceArrivesInOrder() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        // The first press comes 1.5 s in, long after the bridge has connected.
        try await Self.replayUntilDelivered(Self.delayed(Self.sequence, by: 1.5), port: sink.port, in: tmp.url)
        try await sink.waitForState(Self.finalState)
        // The first packet is the state at connect (nothing held yet), then every change in order.
        #expect(sink.states == [.clear] + Self.sequenceStates, "\(sink.report())")
        #expect(sink.packets.allSatisfy { $0.raw.count == 8 && $0.raw[0] == 0xA5 && $0.raw[1] == 0x0D })
        #expect(sink.malformed.isEmpty)
        try await sink.stop()
    }

    @Test func idleBridgeResendsStateToARestartedSinkWithinOneSecond() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write(Self.sequence, named: "seq.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port), arguments: ["--replay", rec, "--speed", "0"],
            directory: tmp.url)
        try await sink.waitForState(Self.finalState)
        // The recording has ended: the bridge is idle from here on.
        try await bridge.child.waitForLine(on: .stderr, containing: "ended")

        let status = try await sink.terminate()
        #expect(status == .exited(0))
        try await sink.restart()
        // No new input: the restarted process must get the current state by itself, fast.
        let packets = try await sink.waitForPackets(1, run: 1, timeout: .seconds(1))
        #expect(packets.first?.state == Self.finalState, "\(sink.report())")
        try await bridge.stop()
        try await sink.stop()
    }

    @Test func sigkillMidReplayStillConvergesOnTheFinalState() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        // 40 presses and releases of button 21 (toggle) and 20 (hold) over ~3 s.
        var presses: [P] = []
        for i in 0..<40 {
            let t = 0.3 + Double(i) * 0.07
            presses.append(P(seconds: t, button: i % 3 == 0 ? 21 : 20, down: true))
            presses.append(P(seconds: t + 0.03, button: i % 3 == 0 ? 21 : 20, down: false))
        }
        // 14 toggles of button 21 (i = 0, 3, …, 39): shift2 ends off; button 20 released.
        let rec = try RecordingWriter.write(presses, named: "long.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port),
            arguments: ["--replay", rec, "--exit-when-delivered", "--timeout", "30"], directory: tmp.url)
        try await sink.waitForPackets(5)
        try await sink.kill()
        try await sink.restart()
        let status = try await bridge.waitForExit()
        #expect(status == .exited(0), "\(bridge.child.report())")
        try await sink.waitForState(.clear)
        #expect(sink.packets(run: 1).last?.state == .clear, "\(sink.report())")
        // And the first run did see the replay in progress (so the kill was mid-replay).
        #expect(sink.packets(run: 0).contains { $0.state != .clear })
    }

    @Test func twentyKillRestartCyclesEachDeliverTheState() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write(Self.sequence, named: "seq.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port), arguments: ["--replay", rec, "--speed", "0"],
            directory: tmp.url)
        try await sink.waitForState(Self.finalState)
        for cycle in 1...20 {
            if cycle % 2 == 0 { try await sink.kill() } else { try await sink.terminate() }
            try await sink.restart()
            let packets = try await sink.waitForPackets(1, run: cycle, timeout: .seconds(3))
            #expect(packets.first?.state == Self.finalState, "cycle \(cycle): \(sink.report())")
        }
        #expect(sink.connects.count == 21)
        try await bridge.stop()
        try await sink.stop()
    }

    @Test func serverAbsentAtStartIsReachedWhenItAppearsAndTheOutageIsLoggedOnce() async throws {
        let tmp = try TemporaryDirectory()
        // Find a free port, then free it again: nothing listens there when the bridge starts.
        let probe = try await SinkProcess.start()
        let port = probe.port
        try await probe.terminate()
        let rec = try RecordingWriter.write(Self.sequence, named: "seq.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: port, extra: "outage_reminder_s = 1"),
            arguments: ["--replay", rec, "--speed", "0", "--exit-when-delivered", "--timeout", "30"], directory: tmp.url)
        try await bridge.child.waitForLine(on: .stderr, containing: "server unreachable")
        // A reminder after a second of outage proves time passed with the server absent.
        try await bridge.child.waitForLine(on: .stderr, containing: "server still unreachable")
        try await probe.restart()
        let status = try await bridge.waitForExit()
        #expect(status == .exited(0), "\(bridge.child.report())")
        try await bridge.child.waitForOutputClosed()
        try await probe.waitForState(Self.finalState)
        #expect(probe.packets(run: 1).map(\.state) == [Self.finalState], "\(probe.report())")
        let log = bridge.child.stderr.lines
        #expect(log.contains { $0.contains("server reachable again after") })
        // Many attempts (debug lines), one state change logged for them all.
        let attempts = log.filter { $0.contains("connect attempt") }.count
        let reconnecting = log.filter { $0.contains("reconnecting: ") }.count
        #expect(attempts >= 3, "\(bridge.child.report())")
        #expect(reconnecting == 1, "\(bridge.child.report())")
    }

    /// `--hidraw-fifo`: input reports as a stick's hidraw node delivers them, for buttons
    /// evdev never has. The bench's hidraw flood goes through this path.
    @Test func buttonAbove80FromAReportStreamReachesTheSink() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        // 128 buttons, one bit each, no report ID: 16-byte reports; button 97 is bit 0 of byte 12.
        let descriptor: [UInt8] = [0x05, 0x09, 0x19, 0x01, 0x29, 0x80, 0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x95, 0x80, 0x81, 0x02]
        func report(_ down: [Int]) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 16)
            for n in down { bytes[(n - 1) / 8] |= 1 << UInt8((n - 1) % 8) }
            return bytes
        }
        let rdesc = tmp.url.appendingPathComponent("rdesc")
        try Data(descriptor).write(to: rdesc)
        // 97 and 128 down, 97 up, 97 down again: shift1 (97, hold) ends on, subshift1 (128) on.
        let reports = tmp.url.appendingPathComponent("reports")
        try Data(report([]) + report([97, 128]) + report([128]) + report([97, 128])).write(to: reports)
        let config = """
            [server]
            host = "127.0.0.1"
            port = \(sink.port)

            [[binding]]
            bit = "shift1"
            button = 97

            [[binding]]
            bit = "subshift1"
            button = 128
            """
        let bridge = try BridgeProcess(
            config: config,
            arguments: ["--hidraw-fifo", reports.path, "--report-descriptor", rdesc.path, "--exit-when-delivered", "--timeout", "30"],
            directory: tmp.url)
        #expect(try await bridge.waitForExit(timeout: .seconds(40)) == .exited(0), "\(bridge.child.report())")
        let final = ShiftState(shift: 1, subshift: 1)
        try await sink.waitForState(final)
        #expect(sink.states.last == final, "\(sink.report())")
        try await sink.stop()
    }

    @Test func exitWhenDeliveredFailsWithAMessageWhenTheTimeoutPassesFirst() async throws {
        let tmp = try TemporaryDirectory()
        // Nothing listens on port 1: the state can never be delivered.
        let rec = try RecordingWriter.write(Self.sequence, named: "seq.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: 1),
            arguments: ["--replay", rec, "--speed", "0", "--exit-when-delivered", "--timeout", "0.5"], directory: tmp.url)
        #expect(try await bridge.waitForExit(timeout: .seconds(10)) == .exited(1))
        try await bridge.child.waitForOutputClosed()
        #expect(bridge.child.stderr.lines.contains {
            $0.contains("the final state was not delivered within 0.5 s: not connected to the server")
        }, "\(bridge.child.report())")
    }

    @Test func sigtermWhileWaitingForDeliveryStopsAtOnceAndSaysSo() async throws {
        let tmp = try TemporaryDirectory()
        let rec = try RecordingWriter.write(Self.sequence, named: "seq.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: 1),
            arguments: ["--replay", rec, "--speed", "0", "--exit-when-delivered", "--timeout", "60"], directory: tmp.url)
        try await bridge.child.waitForLine(on: .stderr, containing: "server unreachable")
        bridge.child.terminate()
        #expect(try await bridge.waitForExit(timeout: .seconds(2)) == .exited(1))
        try await bridge.child.waitForOutputClosed()
        #expect(bridge.child.stderr.lines.contains("stopped by a signal before the final state was delivered"), "\(bridge.child.report())")
    }

    @Test(arguments: [("::1", "::1"), ("127.0.0.1", "localhost")])
    func reachesTheServerByIPv6AddressAndByName(listen: String, configured: String) async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start(.init(host: listen))
        try await Self.replayUntilDelivered(Self.sequence, port: sink.port, host: configured, speed: "0", in: tmp.url)
        try await sink.waitForState(Self.finalState)
    }

    @Test func resetAfterEveryTwoPacketsStillConverges() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start(.init(resetAfter: 2))
        try await Self.replayUntilDelivered(Self.delayed(Self.sequence, by: 0.5), port: sink.port, in: tmp.url)
        try await sink.waitFor("several connections") { $0.connects.count >= 3 }
        try await sink.waitForState(Self.finalState)
        #expect(sink.disconnects.contains { if case .disconnect(let reason, _) = $0.event { reason.contains("reset") } else { false } })
        #expect(sink.states.last == Self.finalState)
    }

    @Test func chatteringServerIsDrainedAndStillServed() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start(.init(chatter: true))
        try await Self.replayUntilDelivered(Self.delayed(Self.sequence, by: 1.0), port: sink.port, in: tmp.url)
        try await sink.waitForState(Self.finalState)
        #expect(sink.states == [.clear] + Self.sequenceStates, "\(sink.report())")
        #expect(sink.connects.count == 1, "junk from the server must not break the connection")
    }

    @Test func stalledServerKeepsTheQueueBoundedAndInputFlowing() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start(.init(stall: true))
        // A toggle pressed 200 times, replayed as fast as possible, over and over.
        var presses: [P] = []
        for i in 0..<200 {
            presses.append(P(seconds: Double(i) * 0.001, button: 21, down: true))
            presses.append(P(seconds: Double(i) * 0.001 + 0.0005, button: 21, down: false))
        }
        let rec = try RecordingWriter.write(presses, named: "flood.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port, extra: "queue_capacity = 64\nuser_timeout_ms = 60000"),
            arguments: ["--replay", rec, "--speed", "0", "--loop"], directory: tmp.url)
        // Overflows are logged at powers of two; reaching 2^12 means the socket and the
        // queue are full and input is still being mapped.
        try await bridge.child.waitForLine(on: .stderr, timeout: .seconds(60)) { Self.overflows(in: $0) >= 4096 }
        let rssEarly = try Self.residentKiB(pid: bridge.child.pid)
        try await bridge.child.waitForLine(on: .stderr, timeout: .seconds(120)) { Self.overflows(in: $0) >= 262_144 }
        let rssLate = try Self.residentKiB(pid: bridge.child.pid)
        // (Under a sanitizer RSS measures the sanitizer: the bound holds for real builds.)
        #expect(!Sanitizer.residentMemoryIsMeaningful || rssLate - rssEarly < 2048, "RSS grew from \(rssEarly) KiB to \(rssLate) KiB while the queue was full")
        #expect(sink.packets.isEmpty, "a stalled sink reads nothing")

        // The server dies with our packets unread and unacknowledged in its window:
        // the bridge says so, then serves the next server.
        try await sink.kill()
        try await bridge.child.waitForLine(on: .stderr, containing: "written but never acknowledged")
        let next = try await SinkProcess.start(.init(port: sink.port))
        try await next.waitForPackets(1)
        try await bridge.stop()
        try await next.stop()
    }

    /// N from the bridge's "outbound queue full: N intermediate state(s) coalesced" line, else 0.
    static func overflows(in line: String) -> Int {
        guard let r = line.range(of: "queue full: ") else { return 0 }
        return Int(line[r.upperBound...].prefix { $0.isNumber }) ?? 0
    }

    /// `VmRSS` of a process, in KiB.
    static func residentKiB(pid: pid_t) throws -> Int {
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kib = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { throw HarnessError("no VmRSS for \(pid)") }
        return kib
    }
}
