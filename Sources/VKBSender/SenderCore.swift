import Glibc
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import VKBCore
import VKBWire

/// The owner of the sender's connection: performs what `SenderStateMachine` decides
/// (connect, adopt, drop, retry, report) with SwiftNIO, and keeps the outbound queue and
/// the acknowledgement tracking. Lives on one event loop and is touched only there;
/// `ReconnectingSender` is its thread-safe face.
final class SenderCore {
    /// One live connection and what was written on it.
    private final class Connection {
        let channel: Channel
        /// `tcpi_bytes_acked` right after connect, so the SYN never counts as data.
        var ackBaseline: UInt64?
        var bytesWritten: UInt64 = 0
        /// Written packets the server's kernel has not acknowledged yet: end offset and state.
        var unacknowledged = CircularBuffer<(end: UInt64, state: ShiftState)>()
        var acknowledgedState: ShiftState?
        var ackPoll: Scheduled<Void>?
        var ackPollDelayMilliseconds = SenderCore.firstAckPollMilliseconds
        var refresh: Scheduled<Void>?

        init(channel: Channel) {
            self.channel = channel
        }
    }

    static let firstAckPollMilliseconds: Int64 = 1
    static let sendBufferBytes = 16 * 1024
    static let maxAckPollMilliseconds: Int64 = 100

    let loop: EventLoop
    private(set) var configuration: SenderConfiguration
    private var machine: SenderStateMachine
    private let publish: (SenderEvent) -> Void
    private let handoff: NIOLockedValueBox<SenderHandoff>

    private var current = ShiftState.clear
    private var connection: Connection?
    /// The channel of a successful attempt while the machine decides what becomes of it.
    private var arriving: Channel?
    private var retry: Scheduled<Void>?
    private var queue = CircularBuffer<ShiftState>()
    private var statistics = SenderStatistics()
    private var deliveryWaiters: [EventLoopPromise<Void>] = []

    init(
        loop: EventLoop, configuration: SenderConfiguration, handoff: NIOLockedValueBox<SenderHandoff>,
        publish: @escaping (SenderEvent) -> Void
    ) {
        self.loop = loop
        self.configuration = configuration
        self.machine = SenderStateMachine(
            endpoint: configuration.endpointDescription, backoff: Backoff(policy: configuration.backoff),
            outageReminderSeconds: configuration.outageReminderSeconds)
        self.handoff = handoff
        self.publish = publish
    }

    // MARK: - Commands (all on `loop`)

    private var stopped: Bool { machine.state == .stopped }

    func start() {
        handle(.start)
    }

