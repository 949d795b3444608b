import Glibc
import Testing
import VKBCore

@testable import VKBSender

/// States reach the server in the order they were submitted, through an idle connection,
/// a stalled one that fills and coalesces, and a restart; the server always ends on the
/// newest state. (The stall test caught the old "direct lane" reordering under load.)
@Suite("Sender ordering")
struct SenderOrderingTests {
    /// A loopback TCP server read from the test thread, with a small receive buffer so
    /// that a server that does not read soon stalls the sender.
    final class Server {
        private(set) var listener: Int32
        private(set) var connection: Int32 = -1
        let port: Int

        /// Listens on `port` (0: any free one), with `SO_REUSEADDR` for restarts. A restart
        /// on a given port retries for up to a second while the port is in use: a sender
        /// retrying meanwhile may hold it for an instant (a connect that reached itself,
        /// which the sender drops).
        convenience init(port requested: Int = 0, receiveBuffer: Int32? = nil) throws {
            let deadline = ContinuousClock.now + .seconds(1)
            while true {
                do {
                    try self.init(binding: requested, receiveBuffer: receiveBuffer)
                    return
                } catch is BindError where requested != 0 && ContinuousClock.now < deadline {
                    usleep(5_000)
                }
            }
        }

        struct BindError: Error {}

        private init(binding requested: Int, receiveBuffer: Int32?) throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if var size = receiveBuffer {
                setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(requested).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                    bind(fd, pointer, length) == 0 && listen(fd, 4) == 0 && getsockname(fd, pointer, &length) == 0
                }
            }
            guard bound else {
                close(fd)
                throw BindError()
            }
            listener = fd
            port = Int(UInt16(bigEndian: address.sin_port))
        }

        deinit {
            stop()
        }

        /// Closes the connection and the listener, like a server that exits.
        func stop() {
            if connection >= 0 { close(connection) }
            if listener >= 0 { close(listener) }
            connection = -1
            listener = -1
        }

        func accept(timeoutMilliseconds: Int32 = 10_000) throws {
            var p = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            try #require(poll(&p, 1, timeoutMilliseconds) == 1, "the sender did not connect")
            connection = Glibc.accept(listener, nil, nil)
            try #require(connection >= 0)
        }

        /// Packets until one equals `last` (inclusive), with a deadline.
        func readStates(until last: ShiftState, timeoutMilliseconds: Int32 = 20_000) throws -> [ShiftState] {
            var states: [ShiftState] = []
            var pending: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65536)
            while states.last != last {
                var p = pollfd(fd: connection, events: Int16(POLLIN), revents: 0)
                try #require(poll(&p, 1, timeoutMilliseconds) == 1, "no packet with \(last) arrived")
                let n = read(connection, &buffer, buffer.count)
                try #require(n > 0, "the sender closed the connection")
                pending += buffer[..<n]
                while pending.count >= 8 {
                    #expect(pending[0] == 0xA5 && pending[1] == 0x0D && pending[3] == 4)
                    states.append(ShiftState(shift: pending[4], subshift: pending[5]))
                    pending.removeFirst(8)
                }
            }
            return states
        }
    }

    /// States that never repeat back to back: bits 1…510, then again; the last one is
    /// bits 511, which appears nowhere before it. (`readStates(until:)` stops at the
    /// first read that ends with the state it waits for: a repeated last state could
    /// stop it early and leave the rest of the stream for the next read.)
    static func sequence(_ count: Int) -> [ShiftState] {
        (0..<count - 1).map { ShiftState(bits: UInt16($0 % 510 + 1)) } + [ShiftState(bits: 511)]
    }

    /// Whether `received` appears within `submitted` in order (coalescing may drop some).
    static func isInOrder(_ received: [ShiftState], within submitted: [ShiftState]) -> Bool {
        var next = submitted.startIndex
        for state in received {
            guard let found = submitted[next...].firstIndex(of: state) else { return false }
            next = found + 1
        }
        return true
    }

    @Test func idleConnectionGetsEveryStateInOrder() async throws {
        let server = try Server()
        let sender = try LoopSender(configuration: .init(port: server.port))
        sender.start()
        try server.accept()
        #expect(try server.readStates(until: .clear) == [.clear])  // the resync comes first
        let submitted = Self.sequence(500)
        for state in submitted {
            sender.submit(state)
        }
        let received = try server.readStates(until: submitted.last!)
        // 4 KB never fills the socket: nothing is coalesced, every state arrives once.
        #expect(received == submitted)
        let statistics = await sender.statistics()
        #expect(statistics.packetsWritten == 501)
        #expect(statistics.currentState == submitted.last)
        await sender.stop()
    }

    @Test func stalledServerGetsTheStatesInOrderAndEndsOnTheNewest() async throws {
        let server = try Server(receiveBuffer: 4096)
        let sender = try LoopSender(configuration: .init(port: server.port, queueCapacity: 64))
        sender.start()
        try server.accept()
        _ = try server.readStates(until: .clear)
        // The server reads nothing while 160 KB of states arrive: the socket fills, the
        // loop queues and coalesces.
        let submitted = Self.sequence(20_000)
        for state in submitted {
            sender.submit(state)
        }
        let received = try server.readStates(until: submitted.last!)
        #expect(Self.isInOrder(received, within: submitted))
        #expect(received.count < submitted.count)
        let statistics = await sender.statistics()
        #expect(statistics.queueOverflows > 0)
        #expect(statistics.packetsWritten == received.count + 1, "every packet written arrived (and .clear)")
        // Once the server reads again, each new state arrives on its own.
        let more = (1...50).map { ShiftState(bits: UInt16($0)) }
        for state in more {
            sender.submit(state)
            #expect(try server.readStates(until: state) == [state])
        }
        await sender.stop()
    }

    @Test func restartedServerGetsTheNewestStateFirst() async throws {
        let first = try Server()
        let sender = try LoopSender(
            configuration: .init(port: first.port, backoff: .init(initialMilliseconds: 5, maxMilliseconds: 20)))
        sender.start()
        try first.accept()
        _ = try first.readStates(until: .clear)
        let state = ShiftState(shift: 1, subshift: 0x41)
        sender.submit(state)
        #expect(try first.readStates(until: state) == [state])
        first.stop()
        // The restarted server gets the current state first, with no new input.
        let second = try Server(port: first.port)
        try second.accept()
        #expect(try second.readStates(until: state) == [state])
        let next = ShiftState(shift: 2, subshift: 0)
        sender.submit(next)
        #expect(try second.readStates(until: next) == [next])
        await sender.stop()
    }
}
