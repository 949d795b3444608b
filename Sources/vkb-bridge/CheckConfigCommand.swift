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
        let config: BridgeConfiguration
        do {
            config = try ConfigurationLoader.load(path: file)
        } catch {
            printError(error.description)
            throw ExitCode(2)
        }
        print(ConfigurationSummary(config).text(file: file))
    }
}
