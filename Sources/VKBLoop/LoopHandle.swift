// Owns the loop's eventfd and the inbox of jobs other threads post to it.

import CLinux
import Glibc
import NIOConcurrencyHelpers
import Synchronization
import VKBCore

/// How any thread reaches an `EpollLoop`: posted jobs run on the loop's thread, in order.
public final class LoopHandle: Sendable {
    public typealias Job = @Sendable (EpollLoop) -> Void

    private struct Inbox {
        var jobs: [Job] = []
        var closed = false
    }

    /// Readable while jobs wait.
    let wakeFD: Int32
    private let inbox = NIOLockedValueBox(Inbox())
    /// The `pthread_t` of the thread that owns the loop, 0 until one does.
    private let owner = Atomic<UInt>(0)

    init() throws(SystemCallError) {
        let fd = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard fd >= 0 else { throw SystemCallError("eventfd", errno: errno) }
        wakeFD = fd
    }

    deinit {
        Glibc.close(wakeFD)
    }

    /// Runs `job` on the loop's thread. False when the loop has ended: the job never runs.
    @discardableResult
    public func execute(_ job: @escaping Job) -> Bool {
        let wake = inbox.withLockedValue { inbox -> Bool? in
            guard !inbox.closed else { return nil }
            inbox.jobs.append(job)
            return inbox.jobs.count == 1
        }
        guard let wake else { return false }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, MemoryLayout<UInt64>.size)
        }
        return true
    }

    /// True on the thread that owns the loop.
    public var inLoopThread: Bool {
        let owner = owner.load(ordering: .acquiring)
        return owner != 0 && pthread_equal(owner, pthread_self()) != 0
    }

    func adopt(owner thread: pthread_t) {
        owner.store(thread, ordering: .releasing)
    }

    /// The jobs posted so far (the eventfd is reset first, so a job posted meanwhile wakes
    /// the loop again).
    func takeJobs() -> [Job] {
        var count: UInt64 = 0
        _ = read(wakeFD, &count, MemoryLayout<UInt64>.size)
        return inbox.withLockedValue { inbox in
            defer { inbox.jobs.removeAll() }
            return inbox.jobs
        }
    }

    /// Refuses new jobs and returns those still waiting.
    func close() -> [Job] {
        inbox.withLockedValue { inbox in
            inbox.closed = true
            defer { inbox.jobs.removeAll() }
            return inbox.jobs
        }
    }
}
