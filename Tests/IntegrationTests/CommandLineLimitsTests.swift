import Foundation
import Testing

/// Numbers and paths on the command line that once passed validation and then trapped
/// (or were silently accepted): each is refused up front, with the option named, and the
/// program exits with ArgumentParser's usage status (64), never by a signal.
@Suite struct CommandLineLimitsTests {
    static let usageError: ChildProcess.ExitStatus = .exited(64)

    func bridge(_ arguments: [String]) async throws -> ChildProcess {
        let child = try ChildProcess(executable: try TestBinaries.bridge, arguments: arguments)
        _ = try await child.waitForExit(timeout: .seconds(20))
        try await child.waitForOutputClosed()
        return child
    }

    /// `vkb-bridge arguments` exits with the usage status and a line naming `text`.
    func expectRefused(_ arguments: [String], naming text: String) async throws {
        let child = try await bridge(arguments)
        #expect(child.exitStatus == Self.usageError, "\(child.report())")
        #expect(child.stderr.lines.contains { $0.contains(text) }, "\(child.report())")
    }

    /// The tests' usual config, in `directory`.
    static func writeConfig(in directory: URL) throws -> String {
        let config = directory.appendingPathComponent("c.toml")
        try BridgeProcess.config(port: 9).write(to: config, atomically: true, encoding: .utf8)
        return config.path
    }

    @Test(arguments: [
        (["monitor", "--permission-retry", "1e16"], "--permission-retry"),
        (["probe", "--hold", "1e10"], "--hold"),
        (["probe", "--port", "70000"], "--port"),
        (["probe", "--port=-1"], "--port"),
        (["demo", "--speed", "1e-300"], "--speed"),
    ])
    func outOfRangeNumbersAreRefused(arguments: [String], option: String) async throws {
        try await expectRefused(arguments, naming: option)
    }

    @Test func runTimeoutAndSpeedOutOfRangeAreRefused() async throws {
        let tmp = try TemporaryDirectory()
        let config = try Self.writeConfig(in: tmp.url)
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "r.evemu", in: tmp.url)
        for (extra, option) in [(["--timeout", "1e16"], "--timeout"), (["--speed", "1e-300"], "--speed")] {
            try await expectRefused(["run", "--config", config, "--replay", rec, "--exit-when-delivered"] + extra, naming: option)
        }
    }

    @Test func missingInputFifoIsRefused() async throws {
        let tmp = try TemporaryDirectory()
        let config = try Self.writeConfig(in: tmp.url)
        let missing = tmp.url.appendingPathComponent("no-such-fifo").path
        try await expectRefused(["run", "--config", config, "--input-fifo", missing, "--exit-when-delivered"],
                                naming: "--input-fifo \(missing): No such file or directory")
    }

    @Test func hidrawFifoWithoutItsDescriptorIsRefused() async throws {
        let tmp = try TemporaryDirectory()
        let config = try Self.writeConfig(in: tmp.url)
        let reports = tmp.url.appendingPathComponent("reports").path
        try Data().write(to: URL(fileURLWithPath: reports))
        try await expectRefused(["run", "--config", config, "--hidraw-fifo", reports],
                                naming: "--hidraw-fifo needs --report-descriptor FILE")
        // A descriptor it cannot use is refused like a bad recording: exit 2, the file named.
        let descriptor = tmp.url.appendingPathComponent("rdesc").path
        try Data([0x05, 0x09, 0x19]).write(to: URL(fileURLWithPath: descriptor))
        let child = try await bridge(["run", "--config", config, "--hidraw-fifo", reports, "--report-descriptor", descriptor])
        #expect(child.exitStatus == .exited(2), "\(child.report())")
        #expect(child.stderr.lines == ["\(descriptor): HID report descriptor, byte 2: an item cut short (needs 1 data byte(s))"],
                "\(child.report())")
    }

    /// Waiting out the whole timeout for a recording that no rule takes helps no one.
    @Test func recordingThatMatchesNoDeviceFailsAtOnce() async throws {
        let tmp = try TemporaryDirectory()
        let config = tmp.url.appendingPathComponent("c.toml")
        try """
            [server]
            port = 9

            [[device]]
            id = "other"
            vendor = 0x1234

            [[binding]]
            bit = "shift1"
            button = 20
            """.write(to: config, atomically: true, encoding: .utf8)
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "r.evemu", in: tmp.url)
        let started = ContinuousClock.now
        let child = try await bridge(["run", "--config", config.path, "--replay", rec, "--speed", "0", "--exit-when-delivered", "--timeout", "30"])
        #expect(child.exitStatus == .exited(1), "\(child.report())")
        #expect(ContinuousClock.now - started < .seconds(15), "it waited for the timeout")
        #expect(child.stderr.lines.contains { $0.contains("no [[device]] rule matches the recording (\(rec))") }, "\(child.report())")
    }

    /// Whole-file reads are bounded: /dev/zero never ends, and memory must not run out.
    @Test func endlessFilesAreRefusedBySize() async throws {
        let config = try await bridge(["check-config", "/dev/zero"])
        #expect(config.exitStatus == .exited(2), "\(config.report())")
        #expect(config.stderr.lines == ["/dev/zero: cannot read the config: larger than 1048576 bytes, the limit"], "\(config.report())")

        let tmp = try TemporaryDirectory()
        let run = try await bridge(["run", "--config", try Self.writeConfig(in: tmp.url), "--replay", "/dev/zero", "--exit-when-delivered"])
        #expect(run.exitStatus == .exited(2), "\(run.report())")
        #expect(run.stderr.lines.contains { $0.contains("/dev/zero") && $0.contains("larger than 268435456 bytes") }, "\(run.report())")
    }
}
