import Foundation
import NIOConcurrencyHelpers
import Testing
import VKBCore

/// `vkb-telemetry-sink` run as a real process, its JSON lines decoded into `SinkRecord`s.
///
/// Starts on port 0 (a free port) unless told otherwise; `restart()` starts a new process
/// on the same port, like a VKB-Link that was restarted. Records of every run are kept;
/// `lastState` looks at the current run only, because a restarted server knows nothing.
///
/// The record accessors show the lines captured so far. The sink writes a line before it
/// acts on the connection (chatter, close, reset), but the harness reads its stdout on
/// another thread: after anything the client observes, wait (`waitForPackets`,
/// `waitFor`, …) instead of reading the records straight away.
///
/// ```swift
/// let sink = try await SinkProcess.start()
/// // … point the bridge at sink.address …
/// try await sink.waitForState(ShiftState(shift: 1))
/// try await sink.kill()
/// try await sink.restart()
/// try await sink.waitForPackets(1, run: 1)
/// ```
final class SinkProcess: Sendable {
    /// Command-line options of the sink.
    struct Options: Sendable {
        /// Host to listen on (no brackets for IPv6: `::1`).
        var host = "127.0.0.1"
        /// 0 picks a free port.
        var port = 0
        /// `--close-after N`.
        var closeAfter: Int?
        /// `--reset-after N`.
        var resetAfter: Int?
        /// `--stall`.
        var stall = false
        /// `--chatter`.
        var chatter = false
        /// `--header`, when not the default.
        var header: UInt8?
        /// `--command`, when not the default.
        var command: UInt8?
        /// `--ready-file PATH`.
        var readyFile: String?
        /// Appended as they are.
        var extraArguments: [String] = []
        /// Extra environment variables.
        var environment: [String: String] = [:]

        /// `HOST:PORT` with brackets around an IPv6 host.
        var listenArgument: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

        /// The full argument list.
        var arguments: [String] {
            var args = ["--listen", listenArgument]
            if let closeAfter { args += ["--close-after", "\(closeAfter)"] }
            if let resetAfter { args += ["--reset-after", "\(resetAfter)"] }
            if stall { args.append("--stall") }
            if chatter { args.append("--chatter") }
            if let header { args += ["--header", "\(header)"] }
            if let command { args += ["--command", "\(command)"] }
            if let readyFile { args += ["--ready-file", readyFile] }
            return args + extraArguments
        }
    }

    private struct State {
        var options: Options
        var port: Int
        var runs: [ChildProcess]
        var records: [[SinkRecord]]
        var parsedLines: [Int]
    }

    private let state: NIOLockedValueBox<State>

    private init(options: Options, child: ChildProcess, port: Int) {
        state = NIOLockedValueBox(State(options: options, port: port, runs: [child], records: [[]], parsedLines: [0]))
    }

    /// Starts a sink and waits until it listens.
    /// - Throws: `HarnessError` if it exits or does not print its ready line in time.
    static func start(_ options: Options = Options(), timeout: Duration = .seconds(10)) async throws -> SinkProcess {
        let (child, port) = try await launch(options, timeout: timeout)
        return SinkProcess(options: options, child: child, port: port)
    }

    // MARK: Where it listens

    /// The port actually bound; the same across restarts.
    var port: Int { state.withLockedValue { $0.port } }

    /// Host it listens on (`127.0.0.1`, `::1`).
    var host: String { state.withLockedValue { $0.options.host } }

    /// `HOST:PORT` as the bridge's config takes it (`[::1]:PORT` for IPv6).
    var address: String {
        state.withLockedValue { state in
            var options = state.options
            options.port = state.port
            return options.listenArgument
        }
    }

    /// The current process.
    var process: ChildProcess { state.withLockedValue { $0.runs.last! } }

    /// Index of the current process: 0, then +1 per restart.
    var run: Int { state.withLockedValue { $0.runs.count - 1 } }

    // MARK: What it received

    /// Every record of every run, in order.
    var records: [SinkRecord] { refreshed { $0.records.flatMap { $0 } } }

    /// Records of one run.
    func records(run: Int) -> [SinkRecord] { refreshed { run < $0.records.count ? $0.records[run] : [] } }

    /// Every packet of every run, in order.
    var packets: [SinkPacket] { Self.packets(in: records) }

    /// Packets of one run.
    func packets(run: Int) -> [SinkPacket] { Self.packets(in: records(run: run)) }

    /// States of every packet of every run, in order.
    var states: [ShiftState] { packets.map(\.state) }

    /// State of the last packet the current process received; `nil` if none yet.
    var lastState: ShiftState? { packets(run: run).last?.state }

    /// `malformed` records of every run.
    var malformed: [SinkRecord] { records.filter { if case .malformed = $0.event { true } else { false } } }

    /// `connect` records of every run.
    var connects: [SinkRecord] { records.filter { if case .connect = $0.event { true } else { false } } }

    /// `disconnect` records of every run.
    var disconnects: [SinkRecord] { records.filter { if case .disconnect = $0.event { true } else { false } } }

    // MARK: Waiting

    /// Polls `condition` until it holds.
    /// - Throws: `HarnessError` on timeout, showing the sink's recent output.
    func waitFor(
        _ what: String,
        timeout: Duration = .seconds(10),
        _ condition: (SinkProcess) throws -> Bool
    ) async throws {
        try await eventually(what, timeout: timeout, context: report) { try condition(self) }
    }

