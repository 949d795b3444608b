/// How often conditions are polled. Short: polling is cheap, and waits end as soon as
/// the condition holds, so this is not a sleep that tests depend on.
let pollInterval: Duration = .milliseconds(5)

/// Polls `condition` until it holds or `timeout` passes; never sleeps a fixed time.
///
/// - Parameters:
///   - what: Said in the error, e.g. `"3 packets"`.
///   - timeout: Longest wait.
///   - context: Extra text for the error (recent output and such), evaluated only on failure.
///   - condition: Checked at once, then every `pollInterval`.
/// - Throws: `HarnessError` on timeout, or whatever `condition` throws.
func eventually(
    _ what: String,
    timeout: Duration = .seconds(10),
    context: () -> String = { "" },
    _ condition: () throws -> Bool
) async throws {
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    while true {
        if try condition() { return }
        if clock.now >= deadline {
            let extra = context()
            throw HarnessError("timed out after \(timeout) waiting for \(what)" + (extra.isEmpty ? "" : "\n" + extra))
        }
        try await Task.sleep(for: pollInterval)
    }
}
