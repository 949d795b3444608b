import Glibc
import Testing
import VKBTestSupport
import VKBCore

@testable import VKBSender

/// What the sender knows about delivery, against a loopback server read by the test:
/// acknowledgements from `SIOCOUTQ`, and the refresh that re-sends the current state.
@Suite struct SenderDeliveryTests {
    typealias Server = SenderOrderingTests.Server

    @Test func aStateTheServersKernelTookIsDeliveredAndCounted() async throws {
        let server = try Server()
        let sender = try LoopSender(configuration: .init(port: server.port))
        sender.start()
        try server.accept()
        #expect(try server.readStates(until: .clear) == [.clear])  // the resync
        let state = ShiftState(shift: 2, subshift: 5)
        sender.submit(state)
        // The kernel acknowledges what it received, read or not.
        try await sender.waitUntilDelivered()
        let statistics = await sender.statistics()
        #expect(statistics.acknowledgedState == state)
        #expect(statistics.packetsWritten == 2)  // the resync (.clear), then the state
        #expect(statistics.packetsAcknowledged == 2)
        #expect(try server.readStates(until: state) == [state])
        await sender.stop()
    }

    @Test func aWaitForDeliveryEndsWhenTheSenderStops() async throws {
        // Nobody listens: nothing is ever delivered.
        let port = LoopbackPort.free()
        let sender = try LoopSender(configuration: .init(port: port))
        sender.start()
        sender.submit(ShiftState(shift: 1))
        let waiting = Task { try await sender.waitUntilDelivered() }
        await sender.stop()
        await #expect(throws: Sender.Stopped.self) { try await waiting.value }
    }

    @Test func refreshResendsTheCurrentStateEveryInterval() async throws {
        let server = try Server()
        let sender = try LoopSender(configuration: .init(port: server.port, refreshIntervalMilliseconds: 30))
        let state = ShiftState(subshift: 9)
        sender.submit(state)
        sender.start()
        try server.accept()
        var received: [ShiftState] = []
        while received.count < 4 {
            received += try server.readStates(until: state, timeoutMilliseconds: 2_000)
        }
        // The state on connect, then the same state again, interval after interval.
        #expect(received.allSatisfy { $0 == state })
        await sender.stop()
    }

    @Test func withoutRefreshNothingFollowsTheResync() async throws {
        let server = try Server()
        let sender = try LoopSender(configuration: .init(port: server.port))
        sender.start()
        try server.accept()
        #expect(try server.readStates(until: .clear) == [.clear])
        // A window in which a refresh (or any stray write) would arrive; nothing may.
        var p = pollfd(fd: server.connection, events: Int16(POLLIN), revents: 0)
        #expect(poll(&p, 1, 300) == 0)
        await sender.stop()
    }
}
