import ArgumentParser
import VKBCore
import VKBProbe
import VKBDaemon
import VKBSender

/// `vkb-bridge probe`: is the server reachable?
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Check that the configured VKB-Link server is reachable, without changing its state.",
        discussion: """
            Resolves the server's host, connects, and watches the connection for a while. Nothing \
            is sent unless --send-state is given, because every packet changes the device's shift \
            state. Exits 0 when the connection was made and stayed open.
            """
    )

    @Option(name: .shortAndLong, help: "The config file whose [server] to probe (default: the built-in defaults).")
    var config: String?

    @Option(help: "Probe this host instead of the config's.")
    var host: String?

    @Option(help: "Probe this port instead of the config's.")
    var port: Int?

    @Option(help: "How long to watch the connection, in seconds.")
    var hold: Double = 2

    @Option(help: ArgumentHelp("Send one state and wait for the server's kernel to acknowledge it, e.g. none or shift1+subshift2.", valueName: "state"))
    var sendState: String?

    func validate() throws {
        try OptionLimits.seconds(hold, "--hold", allowZero: true)
        if let port { try OptionLimits.port(port, "--port") }
        if let sendState, ShiftState(parsing: sendState) == nil {
            throw ValidationError("--send-state: expected none or bits joined by +, like shift1+subshift2, got \"\(sendState)\"")
        }
    }

    func run() async throws {
        var sender = SenderConfiguration()
        if let config { sender = try loadConfigurationOrExit(config).sender }
        if let host { sender.host = host }
        if let port { sender.port = port }
        let state = sendState.flatMap(ShiftState.init(parsing:))

        printLine("probing \(sender.endpointDescription)\(config.map { " (from \($0))" } ?? "")")
        let report = await ConnectionProbe.run(sender, holdSeconds: hold, send: state)
        guard let peer = report.peer, let ms = report.connectMilliseconds else {
            printLine("FAILED: cannot connect to \(sender.endpointDescription): \(report.failure ?? "unknown error")")
            printLine("  Is VKB-Link running and listening there? Is the host name right (`getent hosts \(sender.host)`)?")
            throw ExitCode(1)
        }
        printLine("connected to \(peer) in \(Self.format(ms)) ms")
        if let state {
            if let ack = report.acknowledgedMilliseconds {
                printLine("sent \(state); the server's kernel acknowledged it after \(Self.format(ack)) ms")
            } else {
                printLine("sent \(state); the server's kernel did not acknowledge it within 1 s")
            }
        }
        if report.bytesReceived > 0 {
            printLine("the server sent \(report.bytesReceived) byte(s) (VKB-Link documents no reply; vkb-bridge ignores them)")
        }
        if let after = report.closedAfterSeconds {
            printLine("FAILED: \(report.closeReason ?? "the connection closed") after \(Self.format(after * 1000)) ms")
            printLine("  The server accepts connections but drops them: is another client already connected, or is it not VKB-Link?")
            throw ExitCode(1)
        }
        printLine("OK: the connection stayed open for \(Self.format(hold * 1000)) ms"
            + (state == nil ? "; nothing was sent (use --send-state none to test a packet)" : ""))
    }

    static func format(_ ms: Double) -> String {
        let tenths = Int((ms * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}
