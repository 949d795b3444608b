import Glibc
import Testing
import VKBCore

@testable import VKBSender

/// The outbound queue against a scripted socket: partial writes, `EAGAIN`, failures and
/// overflow, without a socket.
@Suite struct OutboundQueueTests {
    /// A socket that takes what its script says, one entry per write call; then everything.
    final class ScriptedSocket {
        var script: [OutboundQueue.WriteOutcome]
        var received: [UInt8] = []

        init(_ script: [OutboundQueue.WriteOutcome] = []) {
            self.script = script
        }

        func write(_ bytes: UnsafeRawBufferPointer) -> OutboundQueue.WriteOutcome {
            let outcome = script.isEmpty ? .done(bytes.count) : script.removeFirst()
            if case .done(let n) = outcome { received += bytes.prefix(min(n, bytes.count)) }
            return outcome
        }
    }

    /// Four bytes per packet: enough to split.
    static func bytes(_ state: ShiftState) -> [UInt8] {
        [0xA5, state.shift, state.subshift, 0x5A]
    }

    static func encode(_ state: ShiftState, into buffer: UnsafeMutableRawBufferPointer) {
        buffer.copyBytes(from: bytes(state))
    }

    static func queue(capacity: Int) -> OutboundQueue {
        OutboundQueue(capacity: capacity, packetSize: 4)
    }

    static func state(_ n: UInt8) -> ShiftState { ShiftState(subshift: n) }

    @discardableResult
    static func flush(_ queue: inout OutboundQueue, _ socket: ScriptedSocket, written: inout [ShiftState]) -> OutboundQueue.FlushResult {
        var done: [ShiftState] = []
        let result = queue.flush(encode: encode, write: socket.write, written: { done.append($0) })
        written += done
        return result
    }

    @Test func everythingGoesOutInOrderWhenTheSocketTakesIt() {
        var queue = Self.queue(capacity: 8)
        let socket = ScriptedSocket()
        var written: [ShiftState] = []
        for n: UInt8 in 1...3 {
            let coalesced = queue.append(Self.state(n))
            #expect(!coalesced)
        }
        #expect(Self.flush(&queue, socket, written: &written) == .drained)
        #expect(written == [Self.state(1), Self.state(2), Self.state(3)])
        #expect(socket.received == (1...3).flatMap { Self.bytes(Self.state(UInt8($0))) })
        #expect(queue.isEmpty)
    }

    @Test func aPartialWriteIsFinishedBeforeAnythingElseAndNeverCoalesced() {
        var queue = Self.queue(capacity: 1)
        // The first packet goes out 1 byte, then the socket is full.
        let socket = ScriptedSocket([.done(1), .wouldBlock])
        var written: [ShiftState] = []
        _ = queue.append(Self.state(1))
        #expect(Self.flush(&queue, socket, written: &written) == .blocked)
        #expect(written.isEmpty)
        #expect(!queue.isEmpty)
        // Newer states coalesce among themselves, not into the packet on the wire.
        let second = queue.append(Self.state(2))
        let third = queue.append(Self.state(3))
        #expect(!second && third)
        #expect(Self.flush(&queue, socket, written: &written) == .blocked)  // the scripted EAGAIN
        #expect(Self.flush(&queue, socket, written: &written) == .drained)
        #expect(written == [Self.state(1), Self.state(3)])
        #expect(socket.received == Self.bytes(Self.state(1)) + Self.bytes(Self.state(3)))
    }

    @Test func aPacketSplitManyWaysArrivesWhole() {
        var queue = Self.queue(capacity: 4)
        let socket = ScriptedSocket([.done(1), .done(1), .wouldBlock, .done(1), .done(1), .done(3), .wouldBlock])
        var written: [ShiftState] = []
        _ = queue.append(Self.state(7))
        _ = queue.append(Self.state(8))
        while Self.flush(&queue, socket, written: &written) == .blocked {}
        #expect(written == [Self.state(7), Self.state(8)])
        #expect(socket.received == Self.bytes(Self.state(7)) + Self.bytes(Self.state(8)))
    }

    @Test func eagainBeforeTheFirstByteLeavesTheStateReplaceable() {
        var queue = Self.queue(capacity: 1)
        let socket = ScriptedSocket([.wouldBlock])
        var written: [ShiftState] = []
        _ = queue.append(Self.state(1))
        #expect(Self.flush(&queue, socket, written: &written) == .blocked)
        #expect(queue.count == 1)
        // Full: the newest replaces the unsent one.
        let replaced = queue.append(Self.state(2))
        #expect(replaced)
        #expect(Self.flush(&queue, socket, written: &written) == .drained)
        #expect(written == [Self.state(2)])
    }

    @Test func aFailedWriteReportsItsErrnoAndRemoveAllForgetsTheHalfPacket() {
        var queue = Self.queue(capacity: 4)
        let socket = ScriptedSocket([.done(2), .failed(errno: EPIPE)])
        var written: [ShiftState] = []
        _ = queue.append(Self.state(1))
        #expect(Self.flush(&queue, socket, written: &written) == .blocked)
        #expect(Self.flush(&queue, socket, written: &written) == .failed(errno: EPIPE))
        queue.removeAll()
        #expect(queue.isEmpty)
        // A new connection starts with whole packets.
        _ = queue.append(Self.state(5))
        #expect(Self.flush(&queue, socket, written: &written) == .drained)
        #expect(socket.received.suffix(4) == Self.bytes(Self.state(5))[...])
    }

    @Test func overflowKeepsTheNewestAndCountsStaysBounded() {
        var queue = Self.queue(capacity: 3)
        var overflows = 0
        for n in 1...100 where queue.append(Self.state(UInt8(n))) { overflows += 1 }
        #expect(queue.count == 3)
        #expect(overflows == 97)
        let socket = ScriptedSocket()
        var written: [ShiftState] = []
        Self.flush(&queue, socket, written: &written)
        #expect(written == [Self.state(1), Self.state(2), Self.state(100)])
    }
}