    /// Waits for the first record (of any run) that satisfies `predicate`, and returns it.
    @discardableResult
    func waitForRecord(
        _ what: String,
        timeout: Duration = .seconds(10),
        where predicate: (SinkRecord) -> Bool
    ) async throws -> SinkRecord {
        var found: SinkRecord?
        try await waitFor(what, timeout: timeout) { sink in
            found = sink.records.first(where: predicate)
            return found != nil
        }
        return found!
    }

    /// Waits until at least `count` packets arrived (in `run`, or in all runs); returns them all.
    @discardableResult
    func waitForPackets(_ count: Int, run: Int? = nil, timeout: Duration = .seconds(10)) async throws -> [SinkPacket] {
        var packets: [SinkPacket] = []
        let scope = run.map { " in run \($0)" } ?? ""
        try await waitFor("\(count) packet(s)\(scope)", timeout: timeout) { sink in
            packets = run.map { sink.packets(run: $0) } ?? sink.packets
            return packets.count >= count
        }
        return packets
    }

    /// Waits until the current process's last packet carries `expected`.
    func waitForState(_ expected: ShiftState, timeout: Duration = .seconds(10)) async throws {
        try await waitFor("last state \(expected)", timeout: timeout) { $0.lastState == expected }
    }

    // MARK: Life cycle

    /// SIGTERM; waits for the exit. A clean stop exits 0 after closing every connection.
    @discardableResult
    func terminate(timeout: Duration = .seconds(10)) async throws -> ChildProcess.ExitStatus {
        let child = process
        child.terminate()
        let status = try await child.waitForExit(timeout: timeout)
        try await child.waitForOutputClosed(timeout: timeout)
        return status
    }

    /// SIGKILL, like a crash: the kernel closes its sockets; waits for the exit.
    @discardableResult
    func kill(timeout: Duration = .seconds(10)) async throws -> ChildProcess.ExitStatus {
        let child = process
        child.kill()
        let status = try await child.waitForExit(timeout: timeout)
        try await child.waitForOutputClosed(timeout: timeout)
        return status
    }

    /// Starts a new process on the same port (SIGTERM first if the current one still runs).
    /// Retries while the port is momentarily in use, up to `timeout`.
    func restart(timeout: Duration = .seconds(10)) async throws {
        if process.isRunning { try await terminate(timeout: timeout) }
        var options = state.withLockedValue { $0.options }
        options.port = port
        let deadline = ContinuousClock.now + timeout
        while true {
            do {
                let (child, _) = try await Self.launch(options, timeout: timeout)
                state.withLockedValue { state in
                    state.runs.append(child)
                    state.records.append([])
                    state.parsedLines.append(0)
                }
                return
            } catch let failure as LaunchFailure where failure.addressInUse && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Kills the current process if it still runs; for test cleanup (deinit does it too).
    func stop() async throws {
        try await process.stop()
    }

    /// Recent output and records, for failure messages.
    func report() -> String {
        let records = self.records.suffix(30).map { "  \($0)" }.joined(separator: "\n")
        return process.report(includingStdout: false) + "\nrecords (last 30):\n" + (records.isEmpty ? "  (none)" : records)
    }

    // MARK: Private

    /// Why a launch failed; `addressInUse` lets `restart()` retry.
    private struct LaunchFailure: Error, CustomStringConvertible {
        let description: String
        let addressInUse: Bool
    }

    private static func launch(_ options: Options, timeout: Duration) async throws -> (ChildProcess, Int) {
        let child = try ChildProcess(
            executable: try TestBinaries.sink,
            arguments: options.arguments,
            environment: options.environment
        )
        let ready: String
        do {
            ready = try await child.waitForLine(on: .stderr, containing: "listening on ", timeout: timeout).line
        } catch {
            try? await child.stop()
            let inUse = child.stderr.lines.contains { $0.contains("Address already in use") }
            throw LaunchFailure(description: "\(error)", addressInUse: inUse)
        }
        guard let colon = ready.lastIndex(of: ":"), let port = Int(ready[ready.index(after: colon)...]) else {
            throw HarnessError("cannot read the port in the sink's ready line: \(ready)")
        }
        return (child, port)
    }

    private static func packets(in records: [SinkRecord]) -> [SinkPacket] {
        records.compactMap { record in
            guard case .packet(let state, let raw) = record.event else { return nil }
            return SinkPacket(run: record.run, conn: record.conn, time: record.time, state: state, raw: raw)
        }
    }

    /// Decodes lines written since the last call, then reads the state.
    private func refreshed<R>(_ body: (State) -> R) -> R {
        state.withLockedValue { state in
            for (run, child) in state.runs.enumerated() {
                let lines = child.stdout.lines(from: state.parsedLines[run])
                for line in lines {
                    let record = SinkRecord(line: line, run: run)
                    if case .unparsable(let problem) = record.event {
                        Issue.record("vkb-telemetry-sink wrote a line the harness cannot read (\(problem)): \(line)")
                    }
                    state.records[run].append(record)
                }
                state.parsedLines[run] += lines.count
            }
            return body(state)
        }
    }
}
