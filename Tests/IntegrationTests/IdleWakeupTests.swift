import Foundation
import Glibc
import Testing
import VKBCore

/// An idle bridge sleeps: with the stick quiet and the state delivered, no thread of the
/// daemon wakes up — also after a SIGHUP reload and after reconnecting to a restarted
/// server by host name (the resolver's thread must be gone, no timer left behind).
/// Counted from the kernel's context-switch counters of every thread.
@Suite struct IdleWakeupTests {
    /// Context switches (voluntary and not) summed over the process's threads.
    static func contextSwitches(pid: pid_t) throws -> Int {
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        var total = 0
        for task in tasks {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n")
            where line.hasPrefix("voluntary_ctxt_switches:") || line.hasPrefix("nonvoluntary_ctxt_switches:") {
                total += Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) ?? 0
            }
        }
        return total
    }

    /// Wake-ups of `pid` over `window` (a measurement window, not a synchronisation wait).
    static func wakeups(of pid: pid_t, over window: Duration = .seconds(2)) async throws -> Int {
        let before = try contextSwitches(pid: pid)
        try await Task.sleep(for: window)
        return try contextSwitches(pid: pid) - before
    }

    /// Measures 2 s windows until one is quiet (work that is still finishing, such as
    /// acknowledgement polling, may take a window or two); fails if none is by `timeout`.
    static func expectIdle(_ pid: pid_t, _ what: String, timeout: Duration = .seconds(10)) async throws {
        let deadline = ContinuousClock.now + timeout
        var counts: [Int] = []
        repeat {
            counts.append(try await wakeups(of: pid))
            if counts.last! <= margin { return }
        } while ContinuousClock.now < deadline
        Issue.record("never idle \(what): wake-ups per 2 s window: \(counts)")
    }

    /// Wake-ups allowed in a 2 s window: a stray one (the kernel migrating a thread) is
    /// not a timer; a periodic 1 Hz or faster timer makes at least 2.
    static let margin = 1

    @Test(.disabled(if: Sanitizer.active == "thread", "ThreadSanitizer's own background thread wakes every 100 ms"))
    func idleAfterDeliveryAfterReloadAndAfterReconnectByName() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let configURL = tmp.url.appendingPathComponent("idle.toml")
        try BridgeProcess.config(port: sink.port, host: "localhost").write(to: configURL, atomically: true, encoding: .utf8)
        let bridge = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--replay", rec, "--speed", "0"])
        try await sink.waitForState(ShiftState(shift: 1))
        try await bridge.waitForLine(on: .stderr, containing: "ended; its device keeps its last state")
        try await Self.expectIdle(bridge.pid, "after delivering")

        bridge.signal(SIGHUP)
        try await bridge.waitForLine(on: .stderr, containing: "config reloaded")
        // The reload's own tail (sd_notify READY, the journal line) may fall into the
        // first window under a sanitizer; a timer left behind never goes quiet.
        try await Self.expectIdle(bridge.pid, "after a SIGHUP")

        _ = try await sink.kill()
        let next = try await SinkProcess.start(.init(port: sink.port))
        try await next.waitForState(ShiftState(shift: 1))
        try await Self.expectIdle(bridge.pid, "after reconnecting by host name")
        bridge.terminate()
        _ = try await bridge.waitForExit()
        try await next.stop()
    }
}
