import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import VKBCore

/// Delivers shift states to a VKB-Link server over TCP and keeps doing so across
/// server restarts and outages.
///
/// - On every new connection the current state is written first, so a restarted
///   server converges on the truth without any new input.
/// - The read side is watched all the time, so a closed or reset connection is
///   noticed at once; keepalive and `TCP_USER_TIMEOUT` find a silently dead peer.
/// - While connected every change is sent in order; while disconnected changes
///   coalesce into the current state. A full queue never blocks `submit`.
/// - It never gives up while running: retries use exponential backoff with jitter.
///
/// All methods are safe from any thread. Work happens on one event loop.
public final class ReconnectingSender: Sendable {
    private let core: NIOLoopBoundBox<SenderCore>
    /// States on their way to the loop (see `SenderHandoff`).
    private let handoff: NIOLockedValueBox<SenderHandoff>
    private let handoffCapacity: Int
    public let eventLoop: EventLoop
    /// Connection changes and reports, in order. One consumer.
    public let events: AsyncStream<SenderEvent>
    private let continuation: AsyncStream<SenderEvent>.Continuation

    public init(configuration: SenderConfiguration, eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next()) {
        self.eventLoop = eventLoop
        self.handoffCapacity = max(1, configuration.queueCapacity)
        let handoff = NIOLockedValueBox(SenderHandoff())
        self.handoff = handoff
        (events, continuation) = AsyncStream.makeStream(of: SenderEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let continuation = continuation
        // Handed to the loop without waiting for it: callers may themselves run on an
        // event loop (Swift concurrency on NIO's threads), where blocking is forbidden.
        self.core = NIOLoopBoundBox.makeBoxSendingValue(
            SenderCore(loop: eventLoop, configuration: configuration, handoff: handoff) { continuation.yield($0) },
            eventLoop: eventLoop)
    }

    /// Starts connecting. Returns at once.
    public func start() {
        run { $0.start() }
    }

    /// Makes `state` the current state and sends it when it can. Never blocks: the
    /// state is handed to the event loop, which writes every state in order.
    public func submit(_ state: ShiftState) {
        let capacity = handoffCapacity
        guard handoff.withLockedValue({ $0.submit(state, capacity: capacity) }) else { return }
        eventLoop.execute { [core] in core.value.drainHandoff() }
    }

    /// Applies a new configuration; reconnects only if the endpoint or socket settings changed.
    public func update(_ configuration: SenderConfiguration) {
        run { $0.update(configuration) }
    }

    /// Counters and the delivery state, as of now.
    public func statistics() async -> SenderStatistics {
        (try? await eventLoop.submit { [core] in core.value.snapshot() }.get()) ?? SenderStatistics()
    }

    /// Returns once the current state's packet has been acknowledged by the server's
    /// kernel on a live connection. Throws if the sender stops first.
    public func waitUntilDelivered() async throws {
        // The promise is made here so that cancelling the waiting task can fail it: a
        // future's `get()` alone would wait through cancellation for as long as the
        // server stays away.
        let promise = eventLoop.makePromise(of: Void.self)
        try await withTaskCancellationHandler {
            eventLoop.execute { [core] in core.value.whenDelivered(promise) }
            try await promise.futureResult.get()
        } onCancel: {
            // Failing it here covers a cancellation that comes before the loop saw it.
            promise.fail(CancellationError())
            eventLoop.execute { [core] in core.value.abandon(promise) }
        }
    }

    /// Stops for good. With `final`, that state is written first and given up to half
    /// a second to be acknowledged.
    public func stop(sending final: ShiftState? = nil) async {
        try? await eventLoop.flatSubmit { [core] in core.value.stop(sending: final) }.get()
        continuation.finish()
    }

    private func run(_ body: @escaping @Sendable (SenderCore) -> Void) {
        eventLoop.execute { [core] in body(core.value) }
    }
}
