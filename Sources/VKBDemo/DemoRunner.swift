import FoundationEssentials
import Glibc
import Logging
import NIOConcurrencyHelpers
import VKBCore
import VKBDaemon
import VKBInput
import VKBSender

/// `vkb-bridge demo`: replays the shipped VKB stick recording into a real
/// `vkb-telemetry-sink` process, kills the sink midway and restarts it on the same
/// port, and prints a timeline showing the restarted sink converge on the stick's state.
public struct DemoRunner: Sendable {
    /// The bindings the demo recording was made for.
    public static let configurationText = """
        [server]
        host = "127.0.0.1"
        port = 0  # replaced by the sink's port

        [[device]]
        id = "stick"
        vendor = 0x231d
        name_contains = "Gladiator"

        [[binding]]
        bit = "shift1"
        button = 20
        mode = "hold"

        [[binding]]
        bit = "shift2"
        button = 21
        mode = "toggle"

        [[binding]]
        bit = "subshift1"
        button = 5

        [[binding]]
        bit = "subshift2"
        button = 6
        """

    public let sinkPath: String
    public let speed: Double
    private let print: @Sendable (String) -> Void

    public init(sinkPath: String, speed: Double = 1, print: @escaping @Sendable (String) -> Void) {
        self.sinkPath = sinkPath
        self.speed = speed
        self.print = print
    }

    /// Runs the demo; returns true when the restarted sink ended with the stick's state.
    public func run() async throws -> Bool {
        let recording = try EvemuRecording(parsing: DemoRecording.text, path: "demo.evemu")
        let timeline = Timeline(print: print)
        let sinks = SinkTracker(timeline: timeline)
        let durationSeconds = Double(recording.durationMicroseconds) / 1e6

        print("""
            vkb-bridge demo: a recorded VKB stick session is replayed through the real shift
            mapper and sender into vkb-telemetry-sink, a stand-in for VKB-Link that prints what
            it receives. A third of the way in, the sink is killed with SIGKILL (a crashed server)
            and restarted on the same port. The bridge notices at once, reconnects by itself, and
            sends the stick's current state first, so the new sink converges without new input.

            time    who     what
            """)
        timeline.say("demo", "replaying \(recording.device.name.trimmingCharacters()) (\(recording.device.usbID)), \(Timeline.seconds(durationSeconds)) at speed \(speed)")
        let first = try sinks.start(path: sinkPath, port: 0)
        guard let port = await sinks.waitForPort(of: first) else {
            timeline.say("demo", "the sink did not start; is \(sinkPath) built?")
            return false
        }

        var config = try ConfigurationLoader.parse(
            Self.configurationText.replacing("port = 0  # replaced by the sink's port", with: "port = \(port)"),
            file: "<demo config>")
        config.sender.port = port
        for b in config.bindings {
            let button = VKBButton.button(forCode: b.code).map { "button \($0)" } ?? EvdevCodeNames.keyName(b.code)
            timeline.say("demo", "binding \(b.bit) ← \(button) (\(b.mode))")
        }

        let source = ReplayDeviceSource(recording: recording, speed: speed)
        var logger = Logger(label: "vkb-bridge.demo")
        logger.logLevel = .critical  // the timeline tells the story
        let service = BridgeService(
            configuration: config, configPath: nil, watcher: ReplayDeviceWatcher(sources: [source]),
            completion: .whenDelivered(timeoutSeconds: durationSeconds / max(speed, 0.001) + 15),
            logger: logger,
            observe: { timeline.stick($0) },
            observeSender: { timeline.sender($0) })

        let crash = Task {
            // Just after shift2 goes on; subshift1 is pressed while the sink is down.
            let killAfter = speed > 0 ? durationSeconds * 0.33 / speed : 0
            try await Task.sleep(for: .milliseconds(Int(killAfter * 1000)))
            timeline.say("demo", "killing sink #\(first.number) with SIGKILL (a crashed server)")
            first.process.send(SIGKILL)
            first.process.wait()
            try await Task.sleep(for: .milliseconds(Int(500 / max(speed, 0.001))))
            timeline.say("demo", "restarting the sink on the same port \(port)")
            let second = try sinks.start(path: sinkPath, port: port)
            _ = await sinks.waitForPort(of: second)
        }

        var delivered = true
        do {
            try await service.run()
        } catch {
            timeline.say("demo", "\(error)")
            delivered = false
        }
        try? await crash.value

        let truth = service.finalState
        let converged = await sinks.waitForLastSink(toReceive: truth)
        let last = sinks.last
        last?.process.send(SIGTERM)
        last?.process.wait()
        let seen = last.flatMap { sinks.lastState(of: $0) }
        timeline.say("demo", "stick state \(truth); sink #\(last?.number ?? 0) last received \(seen.map(\.description) ?? "nothing")")
        print(delivered && converged
            ? "converged: the restarted sink holds the stick's true state"
            : "NOT converged: the restarted sink does not hold the stick's state")
        return delivered && converged
    }
}

