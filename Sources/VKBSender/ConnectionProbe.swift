import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import VKBCore
import VKBWire

/// Checks that a VKB-Link server is reachable: resolves, connects with the sender's
/// socket options, and watches the connection for a while. Sends nothing unless asked,
/// because any packet changes the device's shift state.
public enum ConnectionProbe {
    public struct Report: Sendable {
        /// The address the host resolved to and was connected to.
        public var peer: String?
        public var connectMilliseconds: Double?
        /// Why the connection could not be made.
        public var failure: String?
        /// Seconds after connect at which the server closed or reset the connection.
        public var closedAfterSeconds: Double?
        public var closeReason: String?
        public var bytesReceived = 0
        /// With a state sent: how long until the server's kernel acknowledged it.
        public var acknowledgedMilliseconds: Double?
    }

    /// Connects to `configuration`'s endpoint and watches it for `holdSeconds`.
    public static func run(
        _ configuration: SenderConfiguration, holdSeconds: Double, send state: ShiftState?,
        eventLoop: EventLoop = MultiThreadedEventLoopGroup.singleton.next()
    ) async -> Report {
        var report = Report()
        let watcher = ProbeHandler.Shared()
        let start = NIODeadline.now()
        let channel: Channel
        do {
            channel = try await ClientBootstrap(group: eventLoop)
                .resolver(ThreadResolver(on: eventLoop))
                .connectTimeout(.milliseconds(Int64(configuration.connectTimeoutMilliseconds)))
                .channelOption(.tcpOption(.tcp_nodelay), value: 1)
                .channelOption(.allowRemoteHalfClosure, value: true)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ProbeHandler(shared: watcher))
                    }
                }
                .connect(host: configuration.host, port: configuration.port).get()
        } catch {
            report.failure = SenderCore.describe(error)
            return report
        }
        if SenderCore.isSelfConnected(channel) {
            try? await channel.close()
            report.failure = SenderCore.selfConnectReason
            return report
        }
        let connected = NIODeadline.now()
        report.connectMilliseconds = Double((connected - start).nanoseconds) / 1e6
        report.peer = channel.remoteAddress.map(SenderCore.describe)

        if let state {
            // Taken before writing, so only our packet's bytes count, whatever the
            // kernel counted for the handshake.
            let baseline = (try? await TCPAcknowledgement.bytesAcknowledged(on: channel).get()).flatMap { $0 } ?? 0
            var buffer = channel.allocator.buffer(capacity: VKBShiftBitmapPacket.size)
            buffer.writeBytes(VKBShiftBitmapPacket(state: state, header: configuration.header, command: configuration.command).bytes)
            let sent = NIODeadline.now()
            try? await channel.writeAndFlush(buffer)
            for _ in 0..<500 {
                if let acked = (try? await TCPAcknowledgement.bytesAcknowledged(on: channel).get()).flatMap({ $0 }),
                    acked &- baseline >= UInt64(VKBShiftBitmapPacket.size)
                {
                    report.acknowledgedMilliseconds = Double((NIODeadline.now() - sent).nanoseconds) / 1e6
                    break
                }
                try? await Task.sleep(for: .milliseconds(2))
            }
        }

        let deadline = connected + .nanoseconds(Int64(holdSeconds * 1e9))
        while NIODeadline.now() < deadline, watcher.closed == nil {
            try? await Task.sleep(for: .milliseconds(10))
        }
        if let (when, reason) = watcher.closed {
            report.closedAfterSeconds = Double((when - connected).nanoseconds) / 1e9
            report.closeReason = reason
        }
        report.bytesReceived = watcher.bytes
        try? await channel.close()
        return report
    }
}

/// Counts what the server sends and notes when it closes.
private final class ProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    /// Written on the event loop, read by the probe's task.
    final class Shared: Sendable {
        private struct State {
            var closed: (NIODeadline, String)?
            var bytes = 0
        }
        private let state = NIOLockedValueBox(State())
        var closed: (NIODeadline, String)? { state.withLockedValue { $0.closed } }
        var bytes: Int { state.withLockedValue { $0.bytes } }
        func received(_ n: Int) { state.withLockedValue { $0.bytes += n } }
        func close(_ reason: String) { state.withLockedValue { if $0.closed == nil { $0.closed = (.now(), reason) } } }
    }

    private let shared: Shared
    init(shared: Shared) { self.shared = shared }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        shared.received(unwrapInboundIn(data).readableBytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { shared.close("the server closed the connection") }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        shared.close(SenderCore.describe(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        shared.close("the connection closed")
    }
}
