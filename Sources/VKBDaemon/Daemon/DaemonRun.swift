// Owns one run of the daemon on its loop: the bridge (and through it the watcher and the
// readers), the sender, the signalfd registration, the status line and every deadline of
// the run (start-up, delivery timeout, watchdog).

import Glibc
import Logging
import VKBCore
import VKBInput
import VKBLoop
import VKBSender

/// What `BridgeService.run` builds and drives on its loop. Every input comes in as a loop
/// event (a reader's frame, a udev event, a signal, the sender's socket, a deadline, the
/// answer of the reload helper) and is handled to the end before the next.
final class DaemonRun {
    private enum Phase {
        /// The sticks present at start are opening; the sender waits for their state.
        case starting
        case running
        case stopping
    }

    private let service: BridgeService
    private let loop: EpollLoop
    private var configuration: BridgeConfiguration
    private let status: StatusReporter
    private var sender: Sender?
    private(set) var bridge: Bridge!
    /// Why the run ended, if not as asked.
    private(set) var failure: (any Error)?
    private var phase = Phase.starting
    private var startup: EpollLoop.Timer?
    private var timeout: EpollLoop.Timer?
    private var watchdog: EpollLoop.Timer?
    private var waitingForDelivery = false
    private var reloading = false
    private var reloadAgain = false
    private var logger: Logger { service.logger }

    init(service: BridgeService, loop: EpollLoop) {
        self.service = service
        self.loop = loop
        configuration = service.configuration
        status = StatusReporter(loop: loop, notifier: SystemdNotifier(), endpoint: configuration.sender.endpointDescription)
        if service.sending {
            sender = Sender(loop: loop, configuration: configuration.sender) { [unowned self] in senderEvent($0) }
        }
        // `monitor` (no sender) shows every button, bound or not: buttons 81–128 too.
        bridge = Bridge(
            configuration: configuration, loop: loop, everyButton: !service.sending, logger: service.logger,
            deliver: { [unowned self] in sender?.submit($0) },
            observe: { [unowned self] in observed($0) })
    }

    /// Registers the signals, starts following devices and arms the run's deadlines.
    /// Whatever fails here ends the run through `finish`, so `loop.run()` shuts down cleanly.
    func start(signals: DaemonSignals?) {
        if let signals {
            do {
                _ = try signals.register(on: loop) { [unowned self] in received($0) }
            } catch {
                return finish(error)
            }
        }
        do {
            try bridge.follow(service.watcher) { [unowned self] error in watcherFailed(error) }
        } catch {
            return watcherFailed(error)
        }
        guard phase != .stopping else { return }
        // The sender starts once the sticks present now have reported the buttons they
        // hold (at most a second): the first connection then carries the true state, and
        // a restarted daemon never tells the server "all released" for a few milliseconds
        // while a pilot holds a shift.
        // (Sticks reported at once, like recordings, may have settled it already.)
        if phase == .starting {
            startup = loop.schedule(in: .seconds(1)) { [unowned self] in
                startup = nil
                startSending()
            }
        }
        if case .whenDelivered(let seconds) = service.completion {
            timeout = loop.schedule(in: .seconds(seconds)) { [unowned self] in timedOut(after: seconds) }
        }
        if let interval = status.notifier.watchdogPingInterval { pingWatchdog(every: interval) }
        checkStartup()
        checkCompletion()
    }

    private func watcherFailed(_ error: any Error) {
        logger.error("device watcher failed: \(error)")
        finish(BridgeService.WatcherFailed(description: "device watcher failed: \(error)"))
    }

    private func checkStartup() {
        if phase == .starting, bridge.initialStatesKnown { startSending() }
    }

    private func startSending() {
        guard phase == .starting else { return }
        phase = .running
        if let startup { loop.cancel(startup) }
        startup = nil
        sender?.start()
        logger.info(sender == nil ? "watching devices; sending nothing" : "watching devices; sending to \(configuration.sender.endpointDescription)")
        // Ready once the config is loaded and devices are watched; never waits for the server.
        status.notifier.ready(status: status.text)
    }

    /// Pings systemd's watchdog from the loop itself: a hung loop stops the pings and
    /// systemd restarts the daemon.
    private func pingWatchdog(every interval: Duration) {
        watchdog = loop.schedule(in: interval) { [unowned self] in
            status.notifier.watchdog()
            pingWatchdog(every: interval)
        }
    }

    // MARK: - Observations

    private func observed(_ observation: Bridge.Observation) {
        // `monitor` (no sender) prints every observation itself, on stdout.
        if service.sending { BridgeService.log(observation, to: logger) }
        BridgeService.report(observation, to: status)
        service.observe(observation)
        switch observation {
        case .key:
            return  // the frequent one: nothing else to check
        case .ended, .ignored:
            checkStartup()
            checkCompletion()
        default:
            checkStartup()
        }
    }

    private func senderEvent(_ event: SenderEvent) {
        service.observeSender(event)
        switch event {
        case .connectionState(let state):
            status.connection(state)
            switch state {
            case .connected, .stopped, .connecting: logger.notice("\(state)")
            case .disconnected, .reconnecting: logger.warning("\(state)")
            }
        case .attemptFailed(let attempt, let reason, let delay):
            logger.debug("connect attempt \(attempt) failed (\(reason)); next in \(delay) ms")
        case .outageBegan(let reason):
            logger.warning("server unreachable (\(reason)); retrying until it is back")
        case .outageContinues(let seconds, let attempts, let reason):
            logger.warning("server still unreachable after \(BridgeService.duration(seconds)) and \(attempts) attempts (\(reason))")
        case .outageEnded(let seconds, let attempts):
            logger.notice("server reachable again after \(BridgeService.duration(seconds)) (\(attempts) failed attempts)")
        case .unacknowledgedOnDeadConnection(let packets, let last):
            logger.warning("\(packets) packet(s) written but never acknowledged before the connection died (last: \(last)); the current state is re-sent first")
        case .queueOverflow(let total):
            logger.warning("outbound queue full: \(total) intermediate state(s) coalesced so far")
        }
    }

