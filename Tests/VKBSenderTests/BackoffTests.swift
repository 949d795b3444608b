import Testing
@testable import VKBSender

@Suite struct BackoffTests {
    @Test func ceilingDoublesUpToTheCap() {
        var b = Backoff(policy: .init(initialMilliseconds: 50, maxMilliseconds: 1000), random: { $0.upperBound })
        let delays = (0..<8).map { _ in b.nextDelayMilliseconds() }
        #expect(delays == [50, 100, 200, 400, 800, 1000, 1000, 1000])
    }

    @Test func jitterStaysInTheUpperHalf() {
        var b = Backoff(policy: .init(), random: { $0.lowerBound })
        #expect(b.nextDelayMilliseconds() == 25)
        #expect(b.nextDelayMilliseconds() == 50)
        var real = Backoff(policy: .init())
        for _ in 0..<50 {
            let ceiling = real.ceilingMilliseconds()
            let d = real.nextDelayMilliseconds()
            #expect(d >= ceiling / 2 && d <= ceiling)
        }
    }

    @Test func resetStartsOver() {
        var b = Backoff(policy: .init(initialMilliseconds: 10, maxMilliseconds: 100), random: { $0.upperBound })
        _ = b.nextDelayMilliseconds()
        _ = b.nextDelayMilliseconds()
        b.reset()
        #expect(b.nextDelayMilliseconds() == 10)
    }

    @Test func policyKeepsMaxAtLeastInitial() {
        let p = Backoff.Policy(initialMilliseconds: 500, maxMilliseconds: 100)
        #expect(p.maxMilliseconds == 500)
    }

    @Test func defaultsAre50MillisecondsUpToOneSecond() {
        let p = Backoff.Policy()
        #expect(p.initialMilliseconds == 50 && p.maxMilliseconds == 1000)
    }

    @Test func restartWindowCapsDelaysAfterALostConnection() {
        var b = Backoff(policy: .init(), random: { $0.upperBound })
        let delays = (0..<7).map { _ in b.nextDelayMilliseconds(sinceLoss: 1_000) }
        #expect(delays == [50, 70, 70, 70, 70, 70, 70])
        // Past the window, growth resumes up to the full cap.
        #expect(b.nextDelayMilliseconds(sinceLoss: 10_000) == 1000)
        // No loss (server absent at start): the full cap.
        var fresh = Backoff(policy: .init(), random: { $0.upperBound })
        #expect((0..<6).map { _ in fresh.nextDelayMilliseconds() } == [50, 100, 200, 400, 800, 1000])
        // A window of 0 turns it off.
        var off = Backoff(policy: .init(restartWindowMilliseconds: 0), random: { $0.upperBound })
        #expect((0..<6).map { _ in off.nextDelayMilliseconds(sinceLoss: 0) }.last == 1000)
    }
}
