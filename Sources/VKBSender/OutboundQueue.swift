import VKBCore
import VKBSocket

/// The sender's one outbound queue: states waiting for the socket, oldest first, and the
/// unsent tail of a packet the socket took only in part. Pure: the socket comes in as a
/// `write` closure, so partial writes and `EAGAIN` are tested without one.
///
/// Bounded and coalescing: when full, the newest state replaces the last waiting one
/// (an intermediate state is what a stalled server loses, never the newest). A packet
/// begun on the wire is finished before any other, so the byte stream stays whole.
struct OutboundQueue {
    /// What a flush ended on.
    enum FlushResult: Equatable {
        /// Everything was written.
        case drained
        /// The socket takes no more now (`EAGAIN` or a partial write): wait for `EPOLLOUT`.
        case blocked
        /// The write failed with this errno: the connection is dead.
        case failed(errno: Int32)
    }

    /// What a write call did: bytes taken, would block, or an errno.
    typealias WriteOutcome = TCPSocket.Outcome

    let capacity: Int
    private var states: [ShiftState] = []
    private var head = 0
    /// The packet being written, encoded once into storage reused for every packet.
    private var packet: [UInt8]
    /// The state of the packet on the wire and how much of it went out; nil between packets.
    private var partial: (offset: Int, state: ShiftState)?

    init(capacity: Int, packetSize: Int) {
        self.capacity = max(1, capacity)
        packet = [UInt8](repeating: 0, count: packetSize)
    }

    /// States waiting, not counting a packet already begun.
    var count: Int { states.count - head }
    /// Nothing waits and no packet is half-written.
    var isEmpty: Bool { count == 0 && partial == nil }

    /// Queues `state`; true when the queue was full and `state` replaced the last one.
    mutating func append(_ state: ShiftState) -> Bool {
        if count >= capacity {
            states[states.count - 1] = state
            return true
        }
        states.append(state)
        return false
    }

    /// Forgets everything, a half-written packet included (its connection is gone).
    mutating func removeAll() {
        states.removeAll(keepingCapacity: true)
        head = 0
        partial = nil
    }

    /// Writes packets, oldest first, until the queue is empty or `write` takes no more.
    /// `written` is called with each state whose packet's last byte was taken.
    mutating func flush(
        encode: (ShiftState, UnsafeMutableRawBufferPointer) -> Void,
        write: (UnsafeRawBufferPointer) -> WriteOutcome,
        written: (ShiftState) -> Void
    ) -> FlushResult {
        while true {
            if partial == nil {
                guard head < states.count else {
                    states.removeAll(keepingCapacity: true)
                    head = 0
                    return .drained
                }
                let state = states[head]
                head += 1
                packet.withUnsafeMutableBytes { encode(state, $0) }
                partial = (0, state)
            }
            let (offset, state) = partial!
            let outcome = packet.withUnsafeBytes { write(UnsafeRawBufferPointer(rebasing: $0[offset...])) }
            switch outcome {
            case .done(let n) where n > 0:
                if offset + n >= packet.count {
                    partial = nil
                    written(state)
                } else {
                    partial!.offset = offset + n
                    return .blocked
                }
            case .done, .wouldBlock:
                // Nothing of a fresh packet left: it goes back to the queue, where a
                // newer state may still replace it.
                if offset == 0 {
                    partial = nil
                    head -= 1
                }
                return .blocked
            case .failed(let code):
                return .failed(errno: code)
            }
            // Compact now and then so the array does not grow under a steady flow.
            if head > 64 && head * 2 > states.count {
                states.removeFirst(head)
                head = 0
            }
        }
    }
}
