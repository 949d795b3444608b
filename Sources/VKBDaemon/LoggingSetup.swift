import Logging

/// Process-wide logging set-up for the daemon and its tools.
public enum LoggingSetup {
    /// Bootstraps swift-log so every `Logger` writes through a `JournalLogHandler` on stderr
    /// at `level`. The style (journal prefix or terminal) is detected once, here.
    /// Call once, first thing in `main`; swift-log forbids a second bootstrap.
    public static func bootstrap(level: Logger.Level, style: JournalLogHandler.Style? = nil) {
        let style = style ?? JournalLogHandler.detectedStyle()
        LoggingSystem.bootstrap(
            { label, provider in
                JournalLogHandler(
                    label: label, style: style, logLevel: level, metadataProvider: provider,
                    output: JournalLogHandler.writeToStandardError)
            },
            metadataProvider: nil)
    }
}
