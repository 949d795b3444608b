import Logging
import Testing
import VKBCore
import VKBDemo
import VKBInput
import VKBLoop

@testable import VKBDaemon

/// The daemon's core in process: replay sources read on a loop, and an in-memory state
/// sink (the `deliver` closure) instead of the sender, so a test sees every state the
/// bridge hands on, in order, without sockets or processes.
@Suite struct BridgeTests {
    /// A bridge on a loop of the test's own thread, and every state delivered and every
    /// observation, in order.
    final class Harness {
        let loop: EpollLoop
        private(set) var bridge: Bridge!
        private(set) var states: [ShiftState] = []
        private(set) var observations: [Bridge.Observation] = []
        private var condition: (() -> Bool)?

        init(_ configuration: BridgeConfiguration) throws {
            loop = try EpollLoop()
            bridge = Bridge(
                configuration: configuration, loop: loop, logger: Logger(label: "test"),
                deliver: { [unowned self] in
                    states.append($0)
                    check()
                },
                observe: { [unowned self] in
                    observations.append($0)
                    check()
                })
        }

        private func check() {
            if condition?() == true { loop.stop() }
        }

        /// Runs the loop until `condition` holds; fails after two seconds.
        func run(until what: String, _ condition: @escaping () -> Bool) throws {
            guard !condition() else { return }
            self.condition = condition
            var timedOut = false
            let deadline = loop.schedule(in: .seconds(2)) { [loop] in
                timedOut = true
                loop.stop()
            }
            loop.run()
            loop.cancel(deadline)
            self.condition = nil
            try #require(!timedOut, "timed out waiting for \(what); states \(states)")
        }
    }

    /// A replayed stick named `name` that presses VKB `button` at the start and holds it.
    static func stick(_ name: String, holding button: Int, path: String) throws -> ReplayDeviceSource {
        let header = DemoRecording.text.split(separator: "\n", omittingEmptySubsequences: false)
            .prefix { !$0.hasPrefix("E:") }
            .map { $0.hasPrefix("N: ") ? "N: \(name)" : String($0) }
            .joined(separator: "\n")
        let code = String(try VKBButton.code(forButton: button).get(), radix: 16)
        let events = """
            E: 0.000000 0000 0000 0000
            E: 0.001000 0004 0004 \(0x90000 + button)
            E: 0.001000 0001 0\(code) 1
            E: 0.001000 0000 0000 0000

            """
        return ReplayDeviceSource(recording: try EvemuRecording(parsing: header + "\n" + events, path: path), speed: 0)
    }

    static func configuration(_ text: String) throws -> BridgeConfiguration {
        try ConfigurationLoader.parse(text, file: "test.toml")
    }

    static let gladiatorShift1 = """
        [[device]]
        id = "left"
        name_contains = "Gladiator"
        [[binding]]
        bit = "shift1"
        button = 20
        device = "left"
        """

    @Test func aReloadDetachesTheUnmatchedAndAttachesTheNewlyMatched() throws {
        let recorder = try Harness(try Self.configuration(Self.gladiatorShift1))
        let bridge = recorder.bridge!
        defer { bridge.detachAll() }
        let gladiator = bridge.attach(try Self.stick("VKBsim Gladiator EVO R", holding: 20, path: "gladiator.evemu"))
        let gunfighter = bridge.attach(try Self.stick("VKBsim Gunfighter MCG", holding: 21, path: "gunfighter.evemu"))
        #expect(gladiator != nil)
        #expect(gunfighter == nil, "no rule matches the Gunfighter yet")
        try recorder.run(until: "shift1") { recorder.states == [ShiftState(shift: 1)] }
        #expect(bridge.ignoredPaths == ["gunfighter.evemu"])

        // The new config wants only the Gunfighter: the Gladiator's hold stops counting
        // at once, it is detached, and the Gunfighter (seen before, ignored until now) is
        // attached with the button it holds.
        bridge.reconfigure(try Self.configuration("""
            [[device]]
            id = "right"
            name_contains = "Gunfighter"
            [[binding]]
            bit = "shift2"
            button = 21
            device = "right"
            """))
        try recorder.run(until: "shift2") { recorder.states.last == ShiftState(shift: 2) }
        #expect(recorder.states == [ShiftState(shift: 1), .clear, ShiftState(shift: 2)])
        #expect(bridge.ignoredPaths.isEmpty)
        let detached = recorder.observations.compactMap { observation -> (Int, Bridge.DetachCause)? in
            guard case .detached(let handle, _, let cause) = observation else { return nil }
            return (handle, cause)
        }
        #expect(detached.count == 1 && detached.first?.0 == gladiator && detached.first?.1 == .unmatched)
    }

    @Test func aReloadRebindsTheButtonsHeldNowWithoutNewInput() throws {
        let recorder = try Harness(try Self.configuration(Self.gladiatorShift1))
        let bridge = recorder.bridge!
        defer { bridge.detachAll() }
        #expect(bridge.attach(try Self.stick("VKBsim Gladiator EVO R", holding: 20, path: "gladiator.evemu")) != nil)
        try recorder.run(until: "shift1") { recorder.states == [ShiftState(shift: 1)] }
        try recorder.run(until: "the recording's end") { bridge.allSourcesEnded }

        bridge.reconfigure(try Self.configuration(Self.gladiatorShift1.replacing("shift1", with: "subshift3")))
        #expect(recorder.states == [ShiftState(shift: 1), ShiftState(subshift: 4)])
        // The device stayed attached: nothing was detached.
        #expect(!recorder.observations.contains { if case .detached = $0 { true } else { false } })
    }

    @Test func removalReleasesWhatTheDeviceHeld() throws {
        let recorder = try Harness(try Self.configuration(Self.gladiatorShift1))
        let bridge = recorder.bridge!
        defer { bridge.detachAll() }
        #expect(bridge.attach(try Self.stick("VKBsim Gladiator EVO R", holding: 20, path: "gladiator.evemu")) != nil)
        try recorder.run(until: "shift1") { recorder.states == [ShiftState(shift: 1)] }
        bridge.detach(path: "gladiator.evemu")
        #expect(recorder.states == [ShiftState(shift: 1), .clear])
    }
}
