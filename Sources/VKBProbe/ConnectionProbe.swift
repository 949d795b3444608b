// Owns the probe's socket on a loop thread of its own, for the length of one probe.

import CLinux
import Glibc
import VKBCore
import VKBLoop
import VKBSender
import VKBSocket
import VKBWire

/// Checks that a VKB-Link server is reachable: resolves and connects the way the sender
/// does (`ConnectAttempt`: every address, one timeout) with `TCP_NODELAY` only — no
/// keepalive, a probe is short — and watches the connection for a while. Sends nothing
/// unless asked, because any packet changes the device's shift state.
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

    /// Connects to `configuration`'s endpoint and watches it for `holdSeconds` (or until
    /// the server closes it).
    public static func run(_ configuration: SenderConfiguration, holdSeconds: Double, send state: ShiftState?) async -> Report {
        let thread: LoopThread
        do {
            thread = try LoopThread()
        } catch {
            var report = Report()
            report.failure = "\(error)"
            return report
        }
        defer { thread.stop() }
        return await withCheckedContinuation { answer in
            thread.handle.execute { loop in
                ProbeRun(loop: loop, configuration: configuration, holdSeconds: holdSeconds, state: state) {
                    answer.resume(returning: $0)
                }.start()
            }
        }
    }
}

/// One probe on the loop; kept alive by the loop's closures until it reports.
private final class ProbeRun {
    private let loop: EpollLoop
    private let configuration: SenderConfiguration
    private let holdSeconds: Double
    private let state: ShiftState?
    private var done: ((ConnectionProbe.Report) -> Void)?
    private var report = ConnectionProbe.Report()
    private var attempt: ConnectAttempt?
    private var socket: TCPSocket?
    private var registration: EpollLoop.Registration?
    private var hold: EpollLoop.Timer?
    private var ackPoll: EpollLoop.Timer?
    private var connectedAt: UInt64 = 0
    private var scratch = [UInt8](repeating: 0, count: 4096)

    init(loop: EpollLoop, configuration: SenderConfiguration, holdSeconds: Double, state: ShiftState?,
         done: @escaping (ConnectionProbe.Report) -> Void) {
        self.loop = loop
        self.configuration = configuration
        self.holdSeconds = holdSeconds
        self.state = state
        self.done = done
    }

    func start() {
        let start = MonotonicClock.now()
        let connecting = ConnectAttempt(
            host: configuration.host, port: configuration.port,
            timeoutMilliseconds: configuration.connectTimeoutMilliseconds, loop: loop,
            configure: { socket throws(SystemCallError) in try socket.set(Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        ) { [self] result in
            attempt = nil
            switch result {
            case .success(let socket):
                connectedAt = MonotonicClock.now()
                report.connectMilliseconds = Double(connectedAt - start) / 1e6
                report.peer = socket.remoteAddress?.description
                watch(socket)
            case .failure(let failure):
                report.failure = failure.reason
                finish()
            }
        }
        attempt = connecting
        connecting.start()
    }

    private func watch(_ socket: TCPSocket) {
        self.socket = socket
        do {
            registration = try loop.register(socket.fd, events: [.readable, .readHangUp]) { [self] events in
                readable(events)
            }
        } catch {
            report.failure = "\(error)"
            return finish()
        }
        hold = loop.schedule(in: .seconds(holdSeconds)) { [self] in
            hold = nil
            finish()
        }
        guard let state else { return }
        let bytes = VKBShiftBitmapPacket(state: state, header: configuration.header, command: configuration.command).bytes
        let sent = MonotonicClock.now()
        guard case .done(bytes.count) = bytes.withUnsafeBytes({ socket.write($0) }) else { return }
        // SIOCOUTQ falls to 0 once the server's kernel acknowledged the packet; asked
        // every 2 ms for at most a second.
        func check(_ polls: Int) {
            ackPoll = nil
            guard let socket = self.socket else { return }
            if socket.unacknowledgedBytes() == 0 {
                report.acknowledgedMilliseconds = Double(MonotonicClock.now() - sent) / 1e6
            } else if polls < 500 {
                ackPoll = loop.schedule(in: .milliseconds(2)) { check(polls + 1) }
            }
        }
        check(0)
    }

    private func readable(_ events: IOEvents) {
        guard let socket else { return }
        let (bytes, closed) = socket.drain(after: events, using: &scratch)
        report.bytesReceived += bytes
        if let closed { self.closed(closed) }
    }

    private func closed(_ reason: String) {
        report.closedAfterSeconds = Double(MonotonicClock.now() - connectedAt) / 1e9
        report.closeReason = reason
        finish()
    }

    private func finish() {
        guard let done else { return }
        self.done = nil
        attempt?.cancel()
        if let registration { loop.deregister(registration) }
        if let hold { loop.cancel(hold) }
        if let ackPoll { loop.cancel(ackPoll) }
        socket?.close()
        socket = nil
        done(report)
    }
}
