// Owns the epoll set and the one timerfd that every deadline shares. Used only on the
// thread that created it; other threads reach it through its `LoopHandle` (an eventfd
// and an inbox of jobs).

import CLinux
import Glibc
import VKBCore

/// One thread around one epoll set, the way keyd, evsieve and libinput are built: each
/// descriptor is registered with its handler, every deadline is an entry on one timerfd,
/// and other threads post jobs through `handle`. Idle, it sleeps in `epoll_wait` with no
/// timeout: no periodic wake-ups.
///
/// Not `Sendable`: create it, register with it and run it on one thread.
public final class EpollLoop {
    /// Called with the events that fired.
    public typealias Handler = (_ events: IOEvents) -> Void

    /// A registered descriptor.
    public struct Registration: Hashable, Sendable {
        fileprivate let token: UInt64
    }

    /// A scheduled deadline.
    public struct Timer: Hashable, Sendable {
        fileprivate let id: UInt64
    }

    private struct Slot {
        var generation: UInt32 = 0
        var fd: Int32 = -1
        var handler: Handler?
    }

    private struct Scheduled {
        var deadline: UInt64
        var id: UInt64
        var body: () -> Void
    }

    /// How other threads reach this loop.
    public let handle: LoopHandle
    private let epollFD: Int32
    private let timerFD: Int32
    /// Registered descriptors by slot; a registration's token is its slot's generation
    /// (≥ 1) in the high 32 bits and the slot in the low ones, so a wake-up finds its
    /// handler by index, with no hashing, and a stale token finds nothing.
    private var slots: [Slot] = []
    /// Slots free for reuse.
    private var freeSlots: [Int] = []
    private var nextTimerID: UInt64 = 1
    /// Pending deadlines, earliest first (a handful at a time: a sorted array beats a heap).
    private var timers: [Scheduled] = []
    /// The deadline the timerfd is armed for, 0 when disarmed.
    private var armedDeadline: UInt64 = 0
    private var stopRequested = false

    /// The timerfd's and the handle's eventfd's tokens: below every slot token.
    private static let timerToken: UInt64 = 0
    private static let wakeToken: UInt64 = 1

    /// A loop owned by the calling thread, reachable from others through `handle`.
    public convenience init() throws(SystemCallError) {
        try self.init(handle: LoopHandle())
    }

