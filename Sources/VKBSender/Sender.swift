// Owns the sender's TCP socket (and a connection attempt's), its retry and refresh
// deadlines and the outbound queue; lives on one `EpollLoop` and is touched only there.

import CLinux
import Glibc
import VKBCore
import VKBLoop
import VKBSocket
import VKBWire

/// Delivers shift states to a VKB-Link server over TCP, on the daemon's loop, and keeps
/// doing so across server restarts and outages.
///
/// - On every new connection the current state is written first, so a restarted
///   server converges on the truth without any new input.
/// - The read side is watched all the time, so a closed or reset connection is noticed
///   at once; keepalive and `TCP_USER_TIMEOUT` find a silently dead peer.
/// - While connected every change is written at once, in order; while disconnected
///   changes coalesce into the current state; a full socket backs up into the one bounded
///   coalescing `OutboundQueue`. `submit` never blocks.
/// - It never gives up while running: retries use exponential backoff with jitter.
///
/// The owner of the connection: performs what `SenderStateMachine` decides on a raw
/// non-blocking socket in the loop's epoll set, and tracks what the server's kernel
/// acknowledged from `SIOCOUTQ`, read when someone needs to know (after a write, for a
/// delivery waiter, at a loss, at stop): nothing polls while nobody asks. Use it on the
/// loop's thread only.
public final class Sender {
    /// One live connection and what was written on it.
    private final class Connection {
        let socket: TCPSocket
        var registration: EpollLoop.Registration?
        /// `EPOLLOUT` is watched: the socket took a packet only in part or not at all.
        var waitingToWrite = false
        var bytesWritten: UInt64 = 0
        /// Written packets the server's kernel has not acknowledged yet: end offset and state.
        var unacknowledged: [(end: UInt64, state: ShiftState)] = []
        var acknowledgedState: ShiftState?
        var refresh: EpollLoop.Timer?

        init(socket: TCPSocket) {
            self.socket = socket
        }
    }

    /// Why a delivery wait ended without delivery.
    public struct Stopped: Error, CustomStringConvertible {
        public var description: String { "the sender stopped" }
    }

    /// Called once with the outcome of a delivery wait.
    public typealias DeliveryWaiter = (Result<Void, any Error>) -> Void

    static let sendBufferBytes = 16 * 1024
    /// Written packets kept before the kernel is asked which of them were acknowledged.
    static let unacknowledgedBeforeAsking = 64
    static let firstAckPollMilliseconds = 1
    static let maxAckPollMilliseconds = 100

    let loop: EpollLoop
    private(set) var configuration: SenderConfiguration
    private var machine: SenderStateMachine
    private let publish: (SenderEvent) -> Void

    private var current = ShiftState.clear
    private var connection: Connection?
    private var attempt: ConnectAttempt?
    /// The socket of a successful attempt while the machine decides what becomes of it.
    private var arriving: TCPSocket?
    private var retry: EpollLoop.Timer?
    private var outbound: OutboundQueue
    private var counters = SenderStatistics()
    private var deliveryWaiters: [DeliveryWaiter] = []
    private var ackPoll: EpollLoop.Timer?
    private var ackPollMilliseconds = Sender.firstAckPollMilliseconds
    private var scratch = [UInt8](repeating: 0, count: 4096)

    /// A sender on `loop` that reports to `publish` (on the loop). Nothing happens before `start()`.
    public init(loop: EpollLoop, configuration: SenderConfiguration, publish: @escaping (SenderEvent) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.machine = SenderStateMachine(
            endpoint: configuration.endpointDescription, backoff: Backoff(policy: configuration.backoff),
            outageReminderSeconds: configuration.outageReminderSeconds)
        self.outbound = OutboundQueue(capacity: configuration.queueCapacity, packetSize: VKBShiftBitmapPacket.size)
        self.publish = publish
    }

    // MARK: - Commands (all on `loop`)

    private var stopped: Bool { machine.state == .stopped }

    /// Starts connecting.
    public func start() {
        handle(.start)
    }

