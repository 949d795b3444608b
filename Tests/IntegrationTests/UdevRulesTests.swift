import Foundation
import Testing

/// `udev-rules/70-vkb-bridge.rules` evaluated by the real `udevadm test` against fake
/// devices (umockdev), in a private mount namespace (DESIGN §6). The fixture
/// `Tests/Fixtures/udev/vkb-devices.umockdev` holds: event5, a VKB Gladiator EVO R;
/// event6, the same stick's keyboard collection; event7, a Thrustmaster joystick.
@Suite struct UdevRulesTests {
    typealias Support = ServiceTestSupport

    static let canRun =
        (Support.isRoot && Support.haveTools("unshare", "umockdev-run", "udevadm")) || Support.inCI

    static let rulesFile = Support.packageRoot.appendingPathComponent("udev-rules/70-vkb-bridge.rules")
    static let fixtures = Support.packageRoot.appendingPathComponent("Tests/Fixtures/udev")
    /// Where the script mounts the rules under test.
    static let installedPath = "/etc/udev/rules.d/70-vkb-bridge.rules"

    enum Mode: String {
        /// Only our rules: what they do by themselves.
        case alone
        /// With the system's rules (input_id, 70-uaccess, 50-udev-default …): what a machine gets.
        case withSystem = "with-system"
    }

    /// What `udevadm test` said about one device.
    struct Evaluation {
        var properties: [String: String]
        var log: String

        var tags: Set<String> { Set((properties["TAGS"] ?? "").split(separator: ":").map(String.init)) }
        var wants: [String] { (properties["SYSTEMD_WANTS"] ?? "").split(separator: " ").map(String.init) }

        /// Lines where udev reports a problem in our file while reading it ("FILE:LINE …").
        var ruleDiagnostics: [String] {
            log.split(separator: "\n").map(String.init).filter { $0.hasPrefix(UdevRulesTests.installedPath + ":") }
        }
        var readOurRules: Bool { log.contains("Reading rules file: \(UdevRulesTests.installedPath)") }

        /// Values our file's rules assigned to `key` (`GROUP`, `MODE`), e.g. "event5: FILE:23 GROUP 105".
        func assigned(_ key: String) -> [String] {
            log.split(separator: "\n").compactMap { line in
                guard line.contains(" \(UdevRulesTests.installedPath):"), let range = line.range(of: " \(key) ")
                else { return nil }
                return String(line[range.upperBound...])
            }
        }
    }

    static func evaluate(rules: String, mode: Mode, devices: [String]) throws -> [String: Evaluation] {
        let work = try Support.temporaryDirectory("vkb-udev")
        defer { try? FileManager.default.removeItem(at: work) }
        let rulesDir = work.appendingPathComponent("rules")
        let outDir = work.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: rulesDir, withIntermediateDirectories: true)
        try rules.write(to: rulesDir.appendingPathComponent("70-vkb-bridge.rules"), atomically: true, encoding: .utf8)

