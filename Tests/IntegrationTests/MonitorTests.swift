import Foundation
import Glibc
import Testing

/// `vkb-bridge monitor` as a learn mode, on the replay backend.
@Suite struct MonitorTests {
    /// `monitor --config CONFIG --replay REC --speed 0`.
    static func monitor(replaying rec: String, config: URL) throws -> ChildProcess {
        try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["monitor", "--config", config.path, "--replay", rec, "--speed", "0"])
    }

    @Test func withAConfigEachButtonLineShowsTheResultingState() async throws {
        let tmp = try TemporaryDirectory()
        let rec = try RecordingWriter.write(
            [
                .init(seconds: 0.00, button: 23, down: true), .init(seconds: 0.01, button: 23, down: false),
                .init(seconds: 0.02, button: 20, down: true), .init(seconds: 0.03, button: 21, down: true),
                .init(seconds: 0.04, button: 20, down: false),
            ], named: "learn.evemu", in: tmp.url)
        let config = tmp.url.appendingPathComponent("learn.toml")
        try BridgeProcess.config(port: 1).write(to: config, atomically: true, encoding: .utf8)
        let monitor = try Self.monitor(replaying: rec, config: config)
        try await monitor.waitForLine(containing: "stick: ended")
        monitor.terminate()
        #expect(try await monitor.waitForExit() == .exited(0))
        try await monitor.waitForOutputClosed()
        let lines = monitor.stdout.lines
        #expect(lines.first == "watching recordings")
        #expect(lines.contains { $0.hasPrefix("attached \(rec) 231d:0200 ") && $0.hasSuffix(" as stick") })
        #expect(lines.contains("stick: open, held: none → none"))
        #expect(lines.contains("stick: VKB button 23 (BTN_TRIGGER_HAPPY7, 0x2c6) down → none"))
        #expect(lines.contains("stick: VKB button 20 (BTN_TRIGGER_HAPPY4, 0x2c3) down → shift1"))
        #expect(lines.contains("stick: VKB button 21 (BTN_TRIGGER_HAPPY5, 0x2c4) down → shift1+shift2"))
        #expect(lines.contains("stick: VKB button 20 (BTN_TRIGGER_HAPPY4, 0x2c3) up → shift2"))
        #expect(lines.last == "detached \(rec)")
    }

    @Test func withAConfigOtherDevicesAreIgnoredAndSaidSo() async throws {
        let tmp = try TemporaryDirectory()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 1, down: true)], named: "other.evemu", in: tmp.url)
        let config = tmp.url.appendingPathComponent("only-gunfighter.toml")
        try "[[device]]\nid = \"gf\"\nproduct = 0x0127\n".write(to: config, atomically: true, encoding: .utf8)
        let monitor = try Self.monitor(replaying: rec, config: config)
        try await monitor.waitForLine { $0.hasPrefix("ignored \(rec) 231d:0200") && $0.hasSuffix("no [[device]] matches") }
        monitor.terminate()
        #expect(try await monitor.waitForExit() == .exited(0))
    }

    /// The daemon's lifecycle: SIGHUP re-reads --config (a rule that no longer matches
    /// detaches the stick), SIGUSR1 prints the descriptor count, SIGTERM stops cleanly.
    @Test func sighupReloadsTheConfigAndSigusr1CountsDescriptors() async throws {
        let tmp = try TemporaryDirectory()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let config = tmp.url.appendingPathComponent("monitor.toml")
        try BridgeProcess.config(port: 1).write(to: config, atomically: true, encoding: .utf8)
        let monitor = try Self.monitor(replaying: rec, config: config)
        try await monitor.waitForLine(containing: "stick: ended")
        monitor.signal(SIGUSR1)
        try await monitor.waitForLine { $0.hasPrefix("fds ") && Int($0.dropFirst(4)) != nil }

        try "[[device]]\nid = \"gf\"\nproduct = 0x0127\n".write(to: config, atomically: true, encoding: .utf8)
        monitor.signal(SIGHUP)
        try await monitor.waitForLine(containing: "detached \(rec)")
        monitor.terminate()
        #expect(try await monitor.waitForExit() == .exited(0))
        #expect(monitor.stdout.lines.filter { $0 == "detached \(rec)" }.count == 1, "detached once, by the reload")
    }
}
