import Testing
import VKBCore

@testable import VKBSender

/// Every transition of the sender's connection lifecycle, without a socket: inputs in,
/// actions out, time given by the test.
@Suite struct SenderStateMachineTests {
    typealias M = SenderStateMachine
    static let second: UInt64 = 1_000_000_000

    /// Delays at the top of their jitter range, so they are exact: 50, 100, 200… ms.
    static func machine(reminderSeconds: Int = 30) -> M {
        M(endpoint: "127.0.0.1:50995",
          backoff: Backoff(policy: .init(), random: { $0.upperBound }),
          outageReminderSeconds: reminderSeconds)
    }

    /// A started machine whose first attempt succeeded.
    static func connected() -> M {
        var m = machine()
        _ = m.handle(.start, now: 0)
        _ = m.handle(.connectSucceeded(attempt: 1, peer: "127.0.0.1:50995"), now: 1)
        return m
    }

    @Test func startConnectsAndSaysSo() {
        var m = Self.machine()
        #expect(m.handle(.start, now: 0) == [.publish(.connectionState(.connecting(endpoint: "127.0.0.1:50995"))), .connect(attempt: 1)])
        #expect(m.state == .connecting(attempt: 1))
        #expect(m.handle(.start, now: 1).isEmpty, "a second start does nothing")
    }

