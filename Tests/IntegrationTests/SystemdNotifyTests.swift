import Foundation
import Glibc
import Testing
import VKBCore
import VKBTestSupport

/// The daemon's conversation with systemd, read from a real notification socket.
@Suite struct SystemdNotifyTests {
    @Test func readyStatusWatchdogReloadAndStopping() async throws {
        let tmp = try TemporaryDirectory()
        let notify = try NotifySocket()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let configURL = tmp.url.appendingPathComponent("notify.toml")
        try BridgeProcess.config(port: sink.port).write(to: configURL, atomically: true, encoding: .utf8)
        let bridge = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--replay", rec, "--speed", "0"],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])

        var messages: [String] = []
        func waitFor(_ what: String, _ condition: @escaping ([String]) -> Bool) async throws {
            try await eventually(what, context: { messages.joined(separator: "\n") + "\n" + bridge.report() }) {
                messages += notify.receiveAll()
                return condition(messages)
            }
        }
        try await waitFor("READY=1") { $0.contains { $0.contains("READY=1") } }
        try await waitFor("a status with the connection and the bitmap") {
            $0.contains { $0.contains("STATUS=connected to 127.0.0.1:\(sink.port)") && $0.contains("(shift1)") && $0.contains("devices: stick") }
        }
        try await waitFor("two watchdog pings") { $0.filter { $0 == "WATCHDOG=1" }.count >= 2 }

        let before = messages.count
        bridge.signal(SIGHUP)
        try await waitFor("RELOADING=1 then READY=1") { m in
            let after = m.dropFirst(before)
            guard let r = after.firstIndex(where: { $0.contains("RELOADING=1") }) else { return false }
            return after[r...].contains { $0.contains("READY=1") }
        }
        #expect(messages.dropFirst(before).contains { $0.contains("MONOTONIC_USEC=") })

        bridge.terminate()
        #expect(try await bridge.waitForExit() == .exited(0))
        messages += notify.receiveAll()
        #expect(messages.contains { $0.contains("STOPPING=1") }, "\(messages)")
        try await sink.stop()
    }

    /// libdispatch worker threads call `setpriority()`, which the unit's
    /// `SystemCallFilter=~@resources` refuses (a journal warning each time). The daemon
    /// runs none: not for the watchdog timer, a reload, or a host-name lookup.
    @Test func noLibdispatchWorkerThreadsWhileRunning() async throws {
        let tmp = try TemporaryDirectory()
        let notify = try NotifySocket()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let configURL = tmp.url.appendingPathComponent("threads.toml")
        try BridgeProcess.config(port: sink.port, host: "localhost").write(to: configURL, atomically: true, encoding: .utf8)
        let bridge = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--replay", rec, "--speed", "0"],
            environment: ["NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "200000"])
        try await sink.waitForState(ShiftState(shift: 1))
        var messages: [String] = []
        bridge.signal(SIGHUP)
        try await eventually("RELOADING=1 and two watchdog pings after it", context: { bridge.report() }) {
            messages += notify.receiveAll()
            guard let r = messages.firstIndex(where: { $0.contains("RELOADING=1") }) else { return false }
            return messages[r...].filter { $0 == "WATCHDOG=1" }.count >= 2
        }
        // libdispatch names its workers after their root queue ("com.apple.root.default-qos…",
        // cut to 15 characters by the kernel).
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(bridge.pid)/task").map {
            (try? String(contentsOfFile: "/proc/\(bridge.pid)/task/\($0)/comm", encoding: .utf8)) ?? ""
        }
        #expect(!threads.isEmpty)
        #expect(!threads.contains { $0.contains("qos") || $0.contains("com.apple") }, "\(threads)")
        bridge.terminate()
        #expect(try await bridge.waitForExit() == .exited(0))
        try await sink.stop()
    }

    @Test func readyDoesNotWaitForTheServer() async throws {
        let tmp = try TemporaryDirectory()
        let notify = try NotifySocket()
        let configURL = tmp.url.appendingPathComponent("absent.toml")
        // Port 1: nothing listens there.
        try BridgeProcess.config(port: 1).write(to: configURL, atomically: true, encoding: .utf8)
        let rec = try RecordingWriter.write([], named: "idle.evemu", in: tmp.url)
        let bridge = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--replay", rec, "--speed", "0"],
            environment: ["NOTIFY_SOCKET": notify.path])
        var messages: [String] = []
        try await eventually("READY=1 with the server absent", context: { bridge.report() }) {
            messages += notify.receiveAll()
            return messages.contains { $0.contains("READY=1") }
        }
        try await eventually("a retrying status") {
            messages += notify.receiveAll()
            return messages.contains { $0.contains("STATUS=retrying 127.0.0.1:1: connection refused") }
        }
        try await bridge.stop()
    }
}
