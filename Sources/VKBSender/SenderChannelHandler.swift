import NIOCore

/// Watches the read side of the connection all the time: a FIN (read of 0 bytes) or
/// an RST is noticed at once, not at the next write (DESIGN §3). Bytes the server
/// sends are drained and counted.
final class SenderChannelHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: SenderCore
    private var failure: String?

    init(core: SenderCore) {
        self.core = core
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        core.received(bytes: unwrapInboundIn(data).readableBytes)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            core.connectionLost(context.channel, reason: "the server closed the connection")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let reason = SenderCore.describe(error)
        failure = reason
        core.connectionLost(context.channel, reason: reason)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.connectionLost(context.channel, reason: failure ?? "the connection closed")
        context.fireChannelInactive()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        core.writabilityChanged(context.channel)
        context.fireChannelWritabilityChanged()
    }
}
