import ArgumentParser
import VKBWire

/// A reference VKB-Link telemetry server: accepts TCP connections, decodes
/// `VKBShiftBitmap` packets and prints one JSON object per line for each thing it sees.
@main
struct TelemetrySink: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vkb-telemetry-sink",
        abstract: "Listen like VKB-Link and print every VKBShiftBitmap packet received as a JSON line.",
        discussion: """
            One JSON object per line, written as it happens, with "event" one of:
              connect     conn, time, peer
              packet      conn, time, shift, subshift, raw (hex)
              malformed   conn, time, raw (hex), reason
              disconnect  conn, time, reason (eof, reset, closed-by-sink,
                          reset-by-sink, sink-stopping, error: …), packets
            "conn" numbers accepted connections from 1; "time" is Unix seconds.

            Once listening it prints "vkb-telemetry-sink: listening on HOST:PORT"
            to stderr. SIGTERM or SIGINT closes every connection (clients see
            EOF), then the listener, and exits 0.
            """,
        version: VKBBridgeVersion.string
    )

    @Option(
        help: ArgumentHelp("Address to listen on; port 0 picks a free port (default 127.0.0.1:50995).", valueName: "host:port"),
        transform: { text in try ListenAddress(parsing: text) }
    )
    var listen: ListenAddress = .default

    @Option(help: ArgumentHelp("Append the JSON lines to this file instead of stdout.", valueName: "file"))
    var output: String?

    @Option(help: ArgumentHelp("Once listening, write HOST:PORT to this file (atomically).", valueName: "file"))
    var readyFile: String?

    @Option(help: ArgumentHelp("Packet header byte (default 0xA5).", valueName: "byte"), transform: TelemetrySink.byte)
    var header: UInt8 = VKBShiftBitmapPacket.defaultHeader

    @Option(help: ArgumentHelp("Packet command byte (default 13).", valueName: "byte"), transform: TelemetrySink.byte)
    var command: UInt8 = VKBShiftBitmapPacket.defaultCommand

    @Option(help: ArgumentHelp("Close each connection (FIN) after N packets.", valueName: "n"))
    var closeAfter: Int?

    @Option(help: ArgumentHelp("Reset each connection (RST) after N packets.", valueName: "n"))
    var resetAfter: Int?

    @Flag(help: "Accept connections but never read from them.")
    var stall = false

    @Flag(help: "Send junk bytes to the client on connect and after each packet.")
    var chatter = false

    var faults: ConnectionFaults {
        ConnectionFaults(closeAfter: closeAfter, resetAfter: resetAfter, stall: stall, chatter: chatter)
    }

    func validate() throws {
        do {
            try faults.validate()
        } catch {
            throw ValidationError(error.description)
        }
    }

    func run() throws {
        let output = try output.map(OutputFile.appending(to:)) ?? .standardOutput
        // Before the event loop thread exists, so that it inherits the blocked mask.
        let signals = StopSignals.block()
        let server = try SinkServer.start(
            listen: listen,
            faults: faults,
            decoder: PacketStreamDecoder(header: header, command: command),
            log: EventLog(output: output)
        )
        do {
            let ready = server.address.description
            if let readyFile { try OutputFile.writeAtomically(ready + "\n", to: readyFile) }
            try OutputFile.standardError.write("vkb-telemetry-sink: listening on \(ready)\n")
        } catch {
            server.stop()
            throw error
        }
        _ = signals.wait()
        server.stop()
    }

    /// `0xA5`, `165`.
    static func byte(_ text: String) throws -> UInt8 {
        let value = text.lowercased().hasPrefix("0x") ? UInt8(text.dropFirst(2), radix: 16) : UInt8(text)
        guard let value else { throw ValidationError("expected a byte, 0–255 or 0x00–0xFF") }
        return value
    }
}
