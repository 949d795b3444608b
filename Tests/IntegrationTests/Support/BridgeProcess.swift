import Foundation

/// `vkb-bridge run` as a real process, with a config written for a test.
final class BridgeProcess: Sendable {
    /// The config used by these tests: shift1 ← button 20 (hold), shift2 ← button 21
    /// (toggle), subshift1 ← button 5 (hold), subshift2 ← button 6 (hold).
    static func config(port: Int, host: String = "127.0.0.1", extra: String = "") -> String {
        """
        [server]
        host = "\(host)"
        port = \(port)
        \(extra)

        [[device]]
        id = "stick"
        vendor = 0x231d
        name_contains = "Gladiator"

        [[binding]]
        bit = "shift1"
        button = 20

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
    }

    let child: ChildProcess
    let directory: URL

    /// Starts `vkb-bridge run --config <written config> <arguments>`.
    init(config: String, arguments: [String], directory: URL) throws {
        self.directory = directory
        let configURL = directory.appendingPathComponent("bridge-\(UUID().uuidString).toml")
        try config.write(to: configURL, atomically: true, encoding: .utf8)
        child = try ChildProcess(
            executable: try TestBinaries.bridge,
            arguments: ["run", "--config", configURL.path, "--log-level", "debug"] + arguments)
    }

    /// Waits for the bridge to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(30)) async throws -> ChildProcess.ExitStatus {
        try await child.waitForExit(timeout: timeout)
    }

    func stop() async throws {
        try await child.stop()
    }
}

/// A fresh temporary directory, removed when the test's scope ends.
struct TemporaryDirectory: ~Copyable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-it-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}
