import Foundation
import Glibc
import Testing

/// A server that goes silent without closing anything (cable pulled, route gone): only
/// keepalive and `TCP_USER_TIMEOUT` can find it. Runs in a private network namespace
/// (`unshare -n`, root only) whose loopback the script takes down and up again.
@Suite struct DeadPeerTests {
    static let canUnshare: Bool = geteuid() == 0

    @Test(.enabled(if: canUnshare || ProcessInfo.processInfo.environment["CI"] != nil,
                   "needs root for a private network namespace (unshare -n); CI runs it"))
    func silentlyVanishedServerIsFoundDeadAndServedAgain() async throws {
        let tmp = try TemporaryDirectory()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let config = tmp.url.appendingPathComponent("vanish.toml")
        // Short timers so the test is quick; the defaults find the same within ~5 s.
        try """
            [server]
            port = 50995
            user_timeout_ms = 1000
            keepalive_idle_s = 1
            keepalive_interval_s = 1
            keepalive_count = 1

            [[binding]]
            bit = "shift1"
            button = 20
            """.write(to: config, atomically: true, encoding: .utf8)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/netns/vanish.sh").path
        let binDir = (try TestBinaries.bridge as NSString).deletingLastPathComponent
        // Root for the namespace only: the script starts the sink and the bridge through
        // the same unprivileged prefix every other test uses.
        let run = try ChildProcess(
            executable: "/usr/bin/unshare",
            arguments: ["-n", "--", "/bin/bash", script, binDir, config.path, rec, tmp.url.path]
                + ServiceUser.daemon.commandPrefix,
            user: .testRunner)
        #expect(try await run.waitForExit(timeout: .seconds(90)) == .exited(0), "\(run.report())")
        try await run.waitForOutputClosed()
        let lines = run.stdout.lines
        let detected = lines.first { $0.hasPrefix("detected-after-ms ") }.flatMap { Int($0.split(separator: " ")[1]) }
        #expect(detected != nil && detected! < 10_000, "\(run.report())")
        let packets = lines.compactMap { line -> (conn: Int, shift: Int)? in
            guard line.contains("\"event\":\"packet\"") else { return nil }
            let record = SinkRecord(line: line, run: 0)
            guard let state = record.state else { return nil }
            return (record.conn, Int(state.shift))
        }
        // One sink process throughout: the state on connection 1 (after the connect-time
        // packet, if the connection came first), then first thing on connection 2.
        #expect(packets.last { $0.conn == 1 }?.shift == 1, "\(run.report())")
        #expect(packets.first { $0.conn == 2 }?.shift == 1, "\(run.report())")
        #expect(Set(packets.map(\.conn)) == [1, 2])
        #expect(lines.contains { $0.contains("disconnected: connection timed out") }, "\(run.report())")
    }
}
