import ArgumentParser
import VKBDaemon

/// `vkb-bridge check-config FILE`: validates a config and summarises it.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file: exit 0 with a summary, or list every error with file:line."
    )

    @Argument(help: "The config file (TOML).")
    var file: String

    func run() throws {
        let config = try loadConfigurationOrExit(file)
        print(ConfigurationSummary(config).text(file: file))
    }
}
