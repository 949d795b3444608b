import NIOConcurrencyHelpers
import VKBCore
import VKBSender

/// Keeps systemd's `STATUS=` line current without touching the input path: updates
/// only mark the line changed, and one task sends it.
final class StatusReporter: Sendable {
    private struct State {
        var status: ServiceStatus
        var devices: [Int: String] = [:]
    }

    let notifier: SystemdNotifier
    private let state: NIOLockedValueBox<State>
    private let changes: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(notifier: SystemdNotifier, endpoint: String) {
        self.notifier = notifier
        state = NIOLockedValueBox(State(status: ServiceStatus(connection: .connecting(endpoint: endpoint), endpoint: endpoint)))
        (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// The line as it stands.
    var text: String { state.withLockedValue { $0.status.description } }

    func connection(_ connection: ConnectionState) { update { $0.status.connection = connection } }
    func endpoint(_ endpoint: String) { update { $0.status.endpoint = endpoint } }
    func shift(_ shift: ShiftState) { update { $0.status.state = shift } }
    func attached(_ handle: Int, name: String) {
        update { s in
            s.devices[handle] = name
            s.status.devices = s.devices.keys.sorted().compactMap { s.devices[$0] }
        }
    }
    func detached(_ handle: Int) {
        update { s in
            s.devices[handle] = nil
            s.status.devices = s.devices.keys.sorted().compactMap { s.devices[$0] }
        }
    }

    private func update(_ body: (inout State) -> Void) {
        guard notifier.isConfigured else { return }
        let changed = state.withLockedValue { s in
            let before = s.status
            body(&s)
            return s.status != before
        }
        if changed { continuation.yield() }
    }

    /// Sends the line whenever it changed, until `finish()`.
    func run() async {
        var last = ""
        for await _ in changes {
            let line = text
            if line != last {
                notifier.status(line)
                last = line
            }
        }
    }

    func finish() {
        continuation.finish()
    }
}
