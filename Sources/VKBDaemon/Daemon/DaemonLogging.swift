import Logging

/// Process-wide logging set-up.
public enum DaemonLogging {
    /// Bootstraps swift-log: every logger writes one line per record to stderr, with a
    /// syslog priority prefix when stderr is the journal (`JournalLogHandler`).
    /// Call once per process, before the first logger is made.
    public static func bootstrap(level: Logger.Level) {
        let style = JournalLogHandler.detectedStyle()
        LoggingSystem.bootstrap { label in
            JournalLogHandler(label: label, style: style, logLevel: level, output: JournalLogHandler.writeToStandardError)
        }
    }
}
