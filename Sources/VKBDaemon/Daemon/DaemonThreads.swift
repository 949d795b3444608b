import CSwiftExecutorHook
import NIOCore
import NIOPosix

/// Where the daemon's Swift concurrency work runs, chosen so that an idle daemon has no
/// periodic wake-ups. (The sender has an `EpollLoop` thread of its own.)
public enum DaemonThreads {
    /// Runs Swift concurrency's global jobs on NIO's singleton event loops instead of
    /// libdispatch's thread pool. On Linux that pool is watched by a 1 Hz timer
    /// (`_dispatch_workq_monitor_pools`) from its first job on, which would wake an idle
    /// daemon every second forever, and its workers call `setpriority()`, which the unit's
    /// `SystemCallFilter=~@resources` refuses. Call once, first thing in `main`, before
    /// any task runs. Returns false when the hook was already taken (the pool then stays
    /// in use).
    ///
    /// NIO's own take-over finds the hook with dlsym, which fails once the Swift runtime
    /// is linked in (`--static-swift-stdlib`, the release build); `CSwiftExecutorHook`
    /// sets it by a linked reference instead, in both builds.
    @discardableResult
    public static func runSwiftConcurrencyOnNIO() -> Bool {
        // A thin function: the runtime calls it with the job and the default enqueue.
        typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let enqueueOnNIO: Hook = { job, _ in
            MultiThreadedEventLoopGroup.singleton.any().executor.enqueue(ExecutorJob(job))
        }
        return withUnsafePointer(to: enqueueOnNIO) { hook in
            // The runtime's hook variable holds the function pointer itself.
            let function = UnsafeRawPointer(hook).load(as: UnsafeMutableRawPointer?.self)
            return vkb_install_global_enqueue_hook(function) == 1
        }
    }

    /// `Task.sleep` for the daemon: a timer on a NIO event loop, cancelled with the task.
    /// Swift 6.3's `Task.sleep` takes no executor hook: it schedules on libdispatch's
    /// global queue, which starts libdispatch worker threads, and those call
    /// `setpriority()`, refused under the unit's `SystemCallFilter=~@resources`.
    static func sleep(for duration: Duration) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        let scheduled = loop.scheduleTask(in: .nanoseconds(nanoseconds)) {}
        try await withTaskCancellationHandler {
            try await scheduled.futureResult.get()
        } onCancel: {
            scheduled.cancel()
        }
        try Task.checkCancellation()
    }
}
