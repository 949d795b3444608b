import ArgumentParser
import Logging
import VKBDaemon

/// `--log-level`, shared by the commands that log.
struct LoggingOptions: ParsableArguments {
    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    /// Sets up logging for the process and returns the root logger.
    func bootstrap(label: String) -> Logger {
        DaemonLogging.bootstrap(level: logLevel)
        return Logger(label: label)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}
