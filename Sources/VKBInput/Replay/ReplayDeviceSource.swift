import VKBCore

/// A device played back from an evemu recording, standing in for an evdev node.
///
/// `run` reports `.keyState(KeySet())` first (a recording starts with every key
/// released), then each `EV_KEY` press (value 1) and release (value 0) as `.key`, each at
/// its recorded time divided by `speed` (measured from the first event of any type, on a
/// monotonic clock, so waits do not drift). Autorepeat (value 2) and all other event
/// types are skipped without waiting. After the last event (and the recording's full
/// duration) it reports `.ended` and returns.
///
/// With `loop`, each pass instead starts over at once with a fresh timeline and a new
/// `.keyState(KeySet())`: keys held at the end of a pass are released at the boundary,
/// while anything downstream (e.g. a toggle's value in the shift mapper) carries over.
/// `.ended` is never reported then; `run` returns only after `stop()`.
///
/// `stop()` wakes a pending wait at once; `run` then returns without `.ended`. A stopped
/// source stays stopped.
public final class ReplayDeviceSource: DeviceSource {
    public let recording: EvemuRecording
    /// Playback rate: 1 = recorded timing, 2 = twice as fast, 0 = no waiting at all.
    public let speed: Double
    public let loop: Bool

    private let clock: any ReplayClock
    private let stopSignal = StopSignal()

    public var device: DeviceDescription { recording.device }

    /// `speed` must be finite and ≥ 0 (checked by precondition; validate user input first).
    public convenience init(recording: EvemuRecording, speed: Double = 1, loop: Bool = false) {
        self.init(recording: recording, speed: speed, loop: loop, clock: MonotonicReplayClock())
    }

    init(recording: EvemuRecording, speed: Double, loop: Bool, clock: any ReplayClock) {
        precondition(speed.isFinite && speed >= 0, "replay speed must be finite and >= 0, got \(speed)")
        self.recording = recording
        self.speed = speed
        self.loop = loop
        self.clock = clock
    }

    public func run(_ handler: @escaping DeviceEventHandler) throws {
        guard !stopSignal.isStopped else { return }
        if loop && recording.events.isEmpty {
            // Nothing to repeat: behave like an idle stick instead of spinning.
            handler(.keyState(KeySet()))
            stopSignal.waitUntilStopped()
            return
        }
        repeat {
            handler(.keyState(KeySet()))
            guard playPass(handler) else { return }
        } while loop
        handler(.ended)
    }

    public func stop() {
        stopSignal.stop()
    }

    /// Plays the recording once. Returns `false` if stopped on the way.
    private func playPass(_ handler: DeviceEventHandler) -> Bool {
        let events = recording.events
        guard let origin = events.first?.timeMicroseconds, let last = events.last else {
            return !stopSignal.isStopped
        }
        let timed = speed > 0
        let start = timed ? clock.now() : 0
        var skipped = 0
        for event in events {
            guard event.type == EventType.key, event.value == 0 || event.value == 1 else {
                // Axis motion is most of a recording: skip it without locking, but still
                // notice stop() during a long untimed pass.
                skipped &+= 1
                if skipped & 0xFFF == 0 && stopSignal.isStopped { return false }
                continue
            }
            if timed && !wait(from: start, until: event.timeMicroseconds - origin) { return false }
            if stopSignal.isStopped { return false }
            handler(.key(code: event.code, pressed: event.value == 1))
        }
        // A pass lasts as long as the recording, so a loop keeps the recorded rhythm.
        if timed && !wait(from: start, until: last.timeMicroseconds - origin) { return false }
        return !stopSignal.isStopped
    }

    /// Waits until `offset` µs of recording time (scaled by `speed`) after `start`.
    /// Returns `false` if stopped.
    private func wait(from start: UInt64, until offset: Int64) -> Bool {
        guard offset > 0 else { return true }
        let deadline = start &+ scaledNanoseconds(offset)
        while true {
            let now = clock.now()
            guard now < deadline else { return true }
            guard clock.sleep(nanoseconds: deadline - now, unless: stopSignal) else { return false }
        }
    }

    /// Recording microseconds → wall-clock nanoseconds at this speed.
    func scaledNanoseconds(_ microseconds: Int64) -> UInt64 {
        let ns = (Double(microseconds) * 1_000 / speed).rounded()
        return ns >= 0x1p62 ? 1 << 62 : UInt64(ns)
    }
}
