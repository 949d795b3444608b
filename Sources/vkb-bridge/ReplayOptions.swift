import ArgumentParser
import VKBInput

/// `--replay REC… [--speed X] [--loop]`, shared by `run` and `monitor`.
struct ReplayOptions: ParsableArguments {
    @Option(name: .customLong("replay"), help: ArgumentHelp("Replay an evemu recording as a device (repeatable).", valueName: "recording"))
    var paths: [String] = []

    @Option(help: "Replay speed: 1 = recorded timing, 2 = twice as fast, 0 = as fast as possible.")
    var speed: Double = 1

    @Flag(help: "Replay each recording again when it ends.")
    var loop = false

    func validate() throws {
        guard speed.isFinite, speed >= 0 else { throw ValidationError("--speed must be 0 or a positive number, got \(speed)") }
    }

    /// A watcher over the recordings, or nil when none was given. Every recording is
    /// parsed before anything is replayed, so a bad one stops the start.
    func makeWatcher() throws -> (any DeviceWatcher)? {
        guard !paths.isEmpty else { return nil }
        var sources: [any DeviceSource] = []
        for path in paths {
            do {
                let recording = try EvemuRecording(contentsOfFile: path)
                sources.append(ReplayDeviceSource(recording: recording, speed: speed, loop: loop))
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
        }
        return ReplayDeviceWatcher(sources: sources)
    }
}
