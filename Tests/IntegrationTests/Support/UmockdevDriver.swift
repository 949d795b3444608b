import Foundation
import Testing

/// Runs `scripts/umockdev-driver.py` (under `umockdev-wrapper`, with Debian's python3)
/// against the built `vkb-bridge`: fake VKB sticks in a umockdev testbed, real libevdev
/// and libudev in the program. The driver's docstring lists the steps.
///
/// Without umockdev the tests skip, saying what to install; in CI (`CI=true`) they
/// run anyway and fail on the missing package, so CI never passes by skipping.
enum UmockdevDriver {
    static let installHint = "apt-get install umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi"
    static let python = "/usr/bin/python3"

    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    /// Why umockdev cannot be used here, or nil when it can.
    static let unavailableReason: String? = {
        guard wrapperPath != nil else { return "umockdev-wrapper is not on PATH" }
        let probe = "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev"
        guard run(python, ["-c", probe]) == 0 else {
            return "\(python) cannot import gi.repository.UMockdev"
        }
        return nil
    }()

    /// Whether the umockdev tests run: umockdev is there, or this is CI (where its
    /// absence must fail, not skip).
    static var shouldRun: Bool { unavailableReason == nil || isCI }

    static var skipComment: Comment {
        Comment(rawValue: "umockdev is not available (\(unavailableReason ?? "?")); install it: \(installHint)")
    }

    /// Whether the driver can make a private mount namespace with a tmpfs on /run (to
    /// seed the udev database without touching the host's).
    static let canPrivatizeRun: Bool = {
        var arguments = ["--mount", "--propagation", "private", "sh", "-c", "mount -t tmpfs tmpfs /run"]
        if geteuid() != 0 { arguments.insert("--map-root-user", at: 0) }
        return run("/usr/bin/unshare", arguments) == 0
    }()

