import Glibc
import Testing
import VKBCore
import VKBProbe
import VKBSender
import VKBTestSupport
import VKBWire

/// `vkb-bridge probe` in process: what it reports about a server that is there, and about
/// one that is not.
@Suite struct ConnectionProbeTests {
    @Test func aStateSentReachesTheServerAndIsAcknowledged() async throws {
        let (listener, port) = LoopbackPort.listener()
        defer { close(listener) }
        let state = ShiftState(shift: 2, subshift: 5)
        let report = await ConnectionProbe.run(.init(port: port), holdSeconds: 0.2, send: state)
        #expect(report.failure == nil)
        #expect(report.peer == "127.0.0.1:\(port)")
        #expect(report.connectMilliseconds != nil)
        #expect(report.acknowledgedMilliseconds != nil, "the server's kernel took the packet")
        // The packet is in the listener's backlog connection: exactly one, with the state.
        let connection = accept(listener, nil, nil)
        try #require(connection >= 0)
        defer { close(connection) }
        var bytes = [UInt8](repeating: 0, count: 64)
        let got = recv(connection, &bytes, bytes.count, Int32(MSG_DONTWAIT))
        #expect(got == 8)
        #expect(Array(bytes[0..<8]) == VKBShiftBitmapPacket(state: state).bytes)
    }

    @Test func aPortNobodyListensOnIsAFailureWithTheReason() async throws {
        let report = await ConnectionProbe.run(.init(port: LoopbackPort.free()), holdSeconds: 0.1, send: nil)
        let failure = try #require(report.failure)
        #expect(failure.contains("refused") || failure.contains("nothing is listening"), "\(failure)")
        #expect(report.peer == nil && report.acknowledgedMilliseconds == nil)
    }
}
