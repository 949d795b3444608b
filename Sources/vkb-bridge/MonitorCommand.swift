import ArgumentParser
import VKBCore
import VKBDaemon
import VKBInput

#if canImport(Glibc)
import Glibc
#endif

/// `vkb-bridge monitor`: shows sticks coming and going and every button, live.
struct MonitorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "monitor",
        abstract: "Watch sticks and print every button press and release: a learn mode for writing the config.",
        discussion: """
            Prints 'watching udev' (or 'watching recordings') once listening, then per device \
            'attached NODE VVVV:PPPP phys=… "NAME"', 'NODE: open, held: …' (keys already down), \
            'NODE: VKB button N (…) down|up', 'NODE: resync, held: …' after the kernel dropped \
            events, and 'detached NODE'. With --config, only the devices its [[device]] rules \
            match are read, lines start with the rule's id, and each button line ends with the \
            resulting shift state (→ shift1+subshift2). Nothing is sent to any server. \
            SIGUSR1 prints 'fds N', the number of open file descriptors; SIGHUP re-reads --config. Stops on SIGINT/SIGTERM.
            """
    )

    @Option(name: .shortAndLong, help: "A config: read only its devices and show the shift state its bindings make.")
    var config: String?

    @Flag(name: .long, help: "Watch every input event node, not only those with joystick buttons.")
    var all = false

    @Flag(name: .long, help: "Print 'fds N' after each device opens and after each detach.")
    var debugFds = false

    @Option(name: .long, help: "Seconds to retry opening a node that udev has not yet made accessible.")
    var permissionRetry: Double = 5

    @OptionGroup var replay: ReplayOptions

    @OptionGroup var logging: LoggingOptions

    func validate() throws {
        try OptionLimits.seconds(permissionRetry, "--permission-retry", allowZero: true)
    }

    func run() throws {
        // First, before any thread starts: the signals are blocked for every thread.
        let signals = try DaemonSignals(handling: DaemonSignals.handled + [SIGUSR1])
        let logger = logging.bootstrap(label: "vkb-bridge")
        let configuration = try config.map(loadConfigurationOrExit) ?? BridgeConfiguration()
        let monitor = DeviceMonitor(printFDs: debugFds, showState: !configuration.bindings.isEmpty, printLine: printLine)
        let watcher: any DeviceWatcher
        if let replayWatcher = try replay.makeWatcher() {
            watcher = replayWatcher
            printLine("watching recordings")
        } else {
            let everything: UdevDeviceWatcher.Filter = { _ in true }
            watcher = UdevDeviceWatcher(
                filter: all ? everything : UdevDeviceWatcher.hasJoystickButtons,
                permissionRetry: .milliseconds(Int64(permissionRetry * 1000)),
                onReady: { printLine("watching udev") },
                logger: logger
            )
        }
        // The daemon's lifecycle without a sender: SIGINT/SIGTERM stop, SIGHUP re-reads
        // --config, SIGUSR1 prints the descriptor count.
        let service = BridgeService(
            configuration: configuration, configPath: config, configChecker: .thisProgram, watcher: watcher, sending: false,
            logger: logger, observe: monitor.observe, onUserSignal: monitor.printFileDescriptors)
        do {
            try service.run(signals: signals)
        } catch let error as BridgeService.WatcherFailed {
            printError("monitor: \(error)")
            throw ExitCode.failure
        }
    }
}
