import Foundation
import Glibc
import Testing

@testable import VKBDaemon

/// A config is parsed in a child process first: how the child ends decides. The children
/// here are scripts standing in for a parser that crashes, hangs, or cannot be started;
/// the real program's child is run by `check-config` in the integration tests.
@Suite struct ConfigurationCheckerTests {
    static let good = Array("[server]\nport = 50995\n".utf8)

    /// An executable script in a fresh directory; `remove()` it when done.
    struct Script {
        let directory: URL
        let path: String

        init(_ body: String) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-checker-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            path = directory.appendingPathComponent("child").path
            let source = directory.appendingPathComponent("child.txt").path
            try "#!/bin/sh\n\(body)\n".write(toFile: source, atomically: false, encoding: .utf8)
            // The executable is written by another process: a descriptor open for writing
            // in this one could be inherited by a child another test forks meanwhile, and
            // exec would then fail with ETXTBSY.
            let install = try Process.run(URL(fileURLWithPath: "/usr/bin/install"), arguments: ["-m", "755", source, path])
            install.waitUntilExit()
            try #require(install.terminationStatus == 0)
        }

        func remove() { try? FileManager.default.removeItem(at: directory) }
    }

    @Test func aChildKilledByASignalRefusesTheFileAndNamesIt() throws {
        // Reads part of the config, then dies as toml++'s failed assertion does.
        let script = try Script("head -c 3 >/dev/null; kill -ABRT $$")
        defer { script.remove() }
        let checker = ConfigurationChecker(executable: script.path)
        let error = try #require(throws: ConfigurationError.self) { try checker.load(Self.good, file: "/etc/vkb.toml") }
        #expect(error.diagnostics.count == 1)
        #expect(error.description.hasPrefix("/etc/vkb.toml: the TOML parser crashed on this file (SIGABRT in a child process"))
        #expect(!error.description.contains("\n"))
    }

    @Test func aChildThatExitsLetsThisProcessParseAndReport() throws {
        // Whatever it says: this process parses the same bytes and has the last word.
        let script = try Script("cat >/dev/null; exit 2")
        defer { script.remove() }
        let checker = ConfigurationChecker(executable: script.path)
        let loaded = try checker.load(Self.good, file: "c.toml")
        #expect(loaded.configuration.sender.port == 50995)
        #expect(loaded.unchecked == nil)
        #expect(throws: ConfigurationError.self) { try checker.load(Array("[server\n".utf8), file: "c.toml") }
    }

    @Test func aChildThatDiesBeforeReadingCostsThisProcessNothing() throws {
        // A megabyte into a pipe nobody reads: EPIPE, and no SIGPIPE for this process.
        let big = Self.good + Array(repeating: UInt8(ascii: "#"), count: ConfigurationLoader.maxFileBytes - Self.good.count)
        let script = try Script("exec 0<&-; kill -SEGV $$")
        defer { script.remove() }
        let checker = ConfigurationChecker(executable: script.path)
        let error = try #require(throws: ConfigurationError.self) { try checker.load(big, file: "big.toml") }
        #expect(error.description.contains("(SIGSEGV in a child process"))
    }

    @Test func aChildThatHangsIsKilledAtTheTimeout() throws {
        let script = try Script("exec sleep 30")
        defer { script.remove() }
        let checker = ConfigurationChecker(executable: script.path, timeout: .milliseconds(200))
        let start = ContinuousClock.now
        let error = try #require(throws: ConfigurationError.self) { try checker.load(Self.good, file: "c.toml") }
        #expect(error.description.contains("did not finish within"))
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test func noChildAtAllStillLoadsAndSaysSo() throws {
        let checker = ConfigurationChecker(executable: "/nonexistent/vkb-bridge")
        let loaded = try checker.load(Self.good, file: "c.toml")
        #expect(loaded.configuration.sender.port == 50995)
        #expect(loaded.unchecked?.contains("cannot start /nonexistent/vkb-bridge") == true)
    }
}