    /// Feeds the machine and performs its actions, in order.
    private func handle(_ input: SenderStateMachine.Input) {
        for action in machine.handle(input, now: MonotonicClock.now()) {
            switch action {
            case .connect(let attempt): connect(attempt: attempt)
            case .adopt: adopt()
            case .discardNewConnection:
                arriving?.close()
                arriving = nil
            case .dropConnection: dropConnection()
            case .scheduleRetry(let milliseconds):
                if let retry { loop.cancel(retry) }
                retry = loop.schedule(in: .milliseconds(milliseconds)) { [self] in
                    retry = nil
                    handle(.retryTimerFired)
                }
            case .cancelRetry:
                if let retry { loop.cancel(retry) }
                retry = nil
            case .publish(let event):
                publish(event)
            }
        }
    }

    /// Makes `state` the current state and writes it now if the connection can take it.
    public func submit(_ state: ShiftState) {
        guard !stopped, state != current else { return }
        current = state
        counters.currentState = state
        guard let connection else { return }  // the next connection sends `current` first
        if outbound.append(state) { countOverflows(1) }
        if !connection.waitingToWrite { flush(connection) }
    }

    /// Counters and the delivery state, as of now.
    public var statistics: SenderStatistics {
        if let connection { updateAcknowledged(connection) }
        var s = counters
        s.queued = outbound.count
        s.isConnected = connection != nil
        s.acknowledgedState = connection?.acknowledgedState
        return s
    }

    /// Calls `waiter` once the current state's packet is acknowledged by the server's
    /// kernel on the live connection, or with `Stopped` if the sender stops first.
    public func whenDelivered(_ waiter: @escaping DeliveryWaiter) {
        guard !stopped else { return waiter(.failure(Stopped())) }
        deliveryWaiters.append(waiter)
        if let connection { updateAcknowledged(connection) }
        checkDelivered()
        pollAcknowledgementsForWaiters()
    }

    /// Applies a new configuration; reconnects only if the endpoint or socket settings changed.
    public func update(_ new: SenderConfiguration) {
        let reconnect = new.needsReconnect(comparedTo: configuration)
        configuration = new
        machine.setEndpoint(new.endpointDescription)
        handle(.reconfigured(new.backoff, outageReminderSeconds: new.outageReminderSeconds))
        if reconnect { handle(.endpointChanged) }
    }

    /// Stops for good: optionally writes `final` and waits (at most half a second) for
    /// the server's kernel to acknowledge it, then closes the connection; then `done`.
    public func stop(sending final: ShiftState?, done: @escaping () -> Void) {
        guard !stopped else { return done() }
        handle(.stop)
        attempt?.cancel()
        attempt = nil
        guard let final, let connection else {
            finishStopping()
            return done()
        }
        current = final
        if outbound.append(final) { countOverflows(1) }
        if !connection.waitingToWrite { flush(connection) }
        let deadline = MonotonicClock.now() + 500_000_000
        func check() {
            if let live = self.connection, live === connection {
                updateAcknowledged(connection)
                if !(outbound.isEmpty && connection.unacknowledged.isEmpty), MonotonicClock.now() < deadline {
                    loop.schedule(in: .milliseconds(2)) { check() }
                    return
                }
            }
            finishStopping()
            done()
        }
        check()
    }

    private func finishStopping() {
        if let connection { close(connection) }
        counters.isConnected = false
        if let ackPoll { loop.cancel(ackPoll) }
        ackPoll = nil
        handle(.finishedStopping)
        let waiters = deliveryWaiters
        deliveryWaiters.removeAll()
        for waiter in waiters { waiter(.failure(Stopped())) }
    }

    // MARK: - Connecting

    private func connect(attempt number: Int) {
        counters.connectAttempts += 1
        attempt?.cancel()
        let config = configuration
        let connecting = ConnectAttempt(
            host: config.host, port: config.port, timeoutMilliseconds: config.connectTimeoutMilliseconds, loop: loop,
            configure: { socket throws(SystemCallError) in try Self.configure(socket, config) }
        ) { [self] result in
            self.attempt = nil
            switch result {
            case .success(let socket):
                arriving = socket
                handle(.connectSucceeded(attempt: number, peer: socket.remoteAddress?.description ?? config.endpointDescription))
                arriving?.close()
                arriving = nil
            case .failure(let failure):
                handle(.connectFailed(attempt: number, reason: failure.reason))
            }
        }
        attempt = connecting
        connecting.start()
    }

