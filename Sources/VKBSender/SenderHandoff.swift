import VKBCore

/// States on their way from submitting threads to the sender's event loop, under one
/// lock. Bounded like the outbound queue (a full handoff keeps the newest state in its
/// last slot), and drained by one loop task per burst, so a burst of input never piles
/// up tasks on the loop.
///
/// Every write happens on the loop, in submission order. An earlier "direct lane" let a
/// submitting thread write an idle socket itself (a duplicate of NIO's descriptor); under
/// load an older state could reach the server after the newest one, leaving the server on
/// a stale state while the sender counted the newest as acknowledged. It is gone.
struct SenderHandoff {
    /// States for the loop, oldest first.
    var states: [ShiftState] = []
    /// States dropped from `states` because it was full (the newest replaced the last).
    var overflows = 0
    /// A loop task that drains this is already scheduled.
    var drainScheduled = false

    /// Keeps `state` for the loop. Returns true when the caller must schedule a drain.
    mutating func submit(_ state: ShiftState, capacity: Int) -> Bool {
        if states.count >= capacity {
            states[states.count - 1] = state
            overflows += 1
        } else {
            states.append(state)
        }
        defer { drainScheduled = true }
        return !drainScheduled
    }

    /// Everything waiting for the loop, in order, and how many states were coalesced.
    mutating func take() -> (states: [ShiftState], overflows: Int) {
        defer {
            states.removeAll(keepingCapacity: true)
            overflows = 0
        }
        return (states, overflows)
    }
}
