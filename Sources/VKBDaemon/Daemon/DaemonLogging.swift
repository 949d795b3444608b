import Logging

/// Process-wide logging set-up.
public enum DaemonLogging {
    /// Bootstraps swift-log. Call once per process, before the first logger is made.
    public static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
