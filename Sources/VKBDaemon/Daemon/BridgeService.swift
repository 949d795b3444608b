import Logging
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif
import VKBCore
import VKBInput
import VKBLoop
import VKBSender

/// The daemon: config, sender, bridge and device watcher, run as one service with
/// reload on SIGHUP and a clean stop on SIGTERM/SIGINT (`DaemonSignals`).
///
/// The one lifecycle of `run`, `monitor` (no sender: `sending: false`) and `demo`.
public final class BridgeService: Sendable {
    /// When `run` should return by itself.
    public enum Completion: Sendable {
        /// Runs until shut down.
        case never
        /// Returns once every recording ended and the final state is acknowledged by
        /// the server's kernel on a live connection; throws after `timeoutSeconds`.
        case whenDelivered(timeoutSeconds: Double)
    }

    /// Why a `.whenDelivered` run ended without delivering.
    public struct NotDelivered: Error, CustomStringConvertible {
        public let description: String

        static func timedOut(after seconds: Double, _ detail: String) -> NotDelivered {
            NotDelivered(description: "the final state was not delivered within \(seconds) s: \(detail)")
        }

        static let interrupted = NotDelivered(description: "stopped by a signal before the final state was delivered")
    }

    /// Nil for `monitor`, which sends nothing.
    private let sender: ReconnectingSender?
    /// The sender's event loop.
    private let loop: LoopThread?
    public let bridge: Bridge
    private let watcher: any DeviceWatcher
    private let configPath: String?
    private let configuration: NIOLockedValueBox<BridgeConfiguration>
    private let completion: Completion
    private let logger: Logger
    private let observeSender: @Sendable (SenderEvent) -> Void
    private let onUserSignal: @Sendable () -> Void
    private let status: StatusReporter
    private let ended: AsyncStream<Void>
    private let endedContinuation: AsyncStream<Void>.Continuation
    /// Ticks while the devices present at start are being opened (`waitForInitialStates`).
    private let startup: AsyncStream<Void>
    private let startupContinuation: AsyncStream<Void>.Continuation

