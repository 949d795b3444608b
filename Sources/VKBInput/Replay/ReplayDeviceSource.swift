import VKBCore
import VKBLoop

/// A device played back from an evemu recording, standing in for an evdev node.
///
/// The reader reports `.keyState(KeySet())` first (a recording starts with every key
/// released), then each `EV_KEY` press (value 1) and release (value 0) as `.key`, each at
/// its recorded time divided by `speed` (measured from the first event of any type, on
/// the loop's monotonic clock, so waits do not drift), then `.ended` once the recording's
/// full duration has passed. Autorepeat (value 2) and all other event types are skipped.
/// Every wait is a deadline on the loop's timerfd; at `speed` 0 the keys come in batches of
/// `batch` per loop turn, so a long recording never keeps the socket from being served.
///
/// With `loop`, each pass instead starts over with a fresh timeline and a new
/// `.keyState(KeySet())`: keys held at the end of a pass are released at the boundary,
/// while anything downstream (e.g. a toggle's value in the shift mapper) carries over.
/// `.ended` is never reported then.
public final class ReplayDeviceSource: DeviceSource {
    public let recording: EvemuRecording
    /// Playback rate: 1 = recorded timing, 2 = twice as fast, 0 = no waiting at all.
    public let speed: Double
    public let loop: Bool
    /// What one pass plays, and when.
    let plan: ReplayPlan

    /// Keys reported per loop turn, at most.
    static let batch = 256

    public var device: DeviceDescription { recording.device }

    /// `speed` must be finite and ≥ 0 (checked by precondition; validate user input first).
    public init(recording: EvemuRecording, speed: Double = 1, loop: Bool = false) {
        precondition(speed.isFinite && speed >= 0, "replay speed must be finite and >= 0, got \(speed)")
        self.recording = recording
        self.speed = speed
        self.loop = loop
        self.plan = ReplayPlan(recording: recording, speed: speed)
    }

    public func open(
        on loop: EpollLoop, wanting wanted: KeySet, events: @escaping DeviceEventHandler,
        failed: @escaping DeviceFailureHandler
    ) -> any DeviceReader {
        let reader = ReplayReader(plan: plan, repeating: self.loop, loop: loop, events: events)
        reader.startPass()
        return reader
    }
}

/// One pass of a recording: the key changes it reports and when, as offsets from the
/// pass's start in nanoseconds at the replay speed. Pure: no clock, no loop.
struct ReplayPlan: Equatable {
    struct Key: Equatable {
        var offset: UInt64
        var code: UInt16
        var pressed: Bool
    }

    var keys: [Key] = []
    /// When the pass ends: the recording's last event of any type.
    var length: UInt64 = 0
    /// False at speed 0: nothing waits.
    var timed: Bool

    init(recording: EvemuRecording, speed: Double) {
        timed = speed > 0
        let events = recording.events
        guard let origin = events.first?.timeMicroseconds, let last = events.last else { return }
        func scaled(_ microseconds: Int64) -> UInt64 {
            guard speed > 0, microseconds > 0 else { return 0 }
            let ns = (Double(microseconds) * 1_000 / speed).rounded()
            return ns >= 0x1p62 ? 1 << 62 : UInt64(ns)
        }
        for event in events where event.type == EventType.key && (event.value == 0 || event.value == 1) {
            keys.append(Key(offset: scaled(event.timeMicroseconds - origin), code: event.code, pressed: event.value == 1))
        }
        length = scaled(last.timeMicroseconds - origin)
    }
}

/// Plays a `ReplayPlan` on a loop: one timer at a time, armed for the next key or the end
/// of the pass.
final class ReplayReader: DeviceReader {
    private let plan: ReplayPlan
    private let repeating: Bool
    private let loop: EpollLoop
    private let events: DeviceEventHandler
    private var next = 0
    private var passStart: UInt64 = 0
    private var timer: EpollLoop.Timer?
    private var stopped = false

    init(plan: ReplayPlan, repeating: Bool, loop: EpollLoop, events: @escaping DeviceEventHandler) {
        self.plan = plan
        self.repeating = repeating
        self.loop = loop
        self.events = events
    }

    func stop() {
        stopped = true
        if let timer { loop.cancel(timer) }
        timer = nil
    }

    func startPass() {
        guard !stopped else { return }
        next = 0
        passStart = MonotonicClock.now()
        events(.keyState(KeySet()))
        if repeating && plan.keys.isEmpty && (plan.length == 0 || !plan.timed) {
            return  // nothing to repeat: an idle stick, not a spinning loop
        }
        advance()
    }

    /// Reports what is due (at most a batch), then arms the timer for what comes next.
    private func advance() {
        timer = nil
        var reported = 0
        let now = plan.timed ? MonotonicClock.now() : 0
        while !stopped, next < plan.keys.count {
            let key = plan.keys[next]
            if plan.timed, passStart &+ key.offset > now {
                timer = loop.schedule(at: passStart &+ key.offset) { [self] in advance() }
                return
            }
            if reported == ReplayDeviceSource.batch {
                timer = loop.schedule(in: .zero) { [self] in advance() }
                return
            }
            next += 1
            reported += 1
            events(.key(code: key.code, pressed: key.pressed))
        }
        guard !stopped else { return }
        // A pass lasts as long as the recording, so a loop keeps the recorded rhythm.
        if plan.timed, passStart &+ plan.length > now {
            timer = loop.schedule(at: passStart &+ plan.length) { [self] in advance() }
            return
        }
        if repeating {
            // Through the loop, so a tight loop of passes still lets other work in.
            timer = loop.schedule(in: .zero) { [self] in
                timer = nil
                startPass()
            }
        } else {
            stopped = true
            events(.ended)
        }
    }
}
