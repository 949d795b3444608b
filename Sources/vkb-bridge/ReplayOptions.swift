import ArgumentParser
import VKBInput

/// `--replay REC… [--speed X] [--loop]`, `--input-fifo PATH…` and `--hidraw-fifo PATH…
/// --report-descriptor FILE`, shared by `run` and `monitor`: devices that are not found
/// through udev.
struct ReplayOptions: ParsableArguments {
    @Option(name: .customLong("replay"), help: ArgumentHelp("Replay an evemu recording as a device (repeatable).", valueName: "recording"))
    var paths: [String] = []

    @Option(
        name: .customLong("input-fifo"),
        help: ArgumentHelp(
            "Read raw struct input_event records from a FIFO or file as a device (repeatable). Used by `make bench`; open the FIFO's write end first.",
            valueName: "path"))
    var fifoPaths: [String] = []

    @Option(
        name: .customLong("hidraw-fifo"),
        help: ArgumentHelp(
            "Read HID input reports, as a stick's /dev/hidrawN delivers them, from a FIFO or file as a device with buttons 81-128 (repeatable; needs --report-descriptor). Used by `make bench`; open the FIFO's write end first.",
            valueName: "path"))
    var hidrawFifoPaths: [String] = []

    @Option(
        name: .customLong("report-descriptor"),
        help: ArgumentHelp(
            "The HID report descriptor of the --hidraw-fifo streams, as /sys/class/hidraw/hidrawN/device/report_descriptor holds it.",
            valueName: "file"))
    var reportDescriptor: String?

    @Option(help: "Replay speed: 1 = recorded timing, 2 = twice as fast, 0 = as fast as possible.")
    var speed: Double = 1

    @Flag(help: "Replay each recording again when it ends.")
    var loop = false

    func validate() throws {
        try OptionLimits.speed(speed, "--speed", allowZero: true)
        for path in fifoPaths { try OptionLimits.readableStream(path, "--input-fifo") }
        for path in hidrawFifoPaths { try OptionLimits.readableStream(path, "--hidraw-fifo") }
        if !hidrawFifoPaths.isEmpty && reportDescriptor == nil {
            throw ValidationError("--hidraw-fifo needs --report-descriptor FILE: the reports' lengths and button positions come from it")
        }
        if hidrawFifoPaths.isEmpty && reportDescriptor != nil {
            throw ValidationError("--report-descriptor describes --hidraw-fifo streams; none was given")
        }
    }

    /// A watcher over the recordings and streams, or nil when none was given. Every
    /// recording is parsed before anything is replayed, so a bad one stops the start.
    func makeWatcher() throws -> (any DeviceWatcher)? {
        guard !paths.isEmpty || !fifoPaths.isEmpty || !hidrawFifoPaths.isEmpty else { return nil }
        var sources: [any DeviceSource] = []
        for path in fifoPaths {
            sources.append(InputEventStreamSource(path: path))
        }
        if let reportDescriptor {
            do {
                let descriptor = try HIDReportDescriptor(contentsOfFile: reportDescriptor)
                for path in hidrawFifoPaths {
                    sources.append(HIDReportStreamSource(path: path, descriptor: descriptor))
                }
            } catch {
                printError("\(error)")
                throw ExitCode(2)
            }
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
