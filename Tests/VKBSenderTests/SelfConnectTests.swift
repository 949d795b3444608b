import NIOCore
import NIOPosix
import Testing

@testable import VKBSender

/// A loopback connect to a port nobody listens on can reach itself (TCP simultaneous
/// open); VKB-Link's port is in the ephemeral range, so the sender must see it.
@Suite struct SelfConnectTests {
    /// A free loopback port: bound once, then released.
    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        let port = channel.localAddress!.port!
        try channel.close().wait()
        return port
    }

    @Test func aConnectionToItsOwnPortIsRecognised() throws {
        let port = try Self.freePort()
        // Binding the source port to the destination forces the simultaneous open that
        // an unbound retry hits by chance.
        let channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(to: try SocketAddress(ipAddress: "127.0.0.1", port: port))
            .connect(host: "127.0.0.1", port: port).wait()
        defer { try? channel.close().wait() }
        #expect(channel.localAddress == channel.remoteAddress)
        #expect(SenderCore.isSelfConnected(channel))
    }

    @Test func anOrdinaryConnectionIsNot() throws {
        let server = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).wait()
        defer { try? server.close().wait() }
        let channel = try ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(to: server.localAddress!).wait()
        defer { try? channel.close().wait() }
        #expect(!SenderCore.isSelfConnected(channel))
    }
}
