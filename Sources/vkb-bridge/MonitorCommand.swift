import ArgumentParser
import Dispatch
import NIOConcurrencyHelpers
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
            SIGUSR1 prints 'fds N', the number of open file descriptors. Stops on SIGINT/SIGTERM.
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
        let logger = logging.bootstrap(label: "vkb-bridge")
        let configuration = try config.map(loadConfigurationOrExit) ?? BridgeConfiguration()
        let monitor = DeviceMonitor(printFDs: debugFds, showState: !configuration.bindings.isEmpty)
        let bridge = Bridge(
            configuration: configuration, logger: logger, deliver: { _ in },
            observe: monitor.observe)
        let watcher: any DeviceWatcher
        if let replayWatcher = try replay.makeWatcher() {
            watcher = replayWatcher
            printLine("watching recordings")
        } else {
            let everything: UdevDeviceWatcher.Filter = { _ in true }
            watcher = try UdevDeviceWatcher(
                filter: all ? everything : UdevDeviceWatcher.hasJoystickButtons,
                permissionRetry: .milliseconds(Int64(permissionRetry * 1000)),
                onReady: { printLine("watching udev") },
                logger: logger
            )
        }

        let finished = DispatchSemaphore(value: 0)
        let failure = NIOLockedValueBox<(any Error)?>(nil)
        let signals = Self.handleSignals(fds: monitor.printFileDescriptors) { finished.signal() }
        defer { signals.forEach { $0.cancel() } }

        let thread = try BlockingThread {
            do {
                try bridge.follow(watcher)
            } catch {
                failure.withLockedValue { $0 = error }
                finished.signal()
            }
        }
        finished.wait()
        watcher.stop()
        thread.join()
        bridge.detachAll()
        if let error = failure.withLockedValue({ $0 }) {
            printError("monitor: \(error)")
            throw ExitCode.failure
        }
    }

    /// SIGINT/SIGTERM end the monitor; SIGUSR1 prints the open descriptor count.
    private static func handleSignals(
        fds: @escaping @Sendable () -> Void, stop: @escaping @Sendable () -> Void
    ) -> [any DispatchSourceSignal] {
        let queue = DispatchQueue(label: "vkb-bridge.monitor.signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM, SIGUSR1] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            if sig == SIGUSR1 {
                source.setEventHandler(handler: fds)
            } else {
                source.setEventHandler(handler: stop)
            }
            source.resume()
            sources.append(source)
        }
        return sources
    }
}