    /// - Parameters:
    ///   - configPath: re-read on SIGHUP; nil disables reload.
    ///   - observe: extra observer of bridge events (e.g. `monitor`'s printer).
    ///   - sending: false for `monitor`: no sender, nothing leaves the machine.
    ///   - observeSender: extra observer of the sender's events (e.g. `demo`'s timeline).
    ///   - onUserSignal: what SIGUSR1 does, when `run`'s signals include it (`monitor`).
    public init(
        configuration: BridgeConfiguration,
        configPath: String?,
        watcher: any DeviceWatcher,
        completion: Completion = .never,
        sending: Bool = true,
        logger: Logger,
        observe: @escaping @Sendable (Bridge.Observation) -> Void = { _ in },
        observeSender: @escaping @Sendable (SenderEvent) -> Void = { _ in },
        onUserSignal: @escaping @Sendable () -> Void = {}
    ) throws(SystemCallError) {
        self.observeSender = observeSender
        self.onUserSignal = onUserSignal
        let loop = sending ? try LoopThread() : nil
        self.loop = loop
        let sender = try loop.map { loop throws(SystemCallError) in try ReconnectingSender(configuration: configuration.sender, loop: loop.handle) }
        self.sender = sender
        let status = StatusReporter(notifier: SystemdNotifier(), endpoint: configuration.sender.endpointDescription)
        self.status = status
        self.watcher = watcher
        self.configPath = configPath
        self.configuration = NIOLockedValueBox(configuration)
        self.completion = completion
        self.logger = logger
        (ended, endedContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let endedContinuation = endedContinuation
        (startup, startupContinuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let startupContinuation = startupContinuation
        self.bridge = Bridge(
            configuration: configuration, logger: logger,
            deliver: { sender?.submit($0) },
            observe: { [logger] observation in
                // `monitor` (no sender) prints every observation itself, on stdout.
                if sending { BridgeService.log(observation, to: logger) }
                BridgeService.report(observation, to: status)
                switch observation {
                case .ended, .ignored: endedContinuation.yield()
                default: break
                }
                // Key presses (the frequent ones) never complete the start-up.
                if case .key = observation {} else { startupContinuation.yield() }
                observe(observation)
            })
    }

    /// The device watcher failed: the service cannot see sticks any more.
    public struct WatcherFailed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs until `completion` says so, a stop signal arrives, or the device watcher fails
    /// (then it throws `WatcherFailed`, after a clean shutdown).
    /// - Parameter signals: SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1 calls
    ///   `onUserSignal`; nil for a run that only `completion` ends (the demo).
    public func run(signals: DaemonSignals? = nil) async throws {
        let watcher = self.watcher
        let bridge = self.bridge
        let logger = self.logger
        let (stopRequested, requestStop) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let watcherFailure = NIOLockedValueBox<WatcherFailed?>(nil)
        let watcherThread = try BlockingThread {
            do {
                try bridge.follow(watcher)
            } catch {
                logger.error("device watcher failed: \(error)")
                watcherFailure.withLockedValue { $0 = WatcherFailed(description: "device watcher failed: \(error)") }
                requestStop.yield()
            }
        }
        defer { watcherThread.join() }
        // The sender starts once the sticks present now have reported the buttons they
        // hold (at most a second): the first connection then carries the true state, and
        // a restarted daemon never tells the server "all released" for a few milliseconds
        // while a pilot holds a shift.
        await waitForInitialStates(upTo: .seconds(1))
        startupContinuation.finish()
        sender?.start()
        let endpoint = configuration.withLockedValue { $0.sender.endpointDescription }
        logger.info(sender == nil ? "watching devices; sending nothing" : "watching devices; sending to \(endpoint)")
        // Ready once the config is loaded and devices are watched; never waits for the server.
        status.notifier.ready(status: status.text)

        try await withThrowingTaskGroup(of: Void.self) { group in
            if sender != nil { group.addTask { await self.logSenderEvents() } }
            group.addTask { await self.status.run() }
            if let interval = status.notifier.watchdogPingInterval {
                group.addTask { await self.pingWatchdog(every: interval) }
            }
            if let signals {
                group.addTask {
                    for await signal in signals.received {
                        if signal == SIGHUP {
                            self.reload()
                        } else if signal == SIGUSR1 {
                            self.onUserSignal()
                        } else {
                            self.logger.info("\(signal == SIGINT ? "SIGINT" : "SIGTERM"): stopping")
                            requestStop.yield()
                        }
                    }
                }
            }
            // Whatever ends the wait, the shutdown runs: it stops the watcher thread
            // that the deferred join waits for.
            var failure: (any Error)?
            switch completion {
            case .never:
                for await _ in stopRequested { break }
            case .whenDelivered(let timeout):
                do {
                    try await withThrowingTaskGroup(of: Bool.self) { race in
                        race.addTask {
                            try await self.waitUntilDelivered(timeoutSeconds: timeout)
                            return true
                        }
                        // A stop signal, or the watcher failing. (`requestStop` outlives
                        // this wait, so the stream ends only by a stop.)
                        race.addTask {
                            for await _ in stopRequested { return false }
                            return false
                        }
                        defer { race.cancelAll() }
                        if try await race.next() == false { throw NotDelivered.interrupted }
                    }
                } catch {
                    failure = error
                }
            }
            await self.shutdown()
            group.cancelAll()
            if let failure = watcherFailure.withLockedValue({ $0 }) { throw failure }
            if let failure { throw failure }
        }
    }

    /// Returns when `bridge.initialStatesKnown`, or after `limit` (a stick whose node is
    /// not accessible yet must not hold up the rest).
    private func waitForInitialStates(upTo limit: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in self.startup where self.bridge.initialStatesKnown { return }
            }
            group.addTask { try? await DaemonThreads.sleep(for: limit) }
            await group.next()
            group.cancelAll()
        }
    }

    private func shutdown() async {
        status.notifier.stopping()
        watcher.stop()
        // The sender stops first: releasing the buttons of detached devices must not
        // reach the server, which keeps the last state unless clear_on_exit says otherwise.
        let clear = configuration.withLockedValue { $0.clearOnExit }
        await sender?.stop(sending: clear ? .clear : nil)
        loop?.stop()
        bridge.detachAll()
        endedContinuation.finish()
        status.finish()
    }

    /// Pings systemd's watchdog only while the sender's event loop answers, so a hung
    /// loop stops the pings and systemd restarts the daemon.
    private func pingWatchdog(every interval: Duration) async {
        while !Task.isCancelled {
            _ = await sender?.statistics()
            status.notifier.watchdog()
            try? await DaemonThreads.sleep(for: interval)
        }
    }

    static func report(_ observation: Bridge.Observation, to status: StatusReporter) {
        switch observation {
        case .attached(let handle, let device, let label):
            status.attached(handle, name: label ?? device.name.trimmingCharacters())
        case .detached(let handle, _, _):
            status.detached(handle)
        case .key(_, _, _, _, let state), .keyState(_, _, _, let state):
            status.shift(state)
        case .ignored, .ended, .enumerated:
            break
        }
    }

