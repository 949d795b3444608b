import VKBCore
import VKBLoop
import VKBSender

/// Keeps systemd's `STATUS=` line current without touching the input path: updates only
/// mark the line changed, and it is sent once per loop turn at most (a deadline due at
/// once), never per key event. Use it on the loop's thread.
final class StatusReporter {
    let notifier: SystemdNotifier
    private let loop: EpollLoop
    private var status: ServiceStatus
    private var devices: [Int: String] = [:]
    private var pending: EpollLoop.Timer?
    private var sent = ""
    /// Whether systemd listens (`NOTIFY_SOCKET`), read once.
    private let configured: Bool

    init(loop: EpollLoop, notifier: SystemdNotifier, endpoint: String) {
        self.loop = loop
        self.notifier = notifier
        configured = notifier.isConfigured
        status = ServiceStatus(connection: .connecting(endpoint: endpoint), endpoint: endpoint)
    }

    /// The line as it stands.
    var text: String { status.description }

    func connection(_ connection: ConnectionState) { update { $0.connection = connection } }
    func endpoint(_ endpoint: String) { update { $0.endpoint = endpoint } }
    func shift(_ shift: ShiftState) { update { $0.state = shift } }
    func attached(_ handle: Int, name: String) {
        devices[handle] = name
        update { [devices] in $0.devices = devices.keys.sorted().compactMap { devices[$0] } }
    }
    func detached(_ handle: Int) {
        devices[handle] = nil
        update { [devices] in $0.devices = devices.keys.sorted().compactMap { devices[$0] } }
    }

    private func update(_ body: (inout ServiceStatus) -> Void) {
        guard configured else { return }
        body(&status)
        guard pending == nil else { return }
        pending = loop.schedule(in: .zero) { [unowned self] in
            pending = nil
            flush()
        }
    }

    /// Sends the line now if it changed since it was last sent.
    func flush() {
        if let pending { loop.cancel(pending) }
        pending = nil
        guard configured else { return }
        let line = text
        guard line != sent else { return }
        notifier.status(line)
        sent = line
    }
}