    /// Feeds the machine and performs its actions, in order.
    private func handle(_ input: SenderStateMachine.Input) {
        for action in machine.handle(input, now: NIODeadline.now().uptimeNanoseconds) {
            switch action {
            case .connect(let attempt): connect(attempt: attempt)
            case .adopt: adopt()
            case .discardNewConnection:
                arriving?.close(promise: nil)
                arriving = nil
            case .dropConnection: dropConnection()
            case .scheduleRetry(let milliseconds):
                retry?.cancel()
                retry = loop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(milliseconds))) { [self] in
                    retry = nil
                    handle(.retryTimerFired)
                }
            case .cancelRetry:
                retry?.cancel()
                retry = nil
            case .publish(let event):
                publish(event)
            }
        }
    }

    /// The scheduled task of `ReconnectingSender.submit`: takes in what the handoff holds.
    func drainHandoff() {
        absorb(handoff.withLockedValue { h in
            h.drainScheduled = false
            return h.take()
        })
    }

    /// Submits the states that waited in the handoff, in order.
    private func absorb(_ taken: (states: [ShiftState], overflows: Int)) {
        if taken.overflows > 0 { countOverflows(taken.overflows) }
        for state in taken.states { submit(state) }
    }

    func submit(_ state: ShiftState) {
        guard !stopped, state != current else { return }
        current = state
        statistics.currentState = state
        guard let connection else { return }  // the next connection sends `current` first
        if queue.isEmpty && connection.channel.isWritable {
            write(state, on: connection, flush: true)
        } else {
            enqueue(state)
        }
    }

    func snapshot() -> SenderStatistics {
        absorb(handoff.withLockedValue { $0.take() })
        var s = statistics
        s.queued = queue.count
        s.isConnected = connection != nil
        s.acknowledgedState = connection?.acknowledgedState
        return s
    }

    /// Succeeds once the current state's packet is acknowledged by the server's kernel
    /// on the live connection.
    func whenDelivered(_ promise: EventLoopPromise<Void>) {
        guard !stopped else {
            promise.fail(ChannelError.ioOnClosedChannel)
            return
        }
        deliveryWaiters.append(promise)
        absorb(handoff.withLockedValue { $0.take() })
        checkDelivered()
    }

    /// Forgets a waiter that gave up (its task was cancelled).
    func abandon(_ promise: EventLoopPromise<Void>) {
        deliveryWaiters.removeAll { $0.futureResult === promise.futureResult }
    }

    func update(_ new: SenderConfiguration) {
        let reconnect = new.needsReconnect(comparedTo: configuration)
        configuration = new
        machine.setEndpoint(new.endpointDescription)
        handle(.reconfigured(new.backoff, outageReminderSeconds: new.outageReminderSeconds))
        if reconnect { handle(.endpointChanged) }
    }

    /// Stops for good: optionally sends `final` first and waits (bounded) for it to
    /// leave, then closes the connection.
    func stop(sending final: ShiftState?) -> EventLoopFuture<Void> {
        guard !stopped else { return loop.makeSucceededVoidFuture() }
        handle(.stop)
        guard let final, let connection else {
            finishStopping()
            return loop.makeSucceededVoidFuture()
        }
        current = final
        write(final, on: connection, flush: true)
        let promise = loop.makePromise(of: Void.self)
        let deadline = loop.scheduleTask(in: .milliseconds(500)) { promise.succeed() }
        pollUntilAcknowledged(connection, promise: promise)
        return promise.futureResult.assumeIsolated().always { [self] _ in
            deadline.cancel()
            finishStopping()
        }.nonisolated()
    }

    private func finishStopping() {
        if let connection {
            self.connection = nil
            connection.ackPoll?.cancel()
            connection.refresh?.cancel()
            connection.channel.close(promise: nil)
        }
        statistics.isConnected = false
        handle(.finishedStopping)
        for waiter in deliveryWaiters { waiter.fail(ChannelError.ioOnClosedChannel) }
        deliveryWaiters.removeAll()
    }

    // MARK: - Connecting

    private func connect(attempt: Int) {
        statistics.connectAttempts += 1
        let config = configuration
        let bootstrap = ClientBootstrap(group: loop)
            .resolver(ThreadResolver(on: loop))
            .connectTimeout(.milliseconds(Int64(config.connectTimeoutMilliseconds)))
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelOption(Self.tcp(TCP_KEEPIDLE), value: SocketOptionValue(config.keepaliveIdleSeconds))
            .channelOption(Self.tcp(TCP_KEEPINTVL), value: SocketOptionValue(config.keepaliveIntervalSeconds))
            .channelOption(Self.tcp(TCP_KEEPCNT), value: SocketOptionValue(config.keepaliveCount))
            .channelOption(Self.tcp(TCP_USER_TIMEOUT), value: SocketOptionValue(config.userTimeoutMilliseconds))
            .channelOption(.allowRemoteHalfClosure, value: true)
            // A state protocol gains nothing from megabytes of stale packets in the kernel:
            // a small send buffer makes a slow server back up into our bounded queue,
            // where newer states replace older ones, and bounds the unacknowledged list.
            .channelOption(.socketOption(.so_sndbuf), value: SocketOptionValue(Self.sendBufferBytes))
            // Small: a stalled server should hold back states in our bounded queue,
            // not in NIO's unbounded pending-writes list.
            .channelOption(.writeBufferWaterMark, value: .init(low: 256, high: 1024))
            .channelInitializer { [loopBound = NIOLoopBound(self, eventLoop: loop)] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(SenderChannelHandler(core: loopBound.value))
                }
            }
        bootstrap.connect(host: config.host, port: config.port).hop(to: loop).assumeIsolated().whenComplete { [self] result in
            switch result {
            case .success(let channel) where Self.isSelfConnected(channel):
                channel.close(promise: nil)
                handle(.connectFailed(attempt: attempt, reason: Self.selfConnectReason))
            case .success(let channel) where channel.isActive:
                arriving = channel
                let peer = channel.remoteAddress.map(Self.describe) ?? config.endpointDescription
                handle(.connectSucceeded(attempt: attempt, peer: peer))
                arriving = nil
            case .success(let channel):
                channel.close(promise: nil)
                handle(.connectFailed(attempt: attempt, reason: "the connection closed while opening"))
            case .failure(let error):
                handle(.connectFailed(attempt: attempt, reason: Self.describe(error)))
            }
        }
    }

    /// A TCP connect to a local port nobody listens on can be given that same port as its
    /// source and connect to itself (simultaneous open). VKB-Link's port 50995 lies in
    /// Linux's ephemeral range (32768–60999), so a bridge retrying while the server is down
    /// would sooner or later "connect", deliver into the void, and hold the port the
    /// restarting server needs. Such a connection is dropped as a failed attempt.
    static func isSelfConnected(_ channel: Channel) -> Bool {
        guard let local = channel.localAddress, let remote = channel.remoteAddress else { return false }
        return local == remote
    }

    static let selfConnectReason = "nothing is listening (the connection reached its own port)"

    private static func tcp(_ name: Int32) -> ChannelOptions.Types.SocketOption {
        .init(level: SocketOptionLevel(IPPROTO_TCP), name: SocketOptionName(name))
    }

    /// The machine accepted the arriving channel: it becomes the connection.
    private func adopt() {
        guard let channel = arriving else { return }
        let connection = Connection(channel: channel)
        // States submitted while disconnected: the newest becomes `current`, sent first.
        absorb(handoff.withLockedValue { $0.take() })
        self.connection = connection
        statistics.connections += 1
        statistics.isConnected = true
        TCPAcknowledgement.bytesAcknowledged(on: channel).assumeIsolated().whenSuccess { baseline in
            connection.ackBaseline = baseline ?? 0
        }
        // Convergence: whatever the server saw before, the true state goes first.
        queue.removeAll()
        write(current, on: connection, flush: true)
        scheduleRefresh(connection)
    }

    /// Re-sends the current state every refresh interval, when one is configured.
    private func scheduleRefresh(_ connection: Connection) {
        guard configuration.refreshIntervalMilliseconds > 0 else { return }
        let interval = TimeAmount.milliseconds(Int64(configuration.refreshIntervalMilliseconds))
        connection.refresh = loop.assumeIsolated().scheduleTask(in: interval) { [self] in
            guard self.connection === connection else { return }
            if queue.isEmpty, self.connection === connection { write(current, on: connection, flush: true) }
            scheduleRefresh(connection)
        }
    }

    // MARK: - Connection events (from the channel handler)

    func connectionLost(_ channel: Channel, reason: String) {
        guard let connection, connection.channel === channel else { return }
        // Read the kernel's ack count while the socket still exists, so the report
        // of unacknowledged packets is as exact as it can be.
        TCPAcknowledgement.bytesAcknowledged(on: channel).assumeIsolated().whenSuccess { [self] acked in
            if let acked { apply(acked: acked, to: connection) }
            guard self.connection === connection else { return }
            handle(.connectionLost(reason: reason))
        }
    }

    /// Closes the live connection; what it wrote and never got acknowledged is reported,
    /// and states still in the handoff go to the next connection.
    private func dropConnection() {
        guard let connection else { return }
        // States still in the handoff go to the next connection (the newest is sent first).
        let taken = handoff.withLockedValue { $0.take() }
        if taken.overflows > 0 { countOverflows(taken.overflows) }
        self.connection = nil
        statistics.isConnected = false
        connection.ackPoll?.cancel()
        connection.refresh?.cancel()
        connection.channel.close(promise: nil)
        queue.removeAll()
        if let last = connection.unacknowledged.last {
            let count = connection.unacknowledged.count
            statistics.packetsUnacknowledgedOnDeadConnections += count
            publish(.unacknowledgedOnDeadConnection(packets: count, lastState: last.state))
        }
        for state in taken.states { submit(state) }
    }

    func received(bytes: Int) {
        statistics.bytesReceived += bytes
    }

    func writabilityChanged(_ channel: Channel) {
        guard let connection, connection.channel === channel else { return }
        var wrote = false
        while channel.isWritable, let next = queue.popFirst() {
            write(next, on: connection, flush: false)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    // MARK: - Writing and acknowledgement

    private func enqueue(_ state: ShiftState) {
        if queue.count >= max(1, configuration.queueCapacity) {
            // Keep the newest state; the intermediate one is what we lose.
            queue[queue.index(before: queue.endIndex)] = state
            countOverflows(1)
        } else {
            queue.append(state)
        }
    }

    /// Counts coalesced states; reports at powers of two so a long stall logs a handful
    /// of lines, not one per state.
    private func countOverflows(_ n: Int) {
        let before = statistics.queueOverflows
        statistics.queueOverflows += n
        let after = statistics.queueOverflows
        // Report when a power of two was reached or passed.
        if before == 0 || (after.leadingZeroBitCount < before.leadingZeroBitCount) || after & (after - 1) == 0 {
            publish(.queueOverflow(total: after))
        }
    }

    private func write(_ state: ShiftState, on connection: Connection, flush: Bool) {
        var buffer = connection.channel.allocator.buffer(capacity: VKBShiftBitmapPacket.size)
        let packet = VKBShiftBitmapPacket(state: state, header: configuration.header, command: configuration.command)
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: VKBShiftBitmapPacket.size) { raw in
            packet.encode(into: raw)
            return VKBShiftBitmapPacket.size
        }
        if flush {
            connection.channel.writeAndFlush(buffer, promise: nil)
        } else {
            connection.channel.write(buffer, promise: nil)
        }
        record(state, on: connection)
    }

    /// Counts a written packet and starts acknowledgement tracking.
    private func record(_ state: ShiftState, on connection: Connection) {
        connection.bytesWritten += UInt64(VKBShiftBitmapPacket.size)
        connection.unacknowledged.append((connection.bytesWritten, state))
        statistics.packetsWritten += 1
        scheduleAckPoll(connection)
    }

    private func scheduleAckPoll(_ connection: Connection) {
        guard connection.ackPoll == nil else { return }
        connection.ackPoll = loop.assumeIsolated().scheduleTask(in: .milliseconds(connection.ackPollDelayMilliseconds)) { [self] in
            connection.ackPoll = nil
            guard self.connection === connection else { return }
            TCPAcknowledgement.bytesAcknowledged(on: connection.channel).assumeIsolated().whenSuccess { [self] acked in
                if let acked { apply(acked: acked, to: connection) }
                guard self.connection === connection else { return }
                if connection.unacknowledged.isEmpty {
                    connection.ackPollDelayMilliseconds = Self.firstAckPollMilliseconds
                } else {
                    connection.ackPollDelayMilliseconds = min(
                        connection.ackPollDelayMilliseconds * 2, Self.maxAckPollMilliseconds)
                    scheduleAckPoll(connection)
                }
            }
        }
    }

    private func apply(acked total: UInt64, to connection: Connection) {
        guard let baseline = connection.ackBaseline else { return }
        let acked = total &- baseline
        var popped = 0
        while let first = connection.unacknowledged.first, first.end <= acked {
            connection.acknowledgedState = first.state
            connection.unacknowledged.removeFirst()
            popped += 1
        }
        guard popped > 0 else { return }
        statistics.packetsAcknowledged += popped
        statistics.acknowledgedState = connection.acknowledgedState
        checkDelivered()
    }

    private func pollUntilAcknowledged(_ connection: Connection, promise: EventLoopPromise<Void>) {
        TCPAcknowledgement.bytesAcknowledged(on: connection.channel).assumeIsolated().whenComplete { [self] result in
            if case .success(let acked?) = result { apply(acked: acked, to: connection) }
            if connection.unacknowledged.isEmpty || !connection.channel.isActive {
                promise.succeed()
            } else {
                loop.assumeIsolated().scheduleTask(in: .milliseconds(2)) { [self] in
                    pollUntilAcknowledged(connection, promise: promise)
                }
            }
        }
    }

    private func checkDelivered() {
        guard !deliveryWaiters.isEmpty, let connection, connection.unacknowledged.isEmpty,
            connection.acknowledgedState == current
        else { return }
        let waiters = deliveryWaiters
        deliveryWaiters.removeAll()
        for waiter in waiters { waiter.succeed() }
    }

    // MARK: - Reporting

    /// A short human reason for a connection failure.
    static func describe(_ error: Error) -> String {
        switch error {
        case let error as IOError:
            return String(cString: strerror(error.errnoCode)).lowercased()
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first { return describe(first.error) }
            if let dns = error.dnsAError ?? error.dnsAAAAError { return "cannot resolve \(error.host): \(dns)" }
            return "cannot resolve \(error.host)"
        case ChannelError.connectTimeout:
            return "connect timed out"
        case let error as ChannelError:
            return "\(error)"
        default:
            return "\(error)"
        }
    }

    static func describe(_ address: SocketAddress) -> String {
        switch address {
        case .v4(let a): return "\(a.host):\(address.port ?? 0)"
        case .v6(let a): return "[\(a.host)]:\(address.port ?? 0)"
        default: return "\(address)"
        }
    }
}
