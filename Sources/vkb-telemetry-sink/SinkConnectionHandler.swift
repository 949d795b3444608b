import Glibc
import NIOCore
import VKBWire

/// One accepted connection: decodes packets, reports them, and applies the fault modes.
final class SinkConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let id: Int
    private let faults: ConnectionFaults
    private let log: EventLog
    private var decoder: PacketStreamDecoder
    private var packets = 0
    /// Set when the sink itself ends the connection; `nil` means the peer did (EOF).
    private var closeReason: String?
    private var malformedReports = 0

    /// Malformed records written per connection, and raw bytes shown per record: a peer
    /// sending garbage must not make the sink write without bound (100 KB of header bytes
    /// would otherwise become 10 MB of output).
    static let malformedReportLimit = 100
    static let rawBytesShown = 64

    init(id: Int, faults: ConnectionFaults, decoder: PacketStreamDecoder, log: EventLog) {
        self.id = id
        self.faults = faults
        self.decoder = decoder
        self.log = log
    }

    func channelActive(context: ChannelHandlerContext) {
        let peer = context.channel.remoteAddress.flatMap(ListenAddress.init).map(\.description) ?? "unknown"
        log.emit(.connect(conn: id, peer: peer))
        if faults.chatter { chatter(context: context) }
        checkLimits(context: context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard closeReason == nil else { return }
        var buffer = unwrapInboundIn(data)
        let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
        for item in decoder.feed(bytes) {
            // Past a --close-after/--reset-after limit nothing more is reported.
            guard closeReason == nil else { return }
            switch item {
            case .packet(let packet, let raw):
                packets += 1
                log.emit(.packet(conn: id, state: packet.state, raw: raw))
                if faults.chatter { chatter(context: context) }
                checkLimits(context: context)
            case .malformed(let raw, let reason):
                reportMalformed(raw: raw, reason: reason)
            }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SinkStopping {
            close(context: context, reason: "sink-stopping")
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if closeReason == nil {
            if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
                closeReason = "reset"
            } else {
                closeReason = "error: \(error)"
            }
        }
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if closeReason == nil, case .malformed(let raw, let reason)? = decoder.finish() {
            reportMalformed(raw: raw, reason: reason)
        }
        log.emit(.disconnect(conn: id, reason: closeReason ?? "eof", packets: packets))
        context.fireChannelInactive()
    }

    private func reportMalformed(raw: [UInt8], reason: String) {
        malformedReports += 1
        guard malformedReports <= Self.malformedReportLimit else { return }
        var reason = reason
        if raw.count > Self.rawBytesShown {
            reason += " (the first \(Self.rawBytesShown) of \(raw.count) bytes shown)"
        }
        if malformedReports == Self.malformedReportLimit {
            reason += "; \(Self.malformedReportLimit) malformed records on this connection: no more are written for it"
        }
        log.emit(.malformed(conn: id, raw: Array(raw.prefix(Self.rawBytesShown)), reason: reason))
    }

    private func checkLimits(context: ChannelHandlerContext) {
        if let limit = faults.closeAfter, packets >= limit {
            close(context: context, reason: "closed-by-sink")
        } else if let limit = faults.resetAfter, packets >= limit {
            reset(context: context)
        }
    }

    private func close(context: ChannelHandlerContext, reason: String) {
        guard closeReason == nil else { return }
        closeReason = reason
        context.close(promise: nil)
    }

    /// `SO_LINGER` {on, 0 s} makes `close(2)` send RST instead of FIN.
    private func reset(context: ChannelHandlerContext) {
        guard closeReason == nil else { return }
        closeReason = "reset-by-sink"
        if let options = context.channel as? SocketOptionProvider {
            // In the event loop this runs at once, before the close below.
            let id = self.id
            options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenFailure { error in
                try? OutputFile.standardError.write("vkb-telemetry-sink: conn \(id): SO_LINGER failed: \(error)\n")
            }
        }
        context.close(promise: nil)
    }

    private func chatter(context: ChannelHandlerContext) {
        let buffer = context.channel.allocator.buffer(bytes: ConnectionFaults.chatterBytes)
        context.writeAndFlush(wrapOutboundOut(buffer), promise: nil)
    }
}
