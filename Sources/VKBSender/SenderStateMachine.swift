/// The sender's connection lifecycle as a pure state machine: inputs in, actions out, no
/// sockets, no clocks, no event loop (the time comes with each input). `SenderCore` is the
/// thin owner that feeds it what the network did and performs what it asks for, in order.
///
/// It decides when to connect and retry (exponential backoff with jitter, shorter right
/// after a live connection was lost), which results are stale (an attempt made before the
/// endpoint changed or the sender stopped), and what to report: the connection state once
/// per change, every failed attempt, an outage when it begins, reminders at most every
/// `outageReminderSeconds`, and its end.
struct SenderStateMachine {
    enum State: Equatable {
        /// Not started.
        case idle
        /// Attempt `attempt` is in flight.
        case connecting(attempt: Int)
        case connected
        /// The retry timer is armed.
        case waitingToRetry
        /// Stopping or stopped: nothing connects any more.
        case stopped
    }

    enum Input {
        case start
        case connectSucceeded(attempt: Int, peer: String)
        case connectFailed(attempt: Int, reason: String)
        /// The live connection ended (EOF, reset, error, or a dead peer found by keepalive).
        case connectionLost(reason: String)
        case retryTimerFired
        /// A reload changed the endpoint or the socket settings: reconnect at once.
        case endpointChanged
        /// A reload changed the retry policy or the reminder interval (no reconnect).
        case reconfigured(Backoff.Policy, outageReminderSeconds: Int)
        case stop
        /// The owner closed everything after `stop`.
        case finishedStopping
    }

    enum Action: Equatable {
        /// Start attempt `attempt` (resolve, connect with the socket options).
        case connect(attempt: Int)
        /// Adopt the new connection: its first packet is the current state.
        case adopt
        /// The connection of a stale attempt: close it unused.
        case discardNewConnection
        /// Close the live connection (and account for what it never acknowledged).
        case dropConnection
        case scheduleRetry(milliseconds: Int)
        case cancelRetry
        case publish(SenderEvent)
    }

    private struct Outage {
        var start: UInt64
        var lastReminder: UInt64
        var attempts: Int
    }

    private(set) var state = State.idle
    private(set) var endpoint: String
    private var backoff: Backoff
    private var outageReminderSeconds: Int
    private var attempt = 0
    private var outage: Outage?
    /// When a live connection was last lost (nanoseconds), for the backoff's restart window.
    private var lostAt: UInt64?
    private var lastPublished: ConnectionState?

    init(endpoint: String, backoff: Backoff, outageReminderSeconds: Int) {
        self.endpoint = endpoint
        self.backoff = backoff
        self.outageReminderSeconds = outageReminderSeconds
    }

    /// Applies `input` at monotonic time `now` (nanoseconds); returns what to do, in order.
    mutating func handle(_ input: Input, now: UInt64) -> [Action] {
        var actions: [Action] = []
        switch (input, state) {
        case (.start, .idle):
            publish(.connecting(endpoint: endpoint), into: &actions)
            connect(into: &actions)

        case (.connectSucceeded(let n, let peer), .connecting(let current)) where n == current:
            state = .connected
            backoff.reset()
            lostAt = nil
            publish(.connected(peer: peer), into: &actions)
            if let outage {
                actions.append(.publish(.outageEnded(seconds: Self.seconds(now - outage.start), attempts: outage.attempts)))
                self.outage = nil
            }
            actions.append(.adopt)
        case (.connectSucceeded, _):
            actions.append(.discardNewConnection)

        case (.connectFailed(let n, let reason), .connecting(let current)) where n == current:
            continueOutage(reason: reason, failedAttempt: true, now: now, into: &actions)
            publish(.reconnecting(reason: reason), into: &actions)
            let delay = nextDelay(now: now)
            actions.append(.publish(.attemptFailed(attempt: outage?.attempts ?? 0, reason: reason, retryInMilliseconds: delay)))
            actions.append(.scheduleRetry(milliseconds: delay))
            state = .waitingToRetry

        case (.connectionLost(let reason), .connected):
            actions.append(.dropConnection)
            publish(.disconnected(reason: reason), into: &actions)
            lostAt = now
            continueOutage(reason: reason, failedAttempt: false, now: now, into: &actions)
            actions.append(.scheduleRetry(milliseconds: nextDelay(now: now)))
            state = .waitingToRetry

        case (.retryTimerFired, .waitingToRetry):
            connect(into: &actions)

        case (.endpointChanged, .connected), (.endpointChanged, .connecting), (.endpointChanged, .waitingToRetry):
            actions.append(.cancelRetry)
            if state == .connected {
                actions.append(.dropConnection)
                publish(.disconnected(reason: "the server endpoint changed"), into: &actions)
            }
            outage = nil
            publish(.connecting(endpoint: endpoint), into: &actions)
            connect(into: &actions)

        case (.reconfigured(let policy, let reminder), _):
            backoff = Backoff(policy: policy, random: backoff.random)
            outageReminderSeconds = reminder

        case (.stop, .stopped):
            break
        case (.stop, _):
            state = .stopped
            actions.append(.cancelRetry)

        case (.finishedStopping, .stopped):
            publish(.stopped, into: &actions)

        default:
            break  // stale or impossible here: a late timer, a loss without a connection
        }
        return actions
    }

    /// The endpoint for reports; a change that needs a reconnect also sends `.endpointChanged`.
    mutating func setEndpoint(_ endpoint: String) {
        self.endpoint = endpoint
    }

    private mutating func connect(into actions: inout [Action]) {
        attempt += 1
        state = .connecting(attempt: attempt)
        actions.append(.connect(attempt: attempt))
    }

    private mutating func nextDelay(now: UInt64) -> Int {
        let sinceLoss = lostAt.map { Int((now - $0) / 1_000_000) }
        return backoff.nextDelayMilliseconds(sinceLoss: sinceLoss)
    }

    private mutating func publish(_ new: ConnectionState, into actions: inout [Action]) {
        guard new != lastPublished else { return }
        lastPublished = new
        actions.append(.publish(.connectionState(new)))
    }

    /// Starts the outage clock at the first failure (a lost connection or a failed
    /// attempt), counts failed attempts, and reminds at most every `outageReminderSeconds`.
    private mutating func continueOutage(reason: String, failedAttempt: Bool, now: UInt64, into actions: inout [Action]) {
        guard var outage else {
            outage = Outage(start: now, lastReminder: now, attempts: failedAttempt ? 1 : 0)
            actions.append(.publish(.outageBegan(reason: reason)))
            return
        }
        if failedAttempt { outage.attempts += 1 }
        if now - outage.lastReminder >= UInt64(outageReminderSeconds) * 1_000_000_000 {
            outage.lastReminder = now
            actions.append(.publish(.outageContinues(seconds: Self.seconds(now - outage.start), attempts: outage.attempts, reason: reason)))
        }
        self.outage = outage
    }

    private static func seconds(_ nanoseconds: UInt64) -> Double {
        Double(nanoseconds) / 1e9
    }
}
