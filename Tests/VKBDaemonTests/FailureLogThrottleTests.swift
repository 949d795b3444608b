import Testing

@testable import VKBDaemon

@Suite struct FailureLogThrottleTests {
    let start = ContinuousClock.now

    @Test func hoursOfTheSameFailureGiveOneLinePerReminder() {
        var throttle = FailureLogThrottle(reminderInterval: .seconds(600))
        var logged: [Int] = []
        // One attempt per second for an hour.
        for second in 0..<3600 {
            if case .log(let attempts) = throttle.failure("connection refused", at: start + .seconds(second)) {
                logged.append(attempts)
            }
        }
        #expect(logged == [1, 601, 1201, 1801, 2401, 3001])
        #expect(throttle.success() == 3600)
    }

    @Test func aNewReasonIsLoggedAtOnce() {
        var throttle = FailureLogThrottle()
        #expect(throttle.failure("connection refused", at: start) == .log(attempts: 1))
        #expect(throttle.failure("connection refused", at: start + .seconds(1)) == .suppress)
        #expect(throttle.failure("no route to host", at: start + .seconds(2)) == .log(attempts: 3))
        #expect(throttle.failure("no route to host", at: start + .seconds(3)) == .suppress)
    }

    @Test func successResetsTheCount() {
        var throttle = FailureLogThrottle()
        #expect(throttle.success() == nil)
        _ = throttle.failure("connection refused", at: start)
        _ = throttle.failure("connection refused", at: start + .seconds(1))
        #expect(throttle.success() == 2)
        #expect(throttle.failures == 0)
        #expect(throttle.failure("connection refused", at: start + .seconds(2)) == .log(attempts: 1))
    }
}
