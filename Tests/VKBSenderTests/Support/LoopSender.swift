import VKBCore
import VKBLoop

@testable import VKBSender

/// A `Sender` on a loop thread of its own, driven from the test's thread: every call is a
/// job posted to the loop, in order (the daemon calls `Sender` on its loop directly).
final class LoopSender: Sendable {
    private let thread: LoopThread
    private let sender: LoopBoundBox<Sender>

    init(configuration: SenderConfiguration) throws {
        thread = try LoopThread()
        let sender = LoopBoundBox<Sender>(handle: thread.handle)
        self.sender = sender
        thread.handle.execute { loop in
            sender.value = Sender(loop: loop, configuration: configuration) { _ in }
        }
    }

    deinit {
        thread.stop()
    }

    func start() { run { $0.start() } }
    func submit(_ state: ShiftState) { run { $0.submit(state) } }

    func statistics() async -> SenderStatistics {
        let sender = self.sender
        return await withCheckedContinuation { answer in
            thread.handle.execute { _ in answer.resume(returning: sender.value!.statistics) }
        }
    }

    /// Returns once the current state is acknowledged; throws if the sender stops first.
    func waitUntilDelivered() async throws {
        let sender = self.sender
        try await withCheckedThrowingContinuation { (waiter: CheckedContinuation<Void, any Error>) in
            thread.handle.execute { _ in sender.value!.whenDelivered { waiter.resume(with: $0) } }
        }
    }

    func stop(sending final: ShiftState? = nil) async {
        let sender = self.sender
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            thread.handle.execute { _ in sender.value!.stop(sending: final) { done.resume() } }
        }
    }

    private func run(_ body: @escaping @Sendable (Sender) -> Void) {
        let sender = self.sender
        thread.handle.execute { _ in body(sender.value!) }
    }
}
