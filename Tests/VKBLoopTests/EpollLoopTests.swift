import Glibc
import NIOConcurrencyHelpers
import Testing
import VKBCore

@testable import VKBLoop

/// The loop on the test's own thread: descriptors, deadlines, posted jobs, stopping.
@Suite struct EpollLoopTests {
    /// A socket pair; both ends closed by the caller.
    static func pair() -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        precondition(socketpair(AF_UNIX, type, 0, &fds) == 0)
        return (fds[0], fds[1])
    }

    @Test func timersFireInDeadlineOrderAndCancelledOnesNever() throws {
        let loop = try EpollLoop()
        var fired: [String] = []
        loop.schedule(in: .milliseconds(30)) { fired.append("c") }
        let cancelled = loop.schedule(in: .milliseconds(10)) { fired.append("x") }
        loop.schedule(in: .milliseconds(20)) { fired.append("b") }
        loop.schedule(in: .milliseconds(5)) { fired.append("a") }
        // Same deadline: scheduling order.
        loop.schedule(in: .milliseconds(40)) { fired.append("d1") }
        loop.schedule(in: .milliseconds(40)) {
            fired.append("d2")
            loop.stop()
        }
        loop.cancel(cancelled)
        let start = ContinuousClock.now
        loop.run()
        #expect(fired == ["a", "b", "c", "d1", "d2"])
        #expect(ContinuousClock.now - start >= .milliseconds(40))
    }

    @Test func aTimerScheduledFromATimerAndAnExpiredOneStillFire() throws {
        let loop = try EpollLoop()
        var count = 0
        func again() {
            count += 1
            if count < 5 { loop.schedule(in: .zero, again) } else { loop.stop() }
        }
        loop.schedule(at: 1, again)  // long past
        loop.run()
        #expect(count == 5)
    }

    @Test func readableDescriptorsReachTheirHandlerUntilDeregistered() throws {
        let loop = try EpollLoop()
        let (a, b) = Self.pair()
        defer { close(a); close(b) }
        var received: [UInt8] = []
        var registration: EpollLoop.Registration?
        registration = try loop.register(a, events: .readable) { _ in
            var byte: UInt8 = 0
            while read(a, &byte, 1) == 1 { received.append(byte) }
            if received.count >= 3 {
                loop.deregister(registration!)
                loop.schedule(in: .milliseconds(20)) { loop.stop() }
            }
        }
        var bytes: [UInt8] = [1, 2, 3]
        _ = write(b, &bytes, 3)
        loop.run()
        // Written after deregistering: never delivered.
        _ = write(b, &bytes, 1)
        #expect(received == [1, 2, 3])
    }

    /// A registration's slot is reused by the next one: the old registration must not
    /// reach (or remove) the new descriptor's handler.
    @Test func aStaleRegistrationTouchesNothingAfterItsSlotIsReused() throws {
        let loop = try EpollLoop()
        let (a, b) = Self.pair()
        let (c, d) = Self.pair()
        defer { for fd in [a, b, c, d] { close(fd) } }
        let first = try loop.register(a, events: .readable) { _ in Issue.record("the first handler ran after deregister") }
        loop.deregister(first)
        var got: [UInt8] = []
        _ = try loop.register(c, events: .readable) { _ in
            var byte: UInt8 = 0
            if read(c, &byte, 1) == 1 { got.append(byte) }
            if got.count == 2 { loop.stop() }
        }
        // Both calls name the freed slot with the old generation: no-ops.
        loop.deregister(first)
        loop.modify(first, events: [])
        var one: UInt8 = 1
        var two: UInt8 = 2
        _ = write(b, &one, 1)
        _ = write(d, &one, 1)
        _ = write(d, &two, 1)
        loop.schedule(in: .seconds(5)) { loop.stop() }
        loop.run()
        loop.close()  // its handlers hold the loop
        #expect(got == [1, 2])
    }

    @Test func writableInterestCanBeAddedAndRemoved() throws {
        let loop = try EpollLoop()
        let (a, b) = Self.pair()
        defer { close(a); close(b) }
        var writable = 0
        var registration: EpollLoop.Registration?
        registration = try loop.register(a, events: .readable) { events in
            if events.contains(.writable) {
                writable += 1
                loop.modify(registration!, events: .readable)
            }
        }
        loop.modify(registration!, events: [.readable, .writable])
        loop.schedule(in: .milliseconds(30)) { loop.stop() }
        loop.run()
        loop.close()  // the handler holds the loop
        // Level-triggered, yet reported once: the interest was dropped at the first report.
        #expect(writable == 1)
    }

    @Test func jobsFromOtherThreadsRunInOrderOnTheLoopThread() throws {
        let thread = try LoopThread()
        let seen = NIOLockedValueBox<[Int]>([])
        let onLoop = NIOLockedValueBox(true)
        let done = ConditionLock(value: 0)
        for i in 0..<1000 {
            thread.handle.execute { loop in
                if !loop.inLoopThread { onLoop.withLockedValue { $0 = false } }
                seen.withLockedValue { $0.append(i) }
                if i == 999 {
                    done.lock()
                    done.unlock(withValue: 1)
                }
            }
        }
        done.lock(whenValue: 1)
        done.unlock()
        thread.stop()
        #expect(seen.withLockedValue { $0 } == Array(0..<1000))
        #expect(onLoop.withLockedValue { $0 })
        #expect(!thread.handle.inLoopThread)
    }

    @Test func jobsPostedBeforeStopStillRunAndLaterOnesAreRefused() throws {
        let thread = try LoopThread()
        let ran = NIOLockedValueBox(0)
        thread.handle.execute { loop in
            loop.stop()
            // Posted while the loop stops: still runs, on the way out.
            loop.handle.execute { _ in ran.withLockedValue { $0 += 1 } }
        }
        thread.stop()
        #expect(ran.withLockedValue { $0 } == 1)
        #expect(!thread.handle.execute { _ in ran.withLockedValue { $0 += 1 } })
        #expect(ran.withLockedValue { $0 } == 1)
    }

    @Test func aLoopRunsAgainAfterAStopAndAStopBeforeRunEndsItAtOnce() throws {
        let loop = try EpollLoop()
        var fired = 0
        loop.schedule(in: .milliseconds(1)) {
            fired += 1
            loop.stop()
        }
        loop.run()
        loop.schedule(in: .milliseconds(1)) {
            fired += 1
            loop.stop()
        }
        loop.run()
        #expect(fired == 2)
        loop.stop()
        loop.run()  // returns at once: nothing else is pending
        loop.close()
        #expect(!loop.handle.execute { _ in })
    }

    @Test func durationsInNanosecondsSaturate() {
        #expect(Duration.milliseconds(3).nanoseconds == 3_000_000)
        #expect(Duration.seconds(-1).nanoseconds == 0)
        #expect(Duration.seconds(Int64.max).nanoseconds == .max)
    }
}
