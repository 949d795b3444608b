import Glibc

/// Writes `SinkEvent`s as JSON lines, one `write(2)` per line.
/// A failed write is fatal: whoever reads the output has gone.
struct EventLog: Sendable {
    let output: OutputFile

    func emit(_ event: SinkEvent) {
        do {
            try output.write(event.jsonLine())
        } catch {
            try? OutputFile.standardError.write("vkb-telemetry-sink: \(error)\n")
            exit(1)
        }
    }
}