    private func waitUntilDelivered(timeoutSeconds: Double) async throws {
        guard let sender else { throw NotDelivered(description: "nothing is sent (no sender)") }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                // A replay watcher reports every recording at once: when all of them were
                // ignored, nothing will ever be delivered, and waiting out the timeout helps no one.
                let recordings = (self.watcher as? ReplayDeviceWatcher)?.sources.count
                for await _ in self.ended {
                    if self.bridge.allSourcesEnded { break }
                    let ignored = self.bridge.ignoredPaths
                    if let recordings, ignored.count == recordings {
                        throw NotDelivered(description: "no [[device]] rule matches \(recordings == 1 ? "the recording" : "any of the \(recordings) recordings") (\(ignored.joined(separator: ", "))): nothing to deliver; compare the recording's N: (name) and I: (ids) lines with the rules")
                    }
                }
                try await sender.waitUntilDelivered()
            }
            group.addTask {
                try await DaemonThreads.sleep(for: .milliseconds(Int(timeoutSeconds * 1000)))
                let stats = await sender.statistics()
                let detail = !self.bridge.allSourcesEnded
                    ? "the recordings had not ended"
                    : stats.isConnected
                        ? "connected, but the server's kernel had not acknowledged state \(stats.currentState)"
                        : "not connected to the server"
                throw NotDelivered.timedOut(after: timeoutSeconds, detail)
            }
            defer { group.cancelAll() }
            try await group.next()
        }
        let state = await sender.statistics().currentState
        logger.info("delivered: the server's kernel acknowledged the final state \(state)")
    }

    /// SIGHUP: re-reads the config file; a bad one is refused and the old one kept.
    private func reload() {
        guard let configPath else {
            logger.info("SIGHUP: no config file to reload")
            return
        }
        logger.info("SIGHUP: reloading \(configPath)")
        status.notifier.reloading(status: "reloading \(configPath)")
        defer { status.notifier.ready(status: status.text) }
        do {
            let new = try ConfigurationLoader.load(path: configPath)
            let old = configuration.withLockedValue { c in
                defer { c = new }
                return c
            }
            bridge.reconfigure(new)
            sender?.update(new.sender)
            status.endpoint(new.sender.endpointDescription)
            let endpoint = new.sender.needsReconnect(comparedTo: old.sender)
                ? "reconnecting to \(new.sender.endpointDescription)" : "connection kept"
            logger.info("config reloaded: \(new.devices.count) device rule(s), \(new.bindings.count) binding(s); \(endpoint)")
        } catch {
            for diagnostic in error.diagnostics {
                logger.error("\(diagnostic)")
            }
            logger.error("config not reloaded: the previous config stays in force")
        }
    }

    private func logSenderEvents() async {
        guard let sender else { return }
        for await event in sender.events {
            observeSender(event)
            if case .connectionState(let state) = event { status.connection(state) }
            switch event {
            case .connectionState(let state):
                switch state {
                case .connected, .stopped, .connecting: logger.notice("\(state)")
                case .disconnected, .reconnecting: logger.warning("\(state)")
                }
            case .attemptFailed(let attempt, let reason, let delay):
                logger.debug("connect attempt \(attempt) failed (\(reason)); next in \(delay) ms")
            case .outageBegan(let reason):
                logger.warning("server unreachable (\(reason)); retrying until it is back")
            case .outageContinues(let seconds, let attempts, let reason):
                logger.warning("server still unreachable after \(Self.duration(seconds)) and \(attempts) attempts (\(reason))")
            case .outageEnded(let seconds, let attempts):
                logger.notice("server reachable again after \(Self.duration(seconds)) (\(attempts) failed attempts)")
            case .unacknowledgedOnDeadConnection(let packets, let last):
                logger.warning("\(packets) packet(s) written but never acknowledged before the connection died (last: \(last)); the current state is re-sent first")
            case .queueOverflow(let total):
                logger.warning("outbound queue full: \(total) intermediate state(s) coalesced so far")
            }
        }
    }

    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return "\(Int(seconds.rounded())) s" }
        let s = Int(seconds.rounded())
        return s < 3600 ? "\(s / 60) min \(s % 60) s" : "\(s / 3600) h \(s % 3600 / 60) min"
    }

    static func log(_ observation: Bridge.Observation, to logger: Logger) {
        switch observation {
        case .attached(_, let device, let label):
            logger.notice("attached \(label.map { "\($0): " } ?? "")\(device.name.trimmingCharacters()) (\(device.usbID)) at \(device.path)")
        case .ignored(let device):
            logger.info("ignoring \(device.name.trimmingCharacters()) (\(device.usbID)) at \(device.path): no [[device]] matches it")
        case .detached(_, let device, let cause):
            logger.notice("detached \(device.name.trimmingCharacters()) at \(device.path): \(cause)")
        case .ended(_, let device):
            logger.info("recording \(device.path) ended; its device keeps its last state")
        case .key(_, _, let code, let pressed, let state):
            logger.debug("\(EvdevCodeNames.keyName(code)) \(pressed ? "down" : "up") → \(state)")
        case .keyState(_, _, let keys, let state):
            logger.debug("key state \(keys.codes.map(EvdevCodeNames.keyName)) → \(state)")
        case .enumerated:
            break
        }
    }
}
