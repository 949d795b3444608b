import Glibc
import Testing
import VKBTestSupport

@testable import VKBSocket

/// A loopback connect to a port nobody listens on can reach itself (TCP simultaneous
/// open); VKB-Link's port is in the ephemeral range, so the sender must see it.
@Suite struct SelfConnectTests {
    /// Waits (bounded) for a non-blocking connect to finish; its `SO_ERROR`.
    static func finishConnect(_ socket: TCPSocket, to address: TCPAddress) throws -> Int32 {
        if case .failed(let code) = socket.connect(to: address) { return code }
        var p = pollfd(fd: socket.fd, events: Int16(POLLOUT), revents: 0)
        try #require(poll(&p, 1, 5_000) == 1, "connect did not finish")
        return socket.pendingError()
    }

    @Test func aConnectionToItsOwnPortIsRecognised() throws {
        let port = LoopbackPort.free()
        let address = try #require(TCPAddress(numeric: "127.0.0.1", port: port))
        // Binding the source port to the destination forces the simultaneous open that
        // an unbound retry hits by chance.
        let socket = try TCPSocket(family: AF_INET)
        try #require(address.withSockAddr { bind(socket.fd, $0, $1) } == 0)
        #expect(try Self.finishConnect(socket, to: address) == 0)
        #expect(socket.localAddress == socket.remoteAddress)
        #expect(socket.isSelfConnected)
    }

    @Test func anOrdinaryConnectionIsNot() throws {
        let listener = try TCPSocket(family: AF_INET)
        let any = try #require(TCPAddress(numeric: "127.0.0.1", port: 0))
        try #require(any.withSockAddr { bind(listener.fd, $0, $1) } == 0 && listen(listener.fd, 1) == 0)
        let address = try #require(listener.localAddress)
        let socket = try TCPSocket(family: AF_INET)
        #expect(try Self.finishConnect(socket, to: address) == 0)
        #expect(socket.remoteAddress == address)
        #expect(!socket.isSelfConnected)
    }
}