/// Prints timestamped lines relative to the demo's start.
final class Timeline: Sendable {
    private let start = ContinuousClock.now
    private let print: @Sendable (String) -> Void
    private let lock = NIOLock()

    init(print: @escaping @Sendable (String) -> Void) {
        self.print = print
    }

    func say(_ who: String, _ text: String) {
        let elapsed = ContinuousClock.now - start
        let ms = elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000
        let stamp = "\(ms / 1000).\(String(repeating: "0", count: 3 - String(ms % 1000).count))\(ms % 1000)s"
        let padded = stamp.padding(8) + who.padding(8)
        lock.withLock { print(padded + text) }
    }

    func stick(_ observation: Bridge.Observation) {
        switch observation {
        case .attached(_, let device, let label):
            say("stick", "attached \(label ?? "device"): \(device.name.trimmingCharacters())")
        case .key(_, _, let code, let pressed, let state):
            let button = VKBButton.button(forCode: code).map { "button \($0)" } ?? EvdevCodeNames.keyName(code)
            say("stick", "\(button) \(pressed ? "down" : "up")".padding(18) + "→ \(state)")
        case .ended:
            say("stick", "recording ended; the stick keeps its last state")
        case .detached, .ignored, .keyState, .enumerated:
            break
        }
    }

    func sender(_ event: SenderEvent) {
        switch event {
        case .connectionState(let state): say("bridge", "\(state)")
        case .unacknowledgedOnDeadConnection(let packets, _):
            say("bridge", "\(packets) packet(s) were never acknowledged by the dead server")
        case .outageEnded(let seconds, let attempts):
            say("bridge", "server back after \(Timeline.seconds(seconds)), \(attempts) failed attempt(s); current state sent first")
        case .outageBegan, .outageContinues, .queueOverflow, .attemptFailed:
            break
        }
    }

    static func seconds(_ s: Double) -> String {
        let ms = Int((s * 1000).rounded())
        return "\(ms / 1000).\(String(repeating: "0", count: 3 - String(ms % 1000).count))\(ms % 1000) s"
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}

/// The sink processes the demo started and what each received.
final class SinkTracker: Sendable {
    final class Sink: Sendable {
        let number: Int
        let process: SpawnedProcess
        init(number: Int, process: SpawnedProcess) {
            self.number = number
            self.process = process
        }
    }

    private struct Record {
        var port: Int?
        var lastState: ShiftState?
    }

    private struct Packet: Decodable {
        let event: String
        let conn: Int?
        let shift: UInt8?
        let subshift: UInt8?
    }

    private let timeline: Timeline
    private let records = NIOLockedValueBox<[Int: Record]>([:])
    private let sinks = NIOLockedValueBox<[Sink]>([])

    init(timeline: Timeline) {
        self.timeline = timeline
    }

    var last: Sink? { sinks.withLockedValue { $0.last } }

    func lastState(of sink: Sink) -> ShiftState? {
        records.withLockedValue { $0[sink.number]?.lastState }
    }

    func start(path: String, port: Int) throws -> Sink {
        let number = sinks.withLockedValue { $0.count + 1 }
        records.withLockedValue { $0[number] = Record() }
        let process = try SpawnedProcess(path: path, arguments: ["--listen", "127.0.0.1:\(port)"]) { [self] stream, line in
            stream == 1 ? packetLine(line, sink: number) : statusLine(line, sink: number)
        }
        let sink = Sink(number: number, process: process)
        sinks.withLockedValue { $0.append(sink) }
        return sink
    }

    private func statusLine(_ line: String, sink: Int) {
        let marker = "listening on "
        guard let range = line.firstRange(of: marker) else {
            timeline.say("sink #\(sink)", line)
            return
        }
        let address = line[range.upperBound...]
        if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
            records.withLockedValue { $0[sink]?.port = port }
            timeline.say("sink #\(sink)", "listening on \(address)")
        }
    }

    private func packetLine(_ line: String, sink: Int) {
        guard let packet = try? JSONDecoder().decode(Packet.self, from: Data(line.utf8)) else { return }
        switch packet.event {
        case "packet":
            let state = ShiftState(shift: packet.shift ?? 0, subshift: packet.subshift ?? 0)
            let first = records.withLockedValue { r in
                defer { r[sink]?.lastState = state }
                return r[sink]?.lastState == nil
            }
            let note = first && sink > 1 ? "   ← the current state, sent first on the new connection" : ""
            timeline.say("sink #\(sink)", "received ".padding(18) + "\(state)" + note)
        case "connect":
            timeline.say("sink #\(sink)", "accepted connection \(packet.conn ?? 0)")
        default:
            break
        }
    }

    func waitForPort(of sink: Sink) async -> Int? {
        for _ in 0..<500 {
            if let port = records.withLockedValue({ $0[sink.number]?.port }) { return port }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    func waitForLastSink(toReceive state: ShiftState) async -> Bool {
        for _ in 0..<300 {
            if let sink = last, lastState(of: sink) == state { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
