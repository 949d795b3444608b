import ArgumentParser
import Logging
import VKBDaemon
import VKBInput

/// `vkb-bridge run`: the daemon.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the bridge: read the sticks, send shift states to the server.",
        discussion: """
            Without --replay, sticks are found and followed through udev. With --replay, each \
            evemu recording stands in for a device and is matched against [[device]] like one.
            SIGHUP reloads the config; SIGTERM or SIGINT stop cleanly.
            """
    )

    @Option(name: .shortAndLong, help: "The config file (TOML).")
    var config: String

    @OptionGroup var replay: ReplayOptions

    @Flag(help: "Exit 0 once the recordings (and streams) ended and the final state is acknowledged by the server's kernel.")
    var exitWhenDelivered = false

    @Option(help: "With --exit-when-delivered: give up (exit 1) after this many seconds.")
    var timeout: Double = 30

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        if exitWhenDelivered && replay.paths.isEmpty && replay.fifoPaths.isEmpty && replay.hidrawFifoPaths.isEmpty {
            throw ValidationError("--exit-when-delivered needs at least one --replay recording (or --input-fifo, --hidraw-fifo stream)")
        }
        if exitWhenDelivered && replay.loop {
            throw ValidationError("--exit-when-delivered cannot be used with --loop: the recordings never end")
        }
        try OptionLimits.seconds(timeout, "--timeout", allowZero: false)
    }

    func run() throws {
        // First, before any thread starts: the signals are blocked for every thread.
        let signals = try DaemonSignals()
        let logger = logging.bootstrap(label: "vkb-bridge")
        let configuration = try loadConfigurationOrExit(config)
        let watcher = try replay.makeWatcher() ?? DeviceBackends.hardwareWatcher(logger: logger)
        let service = BridgeService(
            configuration: configuration,
            configPath: config,
            configChecker: .thisProgram,
            watcher: watcher,
            completion: exitWhenDelivered ? .whenDelivered(timeoutSeconds: timeout) : .never,
            logger: logger
        )
        do {
            try service.run(signals: signals)
        } catch let error as BridgeService.NotDelivered {
            printError(error.description)
            throw ExitCode(1)
        }
    }
}
