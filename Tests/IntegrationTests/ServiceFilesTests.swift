import Foundation
import Testing

/// The systemd units as systemd's own tools judge them.
@Suite struct ServiceFilesTests {
    typealias Support = ServiceTestSupport

    static let canAnalyze = Support.haveTools("systemd-analyze") || Support.inCI

    var systemUnit: URL { Support.packageRoot.appendingPathComponent("systemd/vkb-bridge.service") }
    var userUnit: URL { Support.packageRoot.appendingPathComponent("systemd/user/vkb-bridge.service") }

    /// "→ Overall exposure level for vkb-bridge.service: 1.5 OK 🙂" → 15 (tenths).
    static func exposureTenths(_ output: String) -> Int? {
        guard let match = output.firstMatch(of: #/Overall exposure level for \S+: (\d+)\.(\d)\b/#),
            let whole = Int(match.1), let tenth = Int(match.2)
        else { return nil }
        return whole * 10 + tenth
    }

    @Test(.enabled(if: canAnalyze, "needs systemd-analyze"))
    func systemUnitExposureIsAtMostOnePointFive() throws {
        let result = try Support.run("systemd-analyze", ["security", "--offline=yes", systemUnit.path])
        let tenths = try #require(Self.exposureTenths(result.stdout), "no score in: \(result.stdout)")
        #expect(tenths <= 15, "exposure \(Double(tenths) / 10), want ≤ 1.5:\n\(result.stdout)")
    }

    /// `verify` checks that ExecStart's binary exists, so the unit is verified as a copy whose
    /// ExecStart names the binary this build made; everything else is the file as shipped.
    /// `--man=no`: the man page is checked by the install test, where it exists.
    @Test(.enabled(if: canAnalyze, "needs systemd-analyze"))
    func systemUnitVerifiesWithoutWarnings() throws {
        let result = try verifyCopy(of: systemUnit, user: false)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "systemd-analyze verify: \(result.stderr)")
    }

    @Test(.enabled(if: canAnalyze, "needs systemd-analyze"))
    func userUnitVerifiesWithoutWarnings() throws {
        let result = try verifyCopy(of: userUnit, user: true)
        #expect(result.status == 0)
        #expect(result.stderr.isEmpty, "systemd-analyze --user verify: \(result.stderr)")
    }

    /// A unit with a misspelt key must make the verify check fail, or the check proves nothing.
    @Test(.enabled(if: canAnalyze, "needs systemd-analyze"))
    func verifyCatchesAnUnknownKey() throws {
        let broken = try Support.replacing(
            "NotifyAccess=main", with: "NotifyAcess=main", in: String(contentsOf: systemUnit, encoding: .utf8))
        let result = try verifyCopy(of: systemUnit, user: false, text: broken)
        #expect(result.stderr.contains("NotifyAcess"), "stderr: \(result.stderr)")
    }

    @Test func unitsRunTheDaemonAsNotifyServiceWithReloadAndWatchdog() throws {
        for unit in [systemUnit, userUnit] {
            let lines = Set(try String(contentsOf: unit, encoding: .utf8).split(separator: "\n").map(String.init))
            for wanted in [
                "Type=notify", "NotifyAccess=main", "ExecReload=/bin/kill -HUP $MAINPID", "Restart=on-failure",
                "WatchdogSec=30s",
            ] {
                #expect(lines.contains(wanted), "\(unit.lastPathComponent) lacks \(wanted)")
            }
        }
        let system = try String(contentsOf: systemUnit, encoding: .utf8)
        #expect(system.contains("ExecStart=/usr/bin/vkb-bridge run --config /etc/vkb-bridge/config.toml\n"))
        #expect(system.contains("SupplementaryGroups=input\n"))
        #expect(system.contains("DeviceAllow=char-input r\n"))
        #expect(system.contains("DeviceAllow=char-hidraw r\n"))
        let user = try String(contentsOf: userUnit, encoding: .utf8)
        #expect(user.contains("ExecStart=/usr/bin/vkb-bridge run --config %E/vkb-bridge/config.toml\n"))
    }

    /// The file `make install` puts in /etc must be one the daemon accepts.
    @Test func exampleConfigPassesCheckConfig() throws {
        let binary = Support.binDirectory.appendingPathComponent("vkb-bridge").path
        let example = Support.packageRoot.appendingPathComponent("examples/config.toml").path
        let result = try Support.run(binary, ["check-config", example])
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        #expect(result.stdout.contains("examples/config.toml: OK"))
    }

    func verifyCopy(of unit: URL, user: Bool, text: String? = nil) throws -> Support.Output {
        let directory = try Support.temporaryDirectory("vkb-verify")
        defer { try? FileManager.default.removeItem(at: directory) }
        let binary = Support.binDirectory.appendingPathComponent("vkb-bridge").path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "build vkb-bridge first")
        let original = try text ?? String(contentsOf: unit, encoding: .utf8)
        let copy = directory.appendingPathComponent("vkb-bridge.service")
        try Support.replacing("ExecStart=/usr/bin/vkb-bridge ", with: "ExecStart=\(binary) ", in: original)
            .write(to: copy, atomically: true, encoding: .utf8)
        if user {
            // A user manager needs a runtime directory, even for verify.
            let runtime = directory.appendingPathComponent("runtime")
            try FileManager.default.createDirectory(at: runtime, withIntermediateDirectories: true)
            return try Support.run(
                "systemd-analyze", ["--user", "verify", "--man=no", copy.path],
                environment: ["XDG_RUNTIME_DIR": runtime.path])
        }
        return try Support.run("systemd-analyze", ["verify", "--man=no", copy.path])
    }
}
