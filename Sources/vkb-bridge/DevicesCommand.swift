import ArgumentParser
import VKBDaemon
import VKBInput
import VKBShift

/// `vkb-bridge devices`: every input event device, and what the bridge makes of it.
struct DevicesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "devices",
        abstract: "List input devices: node, ids, name, phys/uniq, links, VKB buttons, config match."
    )

    @Option(name: .long, help: "Config file whose [[device]] rules fill the 'matches' column.")
    var config: String?

    @Flag(name: .long, help: "Print a JSON array instead of text.")
    var json = false

    func run() throws {
        let rules = try config.map(Self.deviceRules(fromConfig:))
        let devices = try DeviceInventory.scan().map { DeviceListing($0, rules: rules) }
        if json {
            printLine(try DeviceListing.json(devices))
        } else if devices.isEmpty {
            printLine("no input event devices found (is /dev/input visible, and /sys mounted?)")
        } else {
            printLine(devices.map { $0.text(configGiven: rules != nil) }.joined(separator: "\n\n"))
        }
    }

    /// The `[[device]]` rules of the config at `path`; a bad config stops with its diagnostics.
    static func deviceRules(fromConfig path: String) throws -> [DeviceRule] {
        do {
            return try ConfigurationLoader.load(path: path).devices
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
    }
}