    // MARK: - Completion

    /// With `.whenDelivered`: once every recording ended, waits for the server's kernel to
    /// acknowledge the final state; when no recording matched, fails at once.
    private func checkCompletion() {
        guard case .whenDelivered = service.completion, phase != .stopping, !waitingForDelivery else { return }
        guard let sender else { return finish(BridgeService.NotDelivered(description: "nothing is sent (no sender)")) }
        // A replay watcher reports every recording at once: when all of them were ignored,
        // nothing will ever be delivered, and waiting out the timeout helps no one.
        let ignored = bridge.ignoredPaths
        if let recordings = (service.watcher as? ReplayDeviceWatcher)?.sources.count, recordings > 0, ignored.count == recordings {
            return finish(BridgeService.NotDelivered(description: "no [[device]] rule matches \(recordings == 1 ? "the recording" : "any of the \(recordings) recordings") (\(ignored.joined(separator: ", "))): nothing to deliver; compare the recording's N: (name) and I: (ids) lines with the rules"))
        }
        guard bridge.allSourcesEnded else { return }
        waitingForDelivery = true
        sender.whenDelivered { [unowned self] result in
            guard case .success = result, phase != .stopping else { return }
            logger.info("delivered: the server's kernel acknowledged the final state \(sender.statistics.currentState)")
            finish(nil)
        }
    }

    private func timedOut(after seconds: Double) {
        timeout = nil
        let stats = sender?.statistics ?? SenderStatistics()
        let detail = !bridge.allSourcesEnded
            ? "the recordings had not ended"
            : stats.isConnected
                ? "connected, but the server's kernel had not acknowledged state \(stats.currentState)"
                : "not connected to the server"
        finish(BridgeService.NotDelivered.timedOut(after: seconds, detail))
    }

    // MARK: - Signals and reload

    private func received(_ signal: Int32) {
        switch signal {
        case SIGHUP:
            reload()
        case SIGUSR1:
            service.onUserSignal()
        default:
            guard phase != .stopping else { return }
            logger.info("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping")
            if case .whenDelivered = service.completion {
                finish(BridgeService.NotDelivered.interrupted)
            } else {
                finish(nil)
            }
        }
    }

    /// SIGHUP: the config file is read and checked on a helper thread (reading a file is
    /// blocking work); the loop applies it, or refuses a bad one and keeps the old.
    private func reload() {
        guard let configPath = service.configPath else {
            logger.info("SIGHUP: no config file to reload")
            return
        }
        guard phase != .stopping else { return }
        guard !reloading else {
            reloadAgain = true
            return
        }
        reloading = true
        logger.info("SIGHUP: reloading \(configPath)")
        status.notifier.reloading(status: "reloading \(configPath)")
        let handle = loop.handle
        let this = LoopBound(self, loop: loop)
        do {
            let checker = service.configChecker
            _ = try BlockingThread {
                let result = Result { () throws(ConfigurationError) in
                    // A child parses the file first when there is a checker: a file that
                    // crashes the TOML parser must not take the running daemon with it.
                    if let checker { return try checker.load(path: configPath) }
                    return ConfigurationChecker.Loaded(configuration: try ConfigurationLoader.load(path: configPath))
                }
                handle.execute { _ in this.value.apply(result) }
            }
        } catch {
            apply(.failure(ConfigurationError([ConfigurationDiagnostic(file: configPath, line: nil, message: "cannot start reading: \(error)")])))
        }
    }

    private func apply(_ result: Result<ConfigurationChecker.Loaded, ConfigurationError>) {
        reloading = false
        guard phase != .stopping else { return }
        switch result {
        case .success(let loaded):
            if let unchecked = loaded.unchecked {
                logger.warning("\(service.configPath ?? "config"): parsed without the check in a child process (\(unchecked))")
            }
            let new = loaded.configuration
            let old = configuration
            configuration = new
            bridge.reconfigure(new)
            sender?.update(new.sender)
            status.endpoint(new.sender.endpointDescription)
            let endpoint = new.sender.needsReconnect(comparedTo: old.sender)
                ? "reconnecting to \(new.sender.endpointDescription)" : "connection kept"
            logger.info("config reloaded: \(new.devices.count) device rule(s), \(new.bindings.count) binding(s); \(endpoint)")
        case .failure(let error):
            for diagnostic in error.diagnostics { logger.error("\(diagnostic)") }
            logger.error("config not reloaded: the previous config stays in force")
        }
        status.notifier.ready(status: status.text)
        if reloadAgain {
            reloadAgain = false
            reload()
        }
    }

    // MARK: - Shutdown

    /// Ends the run (once): stops following devices, stops the sender (writing the
    /// clear state first with `clear_on_exit`), then detaches the devices and ends the loop.
    private func finish(_ error: (any Error)?) {
        guard phase != .stopping else { return }
        phase = .stopping
        failure = error
        status.notifier.stopping()
        for timer in [startup, timeout, watchdog].compactMap({ $0 }) { loop.cancel(timer) }
        (startup, timeout, watchdog) = (nil, nil, nil)
        bridge.stopFollowing()
        // The sender stops first: releasing the buttons of detached devices must not
        // reach the server, which keeps the last state unless clear_on_exit says otherwise.
        let done = { [unowned self] in
            bridge.detachAll()
            status.flush()
            loop.stop()
        }
        if let sender {
            sender.stop(sending: configuration.clearOnExit ? .clear : nil, done: done)
        } else {
            done()
        }
    }
}
