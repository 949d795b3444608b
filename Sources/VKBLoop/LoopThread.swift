// Owns one thread that creates and runs an `EpollLoop`.

import NIOConcurrencyHelpers
import VKBCore

/// An `EpollLoop` on a thread of its own, for callers whose own thread is taken (Swift
/// concurrency's, a test's).
public final class LoopThread: Sendable {
    public let handle: LoopHandle
    private let thread: BlockingThread

    /// Starts the thread; returns once its loop runs.
    public init() throws(SystemCallError) {
        let handle = try LoopHandle()
        self.handle = handle
        let started = ConditionLock(value: 0)
        let failure = NIOLockedValueBox<SystemCallError?>(nil)
        thread = try BlockingThread {
            let loop: EpollLoop
            do throws(SystemCallError) {
                loop = try EpollLoop(handle: handle)
            } catch {
                failure.withLockedValue { $0 = error }
                for _ in handle.close() {}
                started.lock()
                started.unlock(withValue: 1)
                return
            }
            started.lock()
            started.unlock(withValue: 1)
            loop.run()
            loop.close()
        }
        started.lock(whenValue: 1)
        started.unlock()
        if let error = failure.withLockedValue({ $0 }) {
            thread.join()
            throw error
        }
    }

    /// Stops the loop (its posted jobs still run) and waits for the thread to end; on
    /// the loop's own thread it only asks the loop to stop.
    public func stop() {
        handle.execute { $0.stop() }
        if !handle.inLoopThread { thread.join() }
    }
}
