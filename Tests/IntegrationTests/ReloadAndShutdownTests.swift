import Foundation
import Glibc
import Testing
import VKBCore

/// SIGHUP reloads and SIGTERM/SIGINT shutdown, observed at a real sink.
@Suite struct ReloadAndShutdownTests {
    typealias P = RecordingWriter.Press

    /// Button 20 pressed and held: the recording ends with it down.
    static let held = [P(seconds: 0, button: 20, down: true)]

    static func bindings(_ bit: String) -> String {
        """

        [[binding]]
        bit = "\(bit)"
        button = 20
        """
    }

    static func config(port: Int, bit: String, extra: String = "") -> String {
        "[server]\nport = \(port)\n\(extra)\n" + bindings(bit)
    }

    /// `run` on a config in `directory` (button 20 → shift1) with button 20 held, once the
    /// sink has the state; returns the process and the config file to rewrite.
    static func startHoldingShift1(in directory: URL, sink: SinkProcess) async throws -> (ChildProcess, URL) {
        let rec = try RecordingWriter.write(held, named: "held.evemu", in: directory)
        let configURL = directory.appendingPathComponent("reload.toml")
        try config(port: sink.port, bit: "shift1").write(to: configURL, atomically: true, encoding: .utf8)
        let bridge = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--replay", rec, "--speed", "0"])
        try await sink.waitForState(ShiftState(shift: 1))
        return (bridge, configURL)
    }

    @Test func sighupAppliesNewBindingsToHeldButtonsAndKeepsTheConnection() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let (bridge, configURL) = try await Self.startHoldingShift1(in: tmp.url, sink: sink)

        // New binding for the button that is still held: takes effect at once, same connection.
        try Self.config(port: sink.port, bit: "subshift3").write(to: configURL, atomically: true, encoding: .utf8)
        bridge.signal(SIGHUP)
        try await sink.waitForState(ShiftState(subshift: 4))
        #expect(sink.connects.count == 1, "\(sink.report())")

        // A broken file is refused with its errors; the old config keeps running.
        try "[server]\nport = \"nope\"\n".write(to: configURL, atomically: true, encoding: .utf8)
        bridge.signal(SIGHUP)
        try await bridge.waitForLine(on: .stderr, containing: "config not reloaded")
        #expect(bridge.stderr.lines.contains { $0.contains("\(configURL.path):2: expected an integer for port") })

        // A new endpoint: a clean reconnect to the new server, which gets the current state.
        let other = try await SinkProcess.start()
        let packetsBeforeSwitch = sink.packets.count
        try Self.config(port: other.port, bit: "subshift3").write(to: configURL, atomically: true, encoding: .utf8)
        bridge.signal(SIGHUP)
        try await other.waitForState(ShiftState(subshift: 4))
        try await sink.waitFor("the old connection closed") { !$0.disconnects.isEmpty }
        #expect(sink.packets.count == packetsBeforeSwitch, "the old server got nothing after the switch: \(sink.report())")

        bridge.terminate()
        #expect(try await bridge.waitForExit() == .exited(0))
        try await sink.stop()
        try await other.stop()
    }

    /// Files that made the TOML parser abort (an assertion in toml++) or overflow its stack:
    /// a running daemon must refuse them on SIGHUP, with the line, and keep working.
    @Test(arguments: ["[[[binding]]\n", "[server]\nport = 1\n[&\n", "[" + String(repeating: "a.", count: 60_000) + "a]\n"])
    func sighupWithAParserCrashingFileKeepsTheDaemonAndItsConfig(text: String) async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let (bridge, configURL) = try await Self.startHoldingShift1(in: tmp.url, sink: sink)

        try text.write(to: configURL, atomically: true, encoding: .utf8)
        bridge.signal(SIGHUP)
        try await bridge.waitForLine(on: .stderr, containing: "config not reloaded")
        #expect(bridge.stderr.lines.contains { $0.contains("\(configURL.path):") && $0.contains("invalid TOML") }, "\(bridge.report())")
        #expect(bridge.isRunning, "\(bridge.report())")

        // Still the old config, on the same connection: a good reload still works.
        try Self.config(port: sink.port, bit: "subshift3").write(to: configURL, atomically: true, encoding: .utf8)
        bridge.signal(SIGHUP)
        try await sink.waitForState(ShiftState(subshift: 4))
        #expect(sink.connects.count == 1, "\(sink.report())")
        bridge.terminate()
        #expect(try await bridge.waitForExit() == .exited(0))
        try await sink.stop()
    }

    @Test(arguments: [SIGTERM, SIGINT])
    func signalStopsWithinASecondAndClearsWhenAsked(signal: Int32) async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write(Self.held, named: "held.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: Self.config(port: sink.port, bit: "shift2", extra: "clear_on_exit = true"),
            arguments: ["--replay", rec, "--speed", "0"], directory: tmp.url)
        try await sink.waitForState(ShiftState(shift: 2))
        bridge.child.signal(signal)
        #expect(try await bridge.child.waitForExit(timeout: Duration.seconds(1).sanitizerScaled) == .exited(0))
        // The all-clear went out before the connection closed.
        try await sink.waitForState(.clear)
        try await sink.waitFor("the bridge's disconnect") { !$0.disconnects.isEmpty }
        try await sink.stop()
    }

    @Test func withoutClearOnExitTheLastStateStays() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write(Self.held, named: "held.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: Self.config(port: sink.port, bit: "shift2"),
            arguments: ["--replay", rec, "--speed", "0"], directory: tmp.url)
        try await sink.waitForState(ShiftState(shift: 2))
        bridge.child.terminate()
        #expect(try await bridge.child.waitForExit(timeout: Duration.seconds(1).sanitizerScaled) == .exited(0))
        try await sink.waitFor("the bridge's disconnect") { !$0.disconnects.isEmpty }
        #expect(sink.states == [ShiftState(shift: 2)] || sink.states == [.clear, ShiftState(shift: 2)], "\(sink.report())")
        try await sink.stop()
    }
}
