import NIOCore

/// Numbers accepted connections from 1 and keeps the open ones, so that stopping the
/// sink closes them (their clients see EOF) before the listener goes.
/// Lives on the sink's single event loop.
final class ConnectionTable {
    private var nextID = 1
    private var open: [Int: Channel] = [:]
    private var stopping = false

    /// Gives `channel` the next connection number and keeps it until it closes.
    func register(_ channel: Channel) -> Int {
        let id = nextID
        nextID += 1
        open[id] = channel
        let table = NIOLoopBound(self, eventLoop: channel.eventLoop)
        channel.closeFuture.whenComplete { _ in table.value.open[id] = nil }
        return id
    }

    /// Whether the sink is stopping; connections accepted now are closed unregistered.
    var isStopping: Bool { stopping }

    /// Tells every open connection to close; completes when all are closed.
    func stopAll(on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        stopping = true
        let closing = open.values.map { channel in
            channel.pipeline.fireUserInboundEventTriggered(SinkStopping())
            return channel.closeFuture
        }
        return EventLoopFuture.andAllComplete(closing, on: eventLoop)
    }
}