    /// The socket options, at their levels (DESIGN §3).
    static func configure(_ socket: TCPSocket, _ config: SenderConfiguration) throws(SystemCallError) {
        try socket.set(Int32(IPPROTO_TCP), TCP_NODELAY, 1)
        try socket.set(SOL_SOCKET, SO_KEEPALIVE, 1)
        try socket.set(Int32(IPPROTO_TCP), TCP_KEEPIDLE, config.keepaliveIdleSeconds)
        try socket.set(Int32(IPPROTO_TCP), TCP_KEEPINTVL, config.keepaliveIntervalSeconds)
        try socket.set(Int32(IPPROTO_TCP), TCP_KEEPCNT, config.keepaliveCount)
        try socket.set(Int32(IPPROTO_TCP), TCP_USER_TIMEOUT, config.userTimeoutMilliseconds)
        // A state protocol gains nothing from megabytes of stale packets in the kernel:
        // a small send buffer makes a slow server back up into our bounded queue, where
        // newer states replace older ones, and bounds the unacknowledged list.
        try socket.set(SOL_SOCKET, SO_SNDBUF, sendBufferBytes)
    }

    /// The machine accepted the arriving socket: it becomes the connection.
    private func adopt() {
        guard let socket = arriving else { return }
        arriving = nil
        let connection = Connection(socket: socket)
        do {
            connection.registration = try loop.register(socket.fd, events: Self.readEvents) { [self, unowned connection] events in
                self.events(events, on: connection)
            }
        } catch {
            // Adopted and at once lost: the machine hears it as a loss, after this action.
            loop.schedule(in: .zero) { [self] in handle(.connectionLost(reason: "\(error)")) }
        }
        self.connection = connection
        counters.connections += 1
        counters.isConnected = true
        // Convergence: whatever the server saw before, the true state goes first.
        outbound.removeAll()
        _ = outbound.append(current)
        flush(connection)
        scheduleRefresh(connection)
    }

    private static let readEvents: IOEvents = [.readable, .readHangUp]

    /// Re-sends the current state every refresh interval, when one is configured.
    private func scheduleRefresh(_ connection: Connection) {
        guard configuration.refreshIntervalMilliseconds > 0 else { return }
        connection.refresh = loop.schedule(in: .milliseconds(configuration.refreshIntervalMilliseconds)) { [self] in
            connection.refresh = nil
            guard self.connection === connection else { return }
            if outbound.isEmpty {
                _ = outbound.append(current)
                flush(connection)
            }
            if self.connection === connection { scheduleRefresh(connection) }
        }
    }

    // MARK: - Connection events

    /// The read side is watched all the time: a FIN or an RST is noticed at once, not at
    /// the next write (DESIGN §3). Bytes the server sends are drained and counted.
    private func events(_ events: IOEvents, on connection: Connection) {
        guard self.connection === connection else { return }
        if events.contains(.writable) {
            flush(connection)
            guard self.connection === connection else { return }
        }
        guard !events.isDisjoint(with: [.readable, .readHangUp, .error, .hangUp]) else { return }
        let (bytes, closed) = connection.socket.drain(after: events, using: &scratch)
        counters.bytesReceived += bytes
        if let closed { lost(connection, reason: closed) }
    }

    private func lost(_ connection: Connection, reason: String) {
        guard self.connection === connection else { return }
        // The kernel's count while the socket still exists: the report of unacknowledged
        // packets is as exact as it can be.
        updateAcknowledged(connection)
        if stopped {
            // Stopping: nobody reconnects; `stop` sees the connection gone.
            close(connection)
            return
        }
        handle(.connectionLost(reason: reason))
    }

    /// Closes the live connection; what it wrote and never got acknowledged is reported
    /// (the next connection starts with the current state).
    private func dropConnection() {
        guard let connection else { return }
        close(connection)
        if let last = connection.unacknowledged.last {
            let count = connection.unacknowledged.count
            counters.packetsUnacknowledgedOnDeadConnections += count
            publish(.unacknowledgedOnDeadConnection(packets: count, lastState: last.state))
        }
    }

    private func close(_ connection: Connection) {
        if self.connection === connection { self.connection = nil }
        counters.isConnected = false
        if let registration = connection.registration { loop.deregister(registration) }
        connection.registration = nil
        if let refresh = connection.refresh { loop.cancel(refresh) }
        connection.refresh = nil
        connection.socket.close()
        outbound.removeAll()
    }