    /// A loop owned by the calling thread that serves `handle`'s jobs.
    init(handle: LoopHandle) throws(SystemCallError) {
        let epollFD = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epollFD >= 0 else { throw SystemCallError("epoll_create1", errno: errno) }
        let timerFD = timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK) | Int32(TFD_CLOEXEC))
        guard timerFD >= 0 else {
            let code = errno
            Glibc.close(epollFD)
            throw SystemCallError("timerfd_create", errno: code)
        }
        self.epollFD = epollFD
        self.timerFD = timerFD
        self.handle = handle
        do {
            try add(timerFD, events: UInt32(EPOLLIN.rawValue), token: Self.timerToken)
            try add(handle.wakeFD, events: UInt32(EPOLLIN.rawValue), token: Self.wakeToken)
        } catch {
            Glibc.close(epollFD)
            Glibc.close(timerFD)
            throw error
        }
        handle.adopt(owner: pthread_self())
    }

    deinit {
        Glibc.close(timerFD)
        Glibc.close(epollFD)
    }

    /// True on the thread that owns the loop.
    public var inLoopThread: Bool { handle.inLoopThread }

    // MARK: - Descriptors

    /// Watches `fd` for `events` (errors and hang-ups always, level-triggered). The caller
    /// keeps owning `fd` and deregisters before closing it.
    public func register(_ fd: Int32, events: IOEvents, handler: @escaping Handler) throws(SystemCallError) -> Registration {
        let index = freeSlots.popLast() ?? slots.count
        if index == slots.count { slots.append(Slot()) }
        let generation = slots[index].generation &+ 1 == 0 ? 1 : slots[index].generation &+ 1
        let token = UInt64(generation) << 32 | UInt64(index)
        do {
            try add(fd, events: events.rawValue, token: token)
        } catch {
            freeSlots.append(index)
            throw error
        }
        slots[index] = Slot(generation: generation, fd: fd, handler: handler)
        return Registration(token: token)
    }

    /// The slot `token` names, while its registration lasts.
    private func slot(_ token: UInt64) -> Int? {
        let index = Int(truncatingIfNeeded: token & 0xFFFF_FFFF)
        guard index < slots.count, slots[index].handler != nil, UInt64(slots[index].generation) == token >> 32 else {
            return nil
        }
        return index
    }

    /// Changes what a registered descriptor is watched for.
    public func modify(_ registration: Registration, events: IOEvents) {
        guard let index = slot(registration.token) else { return }
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = registration.token
        // Fails only for a descriptor closed behind the loop's back: a bug, but not one
        // worth taking the daemon down for; its handler sees EPOLLHUP/ERR or nothing.
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, slots[index].fd, &event)
    }

    /// Stops watching; a pending event for it in the current batch is not delivered.
    public func deregister(_ registration: Registration) {
        guard let index = slot(registration.token) else { return }
        _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, slots[index].fd, nil)
        slots[index].handler = nil
        slots[index].fd = -1
        freeSlots.append(index)
    }

    private func add(_ fd: Int32, events: UInt32, token: UInt64) throws(SystemCallError) {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        guard epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &event) == 0 else {
            throw SystemCallError("epoll_ctl(ADD)", errno: errno)
        }
    }

    // MARK: - Deadlines

    /// Runs `body` on the loop after `delay` (monotonic clock).
    @discardableResult
    public func schedule(in delay: Duration, _ body: @escaping () -> Void) -> Timer {
        let (deadline, overflow) = MonotonicClock.now().addingReportingOverflow(delay.nanoseconds)
        return schedule(at: overflow ? .max : deadline, body)
    }

    /// Runs `body` on the loop at `deadline` (nanoseconds of `MonotonicClock`).
    @discardableResult
    public func schedule(at deadline: UInt64, _ body: @escaping () -> Void) -> Timer {
        let id = nextTimerID
        nextTimerID += 1
        let entry = Scheduled(deadline: deadline, id: id, body: body)
        // After every entry due no later: equal deadlines fire in scheduling order.
        var low = 0
        var high = timers.count
        while low < high {
            let mid = (low + high) / 2
            if timers[mid].deadline <= deadline { low = mid + 1 } else { high = mid }
        }
        timers.insert(entry, at: low)
        rearm()
        return Timer(id: id)
    }

    /// Forgets a deadline; nothing happens if it fired already.
    public func cancel(_ timer: Timer) {
        guard let index = timers.firstIndex(where: { $0.id == timer.id }) else { return }
        timers.remove(at: index)
        rearm()
    }

    private func rearm() {
        let next = timers.first?.deadline ?? 0
        guard next != armedDeadline else { return }
        armedDeadline = next
        var spec = itimerspec()
        // 0 disarms; an absolute time already past fires at once.
        let at = next == 0 ? 0 : max(next, 1)
        spec.it_value.tv_sec = Int(at / 1_000_000_000)
        spec.it_value.tv_nsec = Int(at % 1_000_000_000)
        _ = timerfd_settime(timerFD, Int32(TFD_TIMER_ABSTIME), &spec, nil)
    }

    private func fireDueTimers() {
        var expirations: UInt64 = 0
        _ = read(timerFD, &expirations, MemoryLayout<UInt64>.size)
        armedDeadline = 0
        let now = MonotonicClock.now()
        // Bodies may schedule and cancel; take one due entry at a time.
        while let first = timers.first, first.deadline <= now {
            timers.removeFirst()
            first.body()
        }
        rearm()
    }

    // MARK: - Running

    /// Dispatches events until `stop()` (a `stop()` made while not running ends the next
    /// `run` at once). The loop can run again afterwards; `close()` ends it for good.
    public func run() {
        precondition(inLoopThread, "EpollLoop.run on a thread that does not own the loop")
        defer { stopRequested = false }
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while !stopRequested {
            let n = epoll_wait(epollFD, &events, Int32(events.count), -1)
            if n < 0 {
                if errno == EINTR { continue }
                preconditionFailure("epoll_wait: \(SystemCallError.message(errno))")
            }
            for i in 0..<Int(n) {
                let token = events[i].data.u64
                switch token {
                case Self.timerToken: fireDueTimers()
                case Self.wakeToken: runPostedJobs()
                default:
                    if let index = slot(token), let handler = slots[index].handler {
                        handler(IOEvents(rawValue: events[i].events))
                    }
                }
            }
        }
    }

    /// Ends the loop for good: runs the jobs still posted, so nobody waiting on one is left
    /// hanging, refuses new ones (`LoopHandle.execute` returns false), and drops every
    /// handler and deadline still registered (they hold their owners, which hold the loop).
    public func close() {
        precondition(inLoopThread, "EpollLoop.close on a thread that does not own the loop")
        for job in handle.close() { job(self) }
        // Slots keep their generations: a registration from before cannot name a later one.
        for index in slots.indices where slots[index].handler != nil {
            _ = epoll_ctl(epollFD, EPOLL_CTL_DEL, slots[index].fd, nil)
            slots[index].handler = nil
            slots[index].fd = -1
            freeSlots.append(index)
        }
        timers.removeAll()
        rearm()
    }

    /// Makes `run` return after the current batch of events.
    public func stop() {
        stopRequested = true
    }

    private func runPostedJobs() {
        for job in handle.takeJobs() { job(self) }
    }
}

/// What a descriptor is watched for, and what fired (epoll's bits).
public struct IOEvents: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    public static let readable = IOEvents(rawValue: EPOLLIN.rawValue)
    public static let writable = IOEvents(rawValue: EPOLLOUT.rawValue)
    /// The peer shut down its writing side (a FIN).
    public static let readHangUp = IOEvents(rawValue: EPOLLRDHUP.rawValue)
    /// Always reported, never asked for.
    public static let error = IOEvents(rawValue: EPOLLERR.rawValue)
    /// Always reported, never asked for.
    public static let hangUp = IOEvents(rawValue: EPOLLHUP.rawValue)
}

/// CLOCK_MONOTONIC in nanoseconds: the loop's deadlines and the sender's clock.
public enum MonotonicClock {
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }
}

extension Duration {
    /// Whole nanoseconds: 0 for negative durations, `UInt64.max` for the unrepresentable.
    public var nanoseconds: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : total
    }
}
