import ArgumentParser
import VKBDaemon

/// `vkb-bridge check-config FILE`: validates a config and summarises it.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-config",
        abstract: "Check a config file: exit 0 with a summary, or list every error with file:line."
    )

    @Argument(help: "The config file (TOML), or - for standard input.")
    var file: String

    /// The child of `ConfigurationChecker`: parse here, in this process, and only say by
    /// the exit status whether the file is good. Not for people.
    @Flag(help: .hidden)
    var inProcess = false

    func run() throws {
        if inProcess {
            do {
                _ = try ConfigurationLoader.load(path: ConfigArgument.path(file))
                return
            } catch {
                printError(error.description)
                throw ExitCode(2)
            }
        }
        let config = try loadConfigurationOrExit(file)
        print(ConfigurationSummary(config).text(file: ConfigArgument.name(file)))
    }
}