    // MARK: - Writing and acknowledgement

    /// Writes what the queue holds until it is empty or the socket is full; watches
    /// `EPOLLOUT` only while something waits.
    private func flush(_ connection: Connection) {
        let (header, command) = (configuration.header, configuration.command)
        let packetsBefore = counters.packetsWritten
        let result = outbound.flush(
            encode: { VKBShiftBitmapPacket(state: $0, header: header, command: command).encode(into: $1) },
            write: { connection.socket.write($0) },
            written: { state in
                connection.bytesWritten += UInt64(VKBShiftBitmapPacket.size)
                connection.unacknowledged.append((connection.bytesWritten, state))
                counters.packetsWritten += 1
            })
        if packetsBefore != counters.packetsWritten, !deliveryWaiters.isEmpty {
            // A new packet to wait for: ask soon again, not after the backed-off interval.
            if let ackPoll { loop.cancel(ackPoll) }
            ackPoll = nil
            ackPollMilliseconds = Self.firstAckPollMilliseconds
            pollAcknowledgementsForWaiters()
        }
        switch result {
        case .drained, .blocked:
            let waiting = result == .blocked
            if waiting != connection.waitingToWrite, let registration = connection.registration {
                connection.waitingToWrite = waiting
                loop.modify(registration, events: waiting ? Self.readEvents.union(.writable) : Self.readEvents)
            }
            // Not on every write (the packet is on its way already; nobody asked): only to
            // keep the list short while no one asks.
            if connection.unacknowledged.count >= Self.unacknowledgedBeforeAsking { updateAcknowledged(connection) }
        case .failed(let code):
            lost(connection, reason: SystemCallError.reason(code))
        }
    }

    /// Counts coalesced states; reports at powers of two so a long stall logs a handful
    /// of lines, not one per state.
    private func countOverflows(_ n: Int) {
        let before = counters.queueOverflows
        counters.queueOverflows += n
        let after = counters.queueOverflows
        if before == 0 || (after.leadingZeroBitCount < before.leadingZeroBitCount) || after & (after - 1) == 0 {
            publish(.queueOverflow(total: after))
        }
    }

    /// Reads `SIOCOUTQ` (bytes not yet acknowledged) and retires the packets whose last
    /// byte the server's kernel has acknowledged.
    private func updateAcknowledged(_ connection: Connection) {
        guard !connection.unacknowledged.isEmpty, let outstanding = connection.socket.unacknowledgedBytes() else { return }
        let acked = connection.bytesWritten - UInt64(min(outstanding, Int(connection.bytesWritten)))
        var retired = 0
        while retired < connection.unacknowledged.count, connection.unacknowledged[retired].end <= acked {
            connection.acknowledgedState = connection.unacknowledged[retired].state
            retired += 1
        }
        guard retired > 0 else { return }
        connection.unacknowledged.removeFirst(retired)
        counters.packetsAcknowledged += retired
        counters.acknowledgedState = connection.acknowledgedState
        checkDelivered()
    }

    /// While someone waits for delivery, asks the kernel again after 1, 2, 4… (at most
    /// 100) ms; the polling ends with the last waiter.
    private func pollAcknowledgementsForWaiters() {
        guard !deliveryWaiters.isEmpty else {
            if let ackPoll { loop.cancel(ackPoll) }
            ackPoll = nil
            ackPollMilliseconds = Self.firstAckPollMilliseconds
            return
        }
        guard ackPoll == nil else { return }
        ackPoll = loop.schedule(in: .milliseconds(ackPollMilliseconds)) { [self] in
            ackPoll = nil
            ackPollMilliseconds = min(ackPollMilliseconds * 2, Self.maxAckPollMilliseconds)
            if let connection { updateAcknowledged(connection) }
            pollAcknowledgementsForWaiters()
        }
    }

    private func checkDelivered() {
        guard !deliveryWaiters.isEmpty, let connection, connection.unacknowledged.isEmpty, outbound.isEmpty,
            connection.acknowledgedState == current
        else { return }
        let waiters = deliveryWaiters
        deliveryWaiters.removeAll()
        for waiter in waiters { waiter(.success(())) }
        pollAcknowledgementsForWaiters()
    }
}
