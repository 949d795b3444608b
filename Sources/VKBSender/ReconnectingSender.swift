import NIOConcurrencyHelpers
import Synchronization
import VKBCore
import VKBLoop

/// A `Sender` for callers on other threads (tests, tools): every method is safe from
/// any thread; the work happens on one `EpollLoop`, the caller's or a loop thread of the
/// sender's own. The daemon uses `Sender` on its loop directly.
public final class ReconnectingSender: Sendable {
    /// The core, made by the first job posted to the loop (jobs run in order).
    private let core: LoopBoundBox<Sender>
    /// States on their way to the loop from other threads (see `SenderHandoff`).
    private let handoff: NIOLockedValueBox<SenderHandoff>
    private let handoffCapacity: Int
    private let loop: LoopHandle
    /// The loop thread this sender started for itself, if it was given none.
    private let ownThread: LoopThread?
    private let nextWaiter = Atomic<Int>(0)
    /// Connection changes and reports, in order. One consumer.
    public let events: AsyncStream<SenderEvent>
    private let continuation: AsyncStream<SenderEvent>.Continuation

    /// A sender on `loop`, or on a loop thread of its own when nil.
    public init(configuration: SenderConfiguration, loop: LoopHandle? = nil) throws(SystemCallError) {
        if let loop {
            ownThread = nil
            self.loop = loop
        } else {
            let thread = try LoopThread()
            ownThread = thread
            self.loop = thread.handle
        }
        handoffCapacity = max(1, configuration.queueCapacity)
        let handoff = NIOLockedValueBox(SenderHandoff())
        self.handoff = handoff
        (events, continuation) = AsyncStream.makeStream(of: SenderEvent.self, bufferingPolicy: .bufferingNewest(1024))
        let continuation = continuation
        let core = LoopBoundBox<Sender>(handle: self.loop)
        self.core = core
        self.loop.execute { loop in
            core.value = Sender(loop: loop, configuration: configuration, handoff: handoff) { continuation.yield($0) }
        }
    }

    deinit {
        ownThread?.stop()
    }

    /// Starts connecting. Returns at once.
    public func start() {
        run { $0.start() }
    }

    /// Makes `state` the current state and sends it when it can. Never blocks: on the
    /// loop's thread it is written at once; from another thread it is handed to the loop,
    /// which writes every state in order.
    public func submit(_ state: ShiftState) {
        if loop.inLoopThread, let core = core.value {
            core.drainHandoff()
            core.submit(state)
            return
        }
        let capacity = handoffCapacity
        guard handoff.withLockedValue({ $0.submit(state, capacity: capacity) }) else { return }
        run { $0.drainHandoff() }
    }

    /// Applies a new configuration; reconnects only if the endpoint or socket settings changed.
    public func update(_ configuration: SenderConfiguration) {
        run { $0.update(configuration) }
    }

    /// Counters and the delivery state, as of now.
    public func statistics() async -> SenderStatistics {
        let core = self.core
        return await withCheckedContinuation { answer in
            let posted = loop.execute { _ in answer.resume(returning: core.value?.statistics ?? SenderStatistics()) }
            if !posted { answer.resume(returning: SenderStatistics()) }
        }
    }

    /// Returns once the current state's packet has been acknowledged by the server's
    /// kernel on a live connection. Throws if the sender stops first or the task is cancelled.
    public func waitUntilDelivered() async throws {
        let id = nextWaiter.add(1, ordering: .relaxed).newValue
        let (core, loop) = (self.core, self.loop)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
                let posted = loop.execute { _ in
                    guard let core = core.value else { return waiter.resume(throwing: Sender.Stopped()) }
                    core.whenDelivered(id: id) { result in waiter.resume(with: result) }
                }
                if !posted { waiter.resume(throwing: Sender.Stopped()) }
            }
        } onCancel: {
            // Ordered after the registration when both are posted; before it, the core
            // remembers the id and refuses the late registration.
            loop.execute { _ in core.value?.abandon(id: id) }
        }
    }

    /// Stops for good. With `final`, that state is written first and given up to half
    /// a second to be acknowledged.
    public func stop(sending final: ShiftState? = nil) async {
        let core = self.core
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let posted = loop.execute { _ in
                guard let core = core.value else { return done.resume() }
                core.stop(sending: final) { done.resume() }
            }
            if !posted { done.resume() }
        }
        continuation.finish()
        ownThread?.stop()
    }

    private func run(_ body: @escaping @Sendable (Sender) -> Void) {
        let core = self.core
        loop.execute { _ in core.value.map(body) }
    }
}
