import Foundation
import Testing

/// `make install` / `make uninstall` into a temporary DESTDIR, from the binaries this test
/// run was built with (NO_BUILD=1: a SwiftPM build cannot run while `swift test` holds the
/// build directory). `make test` generates the man pages first (`make man CONFIGURATION=debug`).
@Suite struct InstallTests {
    typealias Support = ServiceTestSupport

    static var generated: URL {
        Support.packageRoot.appendingPathComponent(".build/generated/\(Support.configuration)")
    }
    static let manPagesMade = FileManager.default.fileExists(
        atPath: generated.appendingPathComponent("man/vkb-bridge.1").path)
    static let canRun = (manPagesMade && Support.haveTools("make")) || Support.inCI

    static let expectedFiles: Set<String> = [
        "etc/vkb-bridge/config.toml",
        "usr/bin/vkb-bridge",
        "usr/bin/vkb-telemetry-sink",
        "usr/lib/systemd/system/vkb-bridge.service",
        "usr/lib/systemd/user/vkb-bridge.service",
        "usr/lib/udev/rules.d/70-vkb-bridge.rules",
        "usr/share/bash-completion/completions/vkb-bridge",
        "usr/share/bash-completion/completions/vkb-telemetry-sink",
        "usr/share/doc/vkb-bridge/config.toml.example",
        "usr/share/fish/vendor_completions.d/vkb-bridge.fish",
        "usr/share/fish/vendor_completions.d/vkb-telemetry-sink.fish",
        "usr/share/man/man1/vkb-bridge.1",
        "usr/share/man/man1/vkb-telemetry-sink.1",
        "usr/share/zsh/site-functions/_vkb-bridge",
        "usr/share/zsh/site-functions/_vkb-telemetry-sink",
    ]

    /// Regular files below `root`, relative.
    static func files(under root: URL) -> Set<String> {
        let base = root.resolvingSymlinksInPath().path + "/"
        var found: Set<String> = []
        let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else { continue }
            found.insert(String(url.resolvingSymlinksInPath().path.dropFirst(base.count)))
        }
        return found
    }

    func make(_ target: String, destdir: URL, _ extra: [String] = []) throws -> Support.Output {
        let generated = Self.generated.path
        let result = try Support.run(
            "make",
            ["--no-print-directory", target, "NO_BUILD=1", "CONFIGURATION=\(Support.configuration)",
             "PREFIX=/usr", "DESTDIR=\(destdir.path)", "GENERATED=\(generated)"] + extra)
        #expect(result.status == 0, "make \(target): \(result.stderr)")
        return result
    }

    @Test(.enabled(if: canRun, "run `make man CONFIGURATION=debug` first (make test does)"))
    func installPutsEverythingInPlaceKeepsTheConfigAndUninstallRemovesIt() throws {
        let destdir = try Support.temporaryDirectory("vkb-destdir")
        defer { try? FileManager.default.removeItem(at: destdir) }
        // Completion scripts come from the built binaries: no SwiftPM involved.
        _ = try Support.run(
            "make", ["--no-print-directory", "completions", "CONFIGURATION=\(Support.configuration)",
                     "GENERATED=\(Self.generated.path)"])

        _ = try make("install", destdir: destdir)
        #expect(Self.files(under: destdir) == Self.expectedFiles)

        let fm = FileManager.default
        let binary = destdir.appendingPathComponent("usr/bin/vkb-bridge")
        #expect(fm.isExecutableFile(atPath: binary.path))
        #expect(try Support.run(binary.path, ["--help"]).stdout.contains("USAGE: vkb-bridge"))
        let unit = try String(contentsOf: destdir.appendingPathComponent("usr/lib/systemd/system/vkb-bridge.service"), encoding: .utf8)
        #expect(unit.contains("ExecStart=/usr/bin/vkb-bridge run --config /etc/vkb-bridge/config.toml\n"))
        let man = try String(contentsOf: destdir.appendingPathComponent("usr/share/man/man1/vkb-bridge.1"), encoding: .utf8)
        #expect(man.contains(".Dt VKB-BRIDGE 1"))
        let bash = try String(contentsOf: destdir.appendingPathComponent("usr/share/bash-completion/completions/vkb-bridge"), encoding: .utf8)
        #expect(bash.contains("-F _vkb-bridge vkb-bridge"))
        let example = try String(contentsOf: Support.packageRoot.appendingPathComponent("examples/config.toml"), encoding: .utf8)
        let config = destdir.appendingPathComponent("etc/vkb-bridge/config.toml")
        #expect(try String(contentsOf: config, encoding: .utf8) == example)

        // The installed unit, as systemd sees it: binary and man page from the installed tree.
        try verifyInstalledUnit(destdir: destdir)

        // A second install never replaces an edited config.
        let edited = example + "\n# edited by the user\n"
        try edited.write(to: config, atomically: true, encoding: .utf8)
        let again = try make("install", destdir: destdir)
        #expect(again.stdout.contains("keeping existing"))
        #expect(try String(contentsOf: config, encoding: .utf8) == edited)

        // Uninstall removes everything but the edited config; with the example back, that too.
        _ = try make("uninstall", destdir: destdir)
        #expect(Self.files(under: destdir) == ["etc/vkb-bridge/config.toml"])
        try example.write(to: config, atomically: true, encoding: .utf8)
        _ = try make("uninstall", destdir: destdir)
        #expect(Self.files(under: destdir).isEmpty)
    }

    /// `systemd-analyze verify` resolves ExecStart and `man:` on the live system, so the
    /// installed unit is checked as a copy pointing at DESTDIR's binary, with MANPATH at
    /// DESTDIR's man pages (this time `Documentation=man:vkb-bridge(1)` is checked too).
    func verifyInstalledUnit(destdir: URL) throws {
        guard Support.haveTools("systemd-analyze", "man") || Support.inCI else { return }
        let installed = destdir.appendingPathComponent("usr/lib/systemd/system/vkb-bridge.service")
        let copyDir = try Support.temporaryDirectory("vkb-verify-installed")
        defer { try? FileManager.default.removeItem(at: copyDir) }
        let copy = copyDir.appendingPathComponent("vkb-bridge.service")
        try Support.replacing(
            "ExecStart=/usr/bin/", with: "ExecStart=\(destdir.path)/usr/bin/",
            in: String(contentsOf: installed, encoding: .utf8)
        ).write(to: copy, atomically: true, encoding: .utf8)
        let result = try Support.run(
            "systemd-analyze", ["verify", copy.path],
            environment: ["MANPATH": destdir.appendingPathComponent("usr/share/man").path])
        #expect(result.status == 0 && result.stderr.isEmpty, "verify installed unit: \(result.stderr)")
    }
}
