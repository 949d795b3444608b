import Logging
import NIOConcurrencyHelpers
import VKBCore
import VKBInput
import VKBLoop
import VKBSender

/// The daemon: config, sender, bridge and device watcher, run as one service on one
/// `EpollLoop` (DESIGN §1), with reload on SIGHUP and a clean stop on SIGTERM/SIGINT.
///
/// The one lifecycle of `run`, `monitor` (no sender: `sending: false`) and `demo`. The
/// service itself only holds what `run` is given; everything `run` builds lives on the
/// loop of the thread that calls it (`DaemonRun`).
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

    /// The device watcher failed: the service cannot see sticks any more.
    public struct WatcherFailed: Error, CustomStringConvertible {
        public let description: String
    }

    let configuration: BridgeConfiguration
    let configPath: String?
    /// Parses a reloaded config in a child first; nil parses it in this process only.
    let configChecker: ConfigurationChecker?
    let watcher: any DeviceWatcher
    let completion: Completion
    let sending: Bool
    let logger: Logger
    let observe: @Sendable (Bridge.Observation) -> Void
    let observeSender: @Sendable (SenderEvent) -> Void
    let onUserSignal: @Sendable () -> Void
    private let lastState = NIOLockedValueBox(ShiftState.clear)

    /// - Parameters:
    ///   - configPath: re-read on SIGHUP; nil disables reload.
    ///   - configChecker: parses the re-read file in a child process first (`run`, `monitor`:
    ///     `.thisProgram`), so a file that crashes the TOML parser is refused, not fatal.
    ///   - observe: extra observer of bridge events (e.g. `monitor`'s printer), on the loop.
    ///   - sending: false for `monitor`: no sender, nothing leaves the machine.
    ///   - observeSender: extra observer of the sender's events (e.g. `demo`'s timeline).
    ///   - onUserSignal: what SIGUSR1 does, when `run`'s signals include it (`monitor`).
    public init(
        configuration: BridgeConfiguration,
        configPath: String?,
        configChecker: ConfigurationChecker? = nil,
        watcher: any DeviceWatcher,
        completion: Completion = .never,
        sending: Bool = true,
        logger: Logger,
        observe: @escaping @Sendable (Bridge.Observation) -> Void = { _ in },
        observeSender: @escaping @Sendable (SenderEvent) -> Void = { _ in },
        onUserSignal: @escaping @Sendable () -> Void = {}
    ) {
        self.configuration = configuration
        self.configPath = configPath
        self.configChecker = configChecker
        self.watcher = watcher
        self.completion = completion
        self.sending = sending
        self.logger = logger
        self.observe = observe
        self.observeSender = observeSender
        self.onUserSignal = onUserSignal
    }

    /// The stick state (OR over every device) when the last `run` ended.
    public var finalState: ShiftState { lastState.withLockedValue { $0 } }

    /// Runs on a loop owned by the calling thread until `completion` says so, a stop
    /// signal arrives, or the device watcher fails (then it throws `WatcherFailed`, after
    /// a clean shutdown).
    /// - Parameter signals: SIGTERM/SIGINT stop, SIGHUP reloads, SIGUSR1 calls
    ///   `onUserSignal`; nil for a run that only `completion` ends (the demo).
    public func run(signals: DaemonSignals?) throws {
        let loop = try EpollLoop()
        let run = DaemonRun(service: self, loop: loop)
        run.start(signals: signals)
        loop.run()
        loop.close()
        lastState.withLockedValue { $0 = run.bridge.currentState }
        if let failure = run.failure { throw failure }
    }

    /// `run(signals: nil)` on a thread of its own, for callers in Swift concurrency.
    public func run() async throws {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            do {
                _ = try BlockingThread {
                    do {
                        try self.run(signals: nil)
                        done.resume()
                    } catch {
                        done.resume(throwing: error)
                    }
                }
            } catch {
                done.resume(throwing: error)
            }
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
