import Foundation
import Testing

/// `vkb-bridge check-config` as a user runs it.
@Suite struct CheckConfigTests {
    @Test func validConfigPrintsASummaryAndExitsZero() async throws {
        let tmp = try TemporaryDirectory()
        let file = tmp.url.appendingPathComponent("ok.toml")
        try BridgeProcess.config(port: 50995).write(to: file, atomically: true, encoding: .utf8)
        let child = try ChildProcess(executable: try TestBinaries.bridge, arguments: ["check-config", file.path])
        #expect(try await child.waitForExit() == .exited(0))
        try await child.waitForOutputClosed()
        let out = child.stdout.lines.joined(separator: "\n")
        #expect(out.contains("\(file.path): OK"))
        #expect(out.contains("server: 127.0.0.1:50995"))
        #expect(out.contains("shift1 ← VKB button 20 (BTN_TRIGGER_HAPPY4), hold"))
        #expect(out.contains("shift2 ← VKB button 21 (BTN_TRIGGER_HAPPY5), toggle"))
        #expect(out.contains("unbound bits: subshift3"))
    }

    /// `check-config -`: the config on standard input, named "(stdin)" in what it prints.
    @Test func standardInputIsReadForADash() async throws {
        let tmp = try TemporaryDirectory()
        let good = tmp.url.appendingPathComponent("ok.toml")
        try BridgeProcess.config(port: 50995).write(to: good, atomically: true, encoding: .utf8)
        let bad = tmp.url.appendingPathComponent("bad.toml")
        try "[server]\nport = \"x\"\n".write(to: bad, atomically: true, encoding: .utf8)
        for (file, status, text) in [(good, 0, "(stdin): OK"), (bad, 2, "(stdin):2: expected an integer for port")] {
            let child = try ChildProcess(
                executable: "/bin/sh", arguments: ["-c", "exec \"$0\" check-config - < \"$1\"", try TestBinaries.bridge, file.path])
            #expect(try await child.waitForExit() == .exited(Int32(status)), "\(child.report())")
            try await child.waitForOutputClosed()
            #expect((child.stdout.lines + child.stderr.lines).contains { $0.hasPrefix(text) }, "\(child.report())")
        }
    }

    @Test func everyErrorIsPrintedWithFileAndLine() async throws {
        let tmp = try TemporaryDirectory()
        let file = tmp.url.appendingPathComponent("bad.toml")
        try """
            [server]
            port = "x"

            [[binding]]
            bit = "shift1"
            button = 129
            """.write(to: file, atomically: true, encoding: .utf8)
        let child = try ChildProcess(executable: try TestBinaries.bridge, arguments: ["check-config", file.path])
        #expect(try await child.waitForExit() == .exited(2))
        try await child.waitForOutputClosed()
        let err = child.stderr.lines
        #expect(err.contains { $0.hasPrefix("\(file.path):2: expected an integer for port") })
        #expect(err.contains { $0.hasPrefix("\(file.path):6: button 129 is not a VKB button number") && $0.contains("at most 128") })
    }

    @Test func malformedRecordingIsRefusedBeforeAnythingIsSent() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = tmp.url.appendingPathComponent("bad.evemu")
        let good = RecordingWriter.text([.init(seconds: 0.1, button: 20, down: true)])
        try (good + "E: 0.200000 01\n").write(to: rec, atomically: true, encoding: .utf8)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port), arguments: ["--replay", rec.path, "--speed", "0"],
            directory: tmp.url)
        #expect(try await bridge.waitForExit(timeout: .seconds(10)) == .exited(2))
        try await bridge.child.waitForOutputClosed()
        let lineNumber = good.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(bridge.child.stderr.lines.contains { $0.hasPrefix("\(rec.path):\(lineNumber): expected") }, "\(bridge.child.report())")
        #expect(sink.connects.isEmpty, "nothing may be sent for a bad recording")
        try await sink.stop()
    }
}
