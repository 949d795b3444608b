import VKBCore

/// States on their way from other threads to the loop (`ReconnectingSender.submit`), under
/// one lock. Bounded like the outbound queue (a full handoff keeps the newest state in its
/// last slot), and drained by one posted job per burst, so a burst of input never piles up
/// jobs on the loop. The loop writes every state, in submission order: one writer per socket.
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