    @Test func aSuccessfulConnectAdoptsTheConnection() {
        var m = Self.machine()
        _ = m.handle(.start, now: 0)
        #expect(m.handle(.connectSucceeded(attempt: 1, peer: "[::1]:50995"), now: 1)
            == [.publish(.connectionState(.connected(peer: "[::1]:50995"))), .adopt])
        #expect(m.state == .connected)
    }

    @Test(arguments: ["connection refused", "connect timed out", "cannot resolve vkb-link.lan"])
    func aFailedAttemptStartsAnOutageAndRetriesWithBackoff(reason: String) {
        var m = Self.machine()
        _ = m.handle(.start, now: 0)
        #expect(m.handle(.connectFailed(attempt: 1, reason: reason), now: 0) == [
            .publish(.outageBegan(reason: reason)),
            .publish(.connectionState(.reconnecting(reason: reason))),
            .publish(.attemptFailed(attempt: 1, reason: reason, retryInMilliseconds: 50)),
            .scheduleRetry(milliseconds: 50),
        ])
        #expect(m.handle(.retryTimerFired, now: Self.second / 20) == [.connect(attempt: 2)])
        // The same failure again: no new outage, no repeated state, a longer delay.
        #expect(m.handle(.connectFailed(attempt: 2, reason: reason), now: Self.second / 10) == [
            .publish(.attemptFailed(attempt: 2, reason: reason, retryInMilliseconds: 100)),
            .scheduleRetry(milliseconds: 100),
        ])
        _ = m.handle(.retryTimerFired, now: Self.second / 5)
        // Reachable again: the outage's end with its length and failed attempts.
        #expect(m.handle(.connectSucceeded(attempt: 3, peer: "p"), now: 2 * Self.second) == [
            .publish(.connectionState(.connected(peer: "p"))),
            .publish(.outageEnded(seconds: 2, attempts: 2)),
            .adopt,
        ])
    }

    @Test func aLongOutageIsRemindedAtMostEveryReminderInterval() {
        var m = Self.machine(reminderSeconds: 10)
        _ = m.handle(.start, now: 0)
        var reminders: [M.Action] = []
        var attempt = 1
        // A failed attempt every second for 25 s.
        for t in 0...25 {
            let actions = m.handle(.connectFailed(attempt: attempt, reason: "refused"), now: UInt64(t) * Self.second)
            reminders += actions.filter { if case .publish(.outageContinues) = $0 { true } else { false } }
            _ = m.handle(.retryTimerFired, now: UInt64(t) * Self.second + 1)
            attempt += 1
        }
        #expect(reminders == [
            .publish(.outageContinues(seconds: 10, attempts: 11, reason: "refused")),
            .publish(.outageContinues(seconds: 20, attempts: 21, reason: "refused")),
        ])
    }

    @Test(arguments: ["the server closed the connection", "connection reset by peer"])
    func aLostConnectionIsDroppedAndRetriedWithinTheRestartWindow(reason: String) {
        var m = Self.connected()
        #expect(m.handle(.connectionLost(reason: reason), now: Self.second) == [
            .dropConnection,
            .publish(.connectionState(.disconnected(reason: reason))),
            .publish(.outageBegan(reason: reason)),
            .scheduleRetry(milliseconds: 50),
        ])
        _ = m.handle(.retryTimerFired, now: Self.second + 1)
        // Failures right after a loss are capped at 70 ms (the server is likely restarting)…
        var delays: [Int] = []
        for i in 0..<6 {
            for case .scheduleRetry(let ms) in m.handle(.connectFailed(attempt: 2 + i, reason: "refused"), now: Self.second + UInt64(i + 1) * 1_000_000) {
                delays.append(ms)
            }
            _ = m.handle(.retryTimerFired, now: Self.second + UInt64(i + 1) * 1_000_000 + 1)
        }
        #expect(delays == [70, 70, 70, 70, 70, 70])
        // …and grow to the usual 1 s once the window has passed.
        for case .scheduleRetry(let ms) in m.handle(.connectFailed(attempt: 8, reason: "refused"), now: 20 * Self.second) {
            #expect(ms == 1000)
        }
    }

    @Test func aLossWithoutAConnectionIsIgnored() {
        var m = Self.machine()
        _ = m.handle(.start, now: 0)
        #expect(m.handle(.connectionLost(reason: "x"), now: 1).isEmpty)
        #expect(m.state == .connecting(attempt: 1))
    }

    @Test func anEndpointChangeReconnectsAtOnceAndIgnoresTheOldAttempt() {
        var m = Self.connected()
        m.setEndpoint("10.0.0.2:50995")
        #expect(m.handle(.endpointChanged, now: 2) == [
            .cancelRetry,
            .dropConnection,
            .publish(.connectionState(.disconnected(reason: "the server endpoint changed"))),
            .publish(.connectionState(.connecting(endpoint: "10.0.0.2:50995"))),
            .connect(attempt: 2),
        ])
        // Mid-attempt change: attempt 2's late result is stale.
        m.setEndpoint("10.0.0.3:50995")
        #expect(m.handle(.endpointChanged, now: 3) == [
            .cancelRetry,
            .publish(.connectionState(.connecting(endpoint: "10.0.0.3:50995"))),
            .connect(attempt: 3),
        ])
        #expect(m.handle(.connectSucceeded(attempt: 2, peer: "10.0.0.2:50995"), now: 4) == [.discardNewConnection])
        #expect(m.handle(.connectFailed(attempt: 2, reason: "refused"), now: 4).isEmpty)
        #expect(m.handle(.connectSucceeded(attempt: 3, peer: "10.0.0.3:50995"), now: 5).contains(.adopt))
    }

    @Test func anEndpointChangeBeforeStartOrAfterStopDoesNothing() {
        var idle = Self.machine()
        #expect(idle.handle(.endpointChanged, now: 0).isEmpty)
        var stopped = Self.connected()
        _ = stopped.handle(.stop, now: 2)
        #expect(stopped.handle(.endpointChanged, now: 3).isEmpty)
    }

    @Test func aNewPolicyAppliesToTheNextDelay() {
        var m = Self.machine()
        _ = m.handle(.start, now: 0)
        _ = m.handle(.reconfigured(.init(initialMilliseconds: 500, maxMilliseconds: 4000), outageReminderSeconds: 30), now: 0)
        #expect(m.handle(.connectFailed(attempt: 1, reason: "refused"), now: 0).contains(.scheduleRetry(milliseconds: 500)))
    }

    @Test(arguments: [true, false])
    func stopEndsEverythingAndLateResultsAreDiscarded(whileConnected: Bool) {
        var m = whileConnected ? Self.connected() : Self.machine()
        if !whileConnected { _ = m.handle(.start, now: 0) }
        #expect(m.handle(.stop, now: 2) == [.cancelRetry])
        #expect(m.state == .stopped)
        #expect(m.handle(.stop, now: 3).isEmpty)
        #expect(m.handle(.retryTimerFired, now: 4).isEmpty)
        #expect(m.handle(.connectFailed(attempt: 1, reason: "refused"), now: 4).isEmpty)
        #expect(m.handle(.connectSucceeded(attempt: 1, peer: "p"), now: 4) == [.discardNewConnection])
        #expect(m.handle(.connectionLost(reason: "closed"), now: 4).isEmpty, "the owner closes it; no retry")
        #expect(m.handle(.finishedStopping, now: 5) == [.publish(.connectionState(.stopped))])
    }

    @Test func headerOrCommandChangesNeedNoReconnectButTheEndpointDoes() {
        let base = SenderConfiguration(port: 50995)
        var header = base
        header.header = 0xA6
        header.command = 0x05
        #expect(!header.needsReconnect(comparedTo: base))
        var port = base
        port.port = 50996
        #expect(port.needsReconnect(comparedTo: base))
        var timeout = base
        timeout.userTimeoutMilliseconds += 1
        #expect(timeout.needsReconnect(comparedTo: base))
    }
}
