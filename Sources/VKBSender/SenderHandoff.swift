import Glibc
import VKBShift
import VKBWire

/// What submitting threads and the sender's event loop share, under one lock.
///
/// Normally a submitted state waits here (`states`) for the loop, which writes it. While
/// the connection is idle (connected, resynchronised, nothing queued or being written
/// by NIO, nothing waiting here) the loop opens the *direct lane*: it lends the
/// submitting threads a duplicate of the connection's socket (`directFD`), and a state
/// change is written by the thread that computed it, with no hop to the loop. Ordering
/// holds because every write, direct or not, happens under this lock or while the lane
/// is closed, and the lane only opens when nothing older is pending.
struct SenderHandoff {
    /// States for the loop, oldest first.
    var states: [ShiftState] = []
    /// States dropped from `states` because it was full (the newest replaced the last).
    var overflows = 0
    /// A loop task that drains this is already scheduled.
    var drainScheduled = false

    /// The socket submitting threads may write to, or -1 while the lane is closed.
    /// Owned by the loop's `Connection`; only borrowed here.
    var directFD: Int32 = -1
    var header = VKBShiftBitmapPacket.defaultHeader
    var command = VKBShiftBitmapPacket.defaultCommand
    /// Written on the lane, oldest first, not yet recorded by the loop. `unsent` is the
    /// tail of a packet the kernel took only part of: the loop writes it first.
    var written: [(state: ShiftState, unsent: Int)] = []
    /// The state most recently submitted, by any path.
    var lastSubmitted: ShiftState?

    /// Takes `state` in: writes it on the lane when open, else keeps it for the loop.
    /// Returns true when the caller must schedule a drain on the loop.
    mutating func submit(_ state: ShiftState, capacity: Int) -> Bool {
        defer { lastSubmitted = state }
        if directFD >= 0 {
            guard state != lastSubmitted else { return false }
            let sent = writeDirectly(state)
            if sent == VKBShiftBitmapPacket.size {
                written.append((state, 0))
            } else {
                // The kernel took part or none of it (full buffer, or the connection just
                // failed): close the lane and let the loop take over, in order.
                directFD = -1
                if sent > 0 {
                    written.append((state, VKBShiftBitmapPacket.size - sent))
                } else {
                    states.append(state)
                }
            }
        } else if states.count >= capacity {
            states[states.count - 1] = state
            overflows += 1
        } else {
            states.append(state)
        }
        defer { drainScheduled = true }
        return !drainScheduled
    }

    /// One non-blocking `send`: the bytes accepted, or -1.
    private func writeDirectly(_ state: ShiftState) -> Int {
        var bytes: UInt64 = 0
        return withUnsafeMutableBytes(of: &bytes) { raw in
            VKBShiftBitmapPacket(state: state, header: header, command: command).encode(into: raw)
            return send(directFD, raw.baseAddress, VKBShiftBitmapPacket.size, Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
        }
    }

    /// Everything waiting for the loop, in order: lane writes first (they are older
    /// than any state kept while the lane was closed).
    mutating func take() -> (written: [(state: ShiftState, unsent: Int)], states: [ShiftState], overflows: Int) {
        defer {
            written.removeAll(keepingCapacity: true)
            states.removeAll(keepingCapacity: true)
            overflows = 0
        }
        return (written, states, overflows)
    }
}
