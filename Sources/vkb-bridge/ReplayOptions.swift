import ArgumentParser
import VKBInput

/// `--replay REC… [--speed X] [--loop]` and `--input-fifo PATH…`, shared by `run` and
/// `monitor`: devices that are not found through udev.
struct ReplayOptions: ParsableArguments {
    @Option(name: .customLong("replay"), help: ArgumentHelp("Replay an evemu recording as a device (repeatable).", valueName: "recording"))
    var paths: [String] = []

    @Option(
        name: .customLong("input-fifo"),
        help: ArgumentHelp(
            "Read raw struct input_event records from a FIFO or file as a device (repeatable). Used by `make bench`; open the FIFO's write end first.",
            valueName: "path"))
    var fifoPaths: [String] = []

    @Option(help: "Replay speed: 1 = recorded timing, 2 = twice as fast, 0 = as fast as possible.")
    var speed: Double = 1

    @Flag(help: "Replay each recording again when it ends.")
    var loop = false

    func validate() throws {
        try OptionLimits.speed(speed, "--speed", allowZero: true)
        for path in fifoPaths { try OptionLimits.readableStream(path, "--input-fifo") }
    }

    /// A watcher over the recordings and streams, or nil when none was given. Every
    /// recording is parsed before anything is replayed, so a bad one stops the start.
    func makeWatcher() throws -> (any DeviceWatcher)? {
        guard !paths.isEmpty || !fifoPaths.isEmpty else { return nil }
        var sources: [any DeviceSource] = []
        for path in fifoPaths {
            sources.append(InputEventStreamSource(path: path))
        }
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
