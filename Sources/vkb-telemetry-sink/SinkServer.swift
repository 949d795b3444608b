import Glibc
import NIOCore
import NIOPosix
import VKBWire

/// The listening socket on one event loop; every connection runs on that same loop,
/// so connection numbers and the output lines need no locks.
final class SinkServer {
    private let group: MultiThreadedEventLoopGroup
    private let listener: Channel
    private let table: NIOLoopBound<ConnectionTable>
    /// The address actually bound (the real port when asked for port 0).
    let address: ListenAddress

    private init(group: MultiThreadedEventLoopGroup, listener: Channel, table: NIOLoopBound<ConnectionTable>, address: ListenAddress) {
        self.group = group
        self.listener = listener
        self.table = table
        self.address = address
    }

    /// Binds (with `SO_REUSEADDR`, so a restart on the same port works at once) and starts accepting.
    static func start(
        listen: ListenAddress,
        faults: ConnectionFaults,
        decoder: PacketStreamDecoder,
        log: EventLog
    ) throws(SinkError) -> SinkServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        do {
            let table = try loop.submit { NIOLoopBound(ConnectionTable(), eventLoop: loop) }.wait()
            let bootstrap = ServerBootstrap(group: loop)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .childChannelOption(ChannelOptions.tcpOption(.tcp_nodelay), value: 1)
                .childChannelOption(ChannelOptions.autoRead, value: !faults.stall)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        // Accepted while stopping: failing here makes NIO close it unregistered.
                        guard !table.value.isStopping else { throw SinkStopping() }
                        let id = table.value.register(channel)
                        let handler = SinkConnectionHandler(id: id, faults: faults, decoder: decoder, log: log)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                }
            let listener: Channel
            do {
                listener = try bootstrap.bind(host: listen.host, port: listen.port).wait()
            } catch let error as IOError {
                throw SinkError.cannotListen(listen, reason: SinkError.text(errno: error.errnoCode))
            } catch {
                throw SinkError.cannotListen(listen, reason: "\(error)")
            }
            guard let bound = listener.localAddress.flatMap(ListenAddress.init) else {
                throw SinkError.cannotListen(listen, reason: "no local address after bind")
            }
            return SinkServer(group: group, listener: listener, table: table, address: bound)
        } catch {
            try? group.syncShutdownGracefully()
            if let error = error as? SinkError { throw error }
            throw SinkError.cannotListen(listen, reason: "\(error)")
        }
    }

    /// Closes every accepted connection (each client sees EOF), then the listener,
    /// then the event loop.
    func stop() {
        let table = self.table
        let loop = listener.eventLoop
        try? loop.flatSubmit { table.value.stopAll(on: loop) }.wait()
        try? listener.close().wait()
        try? group.syncShutdownGracefully()
    }
}