        let script = fixtures.appendingPathComponent("udevadm-test.sh").path
        let fixture = fixtures.appendingPathComponent("vkb-devices.umockdev").path
        let run = try Support.run("unshare", ["-m", "sh", script, work.path, fixture, mode.rawValue] + devices)
        guard run.status == 0 else {
            throw Support.ToolError(description: "udevadm-test.sh failed (\(run.status)): \(run.stderr)")
        }
        var result: [String: Evaluation] = [:]
        for device in devices {
            let out = try String(contentsOf: outDir.appendingPathComponent("\(device).out"), encoding: .utf8)
            let err = try String(contentsOf: outDir.appendingPathComponent("\(device).err"), encoding: .utf8)
            var properties: [String: String] = [:]
            for line in out.split(separator: "\n") {
                guard let eq = line.firstIndex(of: "="), line[..<eq].allSatisfy({ $0.isUppercase || $0.isNumber || $0 == "_" })
                else { continue }
                properties[String(line[..<eq])] = String(line[line.index(after: eq)...])
            }
            result[device] = Evaluation(properties: properties, log: err)
        }
        return result
    }

    static func shippedRules() throws -> String { try String(contentsOf: rulesFile, encoding: .utf8) }

    static var inputGID: String? { getgrnam("input").map { String($0.pointee.gr_gid) } }

    @Test(.enabled(if: canRun, "needs root (unshare -m), udevadm and umockdev-run"))
    func byThemselvesTheRulesMakeAVKBStickAJoystickForTheSeatAndTheService() throws {
        let results = try Self.evaluate(rules: Self.shippedRules(), mode: .alone, devices: ["event5", "event6", "event7"])
        let stick = try #require(results["event5"])
        #expect(stick.readOurRules)
        #expect(stick.ruleDiagnostics.isEmpty, "\(stick.ruleDiagnostics)")
        #expect(stick.properties["ID_INPUT_JOYSTICK"] == "1")
        #expect(stick.tags.isSuperset(of: ["uaccess", "systemd"]), "TAGS=\(stick.properties["TAGS"] ?? "")")
        #expect(stick.wants == ["vkb-bridge.service"])
        let gid = try #require(Self.inputGID, "no group 'input' on this machine")
        #expect(stick.assigned("GROUP") == [gid])
        #expect(stick.assigned("MODE") == ["0660"])

        for device in ["event6", "event7"] {
            let other = try #require(results[device])
            #expect(other.readOurRules)
            #expect(other.properties["ID_INPUT_JOYSTICK"] == nil, "\(device)")
            #expect(other.tags.isDisjoint(with: ["uaccess", "systemd"]), "\(device): \(other.tags)")
            #expect(other.wants.isEmpty, "\(device)")
            #expect(other.assigned("GROUP").isEmpty, "\(device)")
        }
    }

    /// With the system's rules around, ours must still have the last word for the stick, and
    /// must not start the service for anything else.
    @Test(.enabled(if: canRun, "needs root (unshare -m), udevadm and umockdev-run"))
    func withTheSystemRulesOnlyTheVKBStickStartsTheService() throws {
        let results = try Self.evaluate(
            rules: Self.shippedRules(), mode: .withSystem, devices: ["event5", "event6", "event7"])
        let stick = try #require(results["event5"])
        #expect(stick.ruleDiagnostics.isEmpty, "\(stick.ruleDiagnostics)")
        #expect(stick.properties["ID_INPUT_JOYSTICK"] == "1")
        #expect(stick.tags.isSuperset(of: ["uaccess", "systemd"]))
        #expect(stick.wants == ["vkb-bridge.service"])

        let keyboard = try #require(results["event6"])
        #expect(keyboard.properties["ID_INPUT_KEYBOARD"] == "1")
        #expect(keyboard.properties["ID_INPUT_JOYSTICK"] == nil)
        #expect(!keyboard.tags.contains("uaccess"))
        #expect(keyboard.wants.isEmpty)

        let otherStick = try #require(results["event7"])
        #expect(otherStick.properties["ID_INPUT_JOYSTICK"] == "1")
        #expect(otherStick.tags.contains("uaccess"))
        #expect(otherStick.wants.isEmpty)
    }

    /// `udevadm test` exits 0 whatever the rules say, so the check above reads its log. Each
    /// broken copy here must produce the diagnostics that make that check fail.
    @Test(
        .enabled(if: canRun, "needs root (unshare -m), udevadm and umockdev-run"),
        arguments: [
            (#"ATTRS{id/vendor}=="231d""#, #"ATRS{id/vendor}=="231d""#),  // unknown key
            (#"GROUP="input""#, #"GROUP=="input""#),  // operator the key does not take
            (#"+="vkb-bridge.service""#, #"+="vkb-bridge.service"#),  // unterminated value
            (#"GOTO="vkb_bridge_stick""#, #"GOTO="vkb_bridge_stik""#),  // jump to nowhere
        ])
    func aRuleThatDoesNotParseIsCaught(original: String, broken: String) throws {
        let rules = try Support.replacing(original, with: broken, in: Self.shippedRules())
        let stick = try #require(try Self.evaluate(rules: rules, mode: .alone, devices: ["event5"])["event5"])
        #expect(stick.readOurRules)
        #expect(!stick.ruleDiagnostics.isEmpty, "udevadm reported nothing for \(broken):\n\(stick.log)")
    }
}