    static var wrapperPath: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/umockdev-wrapper" }.first { access($0, X_OK) == 0 }
    }

    static var repositoryRoot: URL {
        // Tests/IntegrationTests/Support/UmockdevDriver.swift → repository root
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs `steps` and returns the driver's report. Throws when umockdev is missing
    /// (which fails the test: skipping happened earlier, outside CI) or the driver
    /// produced no report.
    static func run(_ steps: [Step], privateRun: Bool = false, timeout: Duration = .seconds(100)) async throws -> UmockdevReport {
        if let reason = unavailableReason {
            throw HarnessError("umockdev is required\(isCI ? " in CI" : ""): \(reason); install it: \(installHint)")
        }
        let bridge = try TestBinaries.bridge
        let json = String(decoding: try JSONSerialization.data(withJSONObject: steps.map(\.fields)), as: UTF8.self)
        let driver = repositoryRoot.appendingPathComponent("scripts/umockdev-driver.py").path
        let asUser = String(decoding: try JSONSerialization.data(withJSONObject: ServiceUser.daemon.commandPrefix), as: UTF8.self)
        var arguments = [python, driver, "--program", bridge, "--steps-json", json, "--as-user", asUser]
        if privateRun { arguments.append("--private-run") }
        // The driver stays the runner (it owns the testbed, and root makes its private
        // /run); it starts vkb-bridge as the daemon's unprivileged user.
        let child = try ChildProcess(executable: wrapperPath!, arguments: arguments, user: .testRunner)
        let status = try await child.waitForExit(timeout: timeout)
        try await child.waitForOutputClosed()
        let text = child.stdout.lines(from: 0).joined(separator: "\n")
        guard status == .exited(0), let data = text.data(using: .utf8),
              let report = try? JSONDecoder().decode(UmockdevReport.self, from: data)
        else {
            throw HarnessError("the umockdev driver gave no report (\(status)):\n\(child.report())")
        }
        return report
    }

    private static func run(_ executable: String, _ arguments: [String]) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// One driver step (see the op list in scripts/umockdev-driver.py).
/// Fields are JSON values only: strings, numbers, booleans and arrays of them.
struct Step {
    let fields: [String: Any]

    static func add(_ id: String, _ device: String, event: Int, port: String = "2", held: [Int] = [], seedDB: Bool = false) -> Step {
        Step(fields: ["op": "add", "id": id, "device": device, "event": event, "port": port, "held": held, "seedDB": seedDB])
    }

    static func readd(_ id: String, event: Int, held: [Int] = []) -> Step {
        Step(fields: ["op": "readd", "id": id, "event": event, "held": held])
    }

    static func remove(_ id: String) -> Step { Step(fields: ["op": "remove", "id": id]) }

    static func storm(_ id: String, cycles: Int, firstEvent: Int) -> Step {
        Step(fields: ["op": "storm", "id": id, "cycles": cycles, "firstEvent": firstEvent])
    }

    /// `umockdevDebug`: count the sockets umockdev's preload leaks (`umockdevFailedOpens`).
    static func spawn(_ arguments: [String], umockdevDebug: Bool = false) -> Step {
        Step(fields: ["op": "spawn", "args": arguments, "umockdevDebug": umockdevDebug])
    }

    static func run(_ arguments: [String]) -> Step { Step(fields: ["op": "run", "args": arguments]) }

    /// Waits for a new stdout (or stderr) line matching the regular expression.
    static func wait(_ pattern: String, timeout: Int = 10, stderr: Bool = false) -> Step {
        Step(fields: ["op": "wait", "line": pattern, "timeout": timeout, "stream": stderr ? "stderr" : "stdout"])
    }

    /// Waits for a stdout line matching each pattern, in whatever order they come.
    static func waitAll(_ patterns: [String], timeout: Int = 10) -> Step {
        Step(fields: ["op": "waitAll", "lines": patterns, "timeout": timeout])
    }

    /// One SYN_REPORT frame per element: (VKB button, 1 down / 0 up) pairs.
    static func buttons(_ id: String, _ frames: [[(Int, Int)]]) -> Step {
        Step(fields: ["op": "buttons", "id": id, "frames": frames.map { $0.map { [$0.0, $0.1] } }])
    }

    /// Raw (type, code, value) events.
    static func events(_ id: String, _ events: [(Int, Int, Int)]) -> Step {
        Step(fields: ["op": "events", "id": id, "events": events.map { [$0.0, $0.1, $0.2] }])
    }

    static func axisFlood(_ id: String, bursts: Int, framesPerBurst: Int, marker: Int) -> Step {
        Step(fields: ["op": "axisFlood", "id": id, "bursts": bursts, "framesPerBurst": framesPerBurst, "marker": marker])
    }

    static func cpu(_ name: String) -> Step { Step(fields: ["op": "cpu", "name": name]) }

    static func signal(_ name: String) -> Step { Step(fields: ["op": "signal", "name": name]) }

    static var stop: Step { Step(fields: ["op": "stop"]) }
}

/// What the driver reports.
struct UmockdevReport: Decodable {
    struct Run: Decodable {
        var args: [String]
        var exitStatus: Int
        var stdout: String
        var stderr: String
    }

    var ok: Bool
    var error: String?
    var failedStep: Int?
    /// The spawned program's stdout lines.
    var lines: [String]
    var stderr: String
    var exitStatus: Int?
    var runs: [Run]
    var cpuNanoseconds: [String: Int]?
    /// Opens of a just-removed fake node: umockdev 0.17's preload connects its ioctl
    /// socket although `open()` fails, and leaks it (only counted with `umockdevDebug`).
    var umockdevFailedOpens: Int?
    var skipped: String?

    /// Everything, for failure messages.
    var transcript: String {
        var text = "driver: ok=\(ok)"
        if let error { text += ", step \(failedStep.map(String.init) ?? "?") failed: \(error)" }
        if let skipped { text += ", skipped: \(skipped)" }
        text += "\n--- program stdout ---\n" + lines.joined(separator: "\n")
        if !stderr.isEmpty { text += "\n--- program stderr ---\n" + stderr }
        for run in runs {
            text += "\n--- run \(run.args.joined(separator: " ")) → \(run.exitStatus) ---\n\(run.stdout)\(run.stderr)"
        }
        return text
    }

    /// Program lines that start with `prefix`.
    func lines(startingWith prefix: String) -> [String] {
        lines.filter { $0.hasPrefix(prefix) }
    }

    /// The numbers of the `fds N` lines, in order.
    var fileDescriptorCounts: [Int] {
        lines(startingWith: "fds ").compactMap { Int($0.dropFirst(4)) }
    }
}
