import ArgumentParser
import Glibc
import VKBDaemon
import VKBDemo

/// `vkb-bridge demo`: the whole path on the built-in recording.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Replay a shipped VKB stick session into a telemetry sink that is killed and restarted midway.",
        discussion: """
            Starts vkb-telemetry-sink (found next to this binary, or give --sink), replays the \
            built-in recording through the real mapper and sender, kills the sink with SIGKILL \
            midway, restarts it on the same port, and shows the restarted sink receiving the \
            stick's current state. Exits 0 when the sink converged on the stick's state.
            """
    )

    @Option(help: "Path of vkb-telemetry-sink (default: next to vkb-bridge).")
    var sink: String?

    @Option(help: "Replay speed (1 = real time).")
    var speed: Double = 1

    func validate() throws {
        try OptionLimits.speed(speed, "--speed", allowZero: false)
    }

    func run() async throws {
        let sinkPath = sink ?? Self.siblingPath("vkb-telemetry-sink")
        guard access(sinkPath, X_OK) == 0 else {
            printError("cannot run \(sinkPath): build it first (swift build --product vkb-telemetry-sink) or pass --sink PATH")
            throw ExitCode(2)
        }
        let runner = DemoRunner(sinkPath: sinkPath, speed: speed) { printLine($0) }
        guard try await runner.run() else { throw ExitCode(1) }
    }

    /// A file next to this executable (`/proc/self/exe`).
    static func siblingPath(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return name }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = exe.lastIndex(of: "/") else { return name }
        return String(exe[...slash]) + name
    }
}
