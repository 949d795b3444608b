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
    /// A loopback listener on a free port; closed by the caller.
    static func listener() throws -> (fd: Int32, port: Int) {
        let port = LoopbackPort.free()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7F00_0001).bigEndian)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        return (fd, port)
    }

    @Test func aStateSentReachesTheServerAndIsAcknowledged() async throws {
        let (listener, port) = try Self.listener()
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
