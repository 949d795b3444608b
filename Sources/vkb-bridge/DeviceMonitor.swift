import Synchronization
import VKBInput

/// What `vkb-bridge monitor` does with watcher and source events: attaches a reading
/// thread per device, and prints one line per change (one `write` each, so lines
/// never interleave and reach a pipe at once), for people and for tests.
///
/// Lines (NODE is the device node):
/// - `attached NODE VVVV:PPPP phys=PHYS "NAME"`
/// - `NODE: open, held: …` (the key state at open), `NODE: resync, held: …` (after SYN_DROPPED)
/// - `NODE: VKB button 23 (BTN_TRIGGER_HAPPY7, 0x2c6) down` / `up`
/// - `NODE: lost: REASON` when reading fails; `detached NODE` when udev removes it
/// - `NODE: ended` when a replayed recording ends
/// - `fds N` (open file descriptors) after each open and detach with `printFDs`
final class DeviceMonitor: Sendable {
    private struct Attached: Sendable {
        let source: any DeviceSource
        let thread: BlockingThread
    }

    private let printFDs: Bool
    private let attached = Mutex<[String: Attached]>([:])

    init(printFDs: Bool) {
        self.printFDs = printFDs
    }

    /// The watcher's handler.
    func handle(_ event: DeviceWatcherEvent) {
        switch event {
        case .added(let source):
            attach(source)
        case .removed(let path):
            detach(path)
        }
    }

    private func attach(_ source: any DeviceSource) {
        let d = source.device
        detach(d.path)  // never two readers for one node
        printLine("attached \(d.path) \(d.usbID) phys=\(d.phys.isEmpty ? "-" : d.phys) \"\(d.name)\"")
        let opened = Atomic<Bool>(false)
        let printFDs = self.printFDs
        let report: DeviceEventHandler = { [opened] event in
            switch event {
            case .keyState(let keys):
                let first = !opened.exchange(true, ordering: .relaxed)
                printLine("\(d.path): \(first ? "open" : "resync"), held: \(Self.describe(keys))")
                if first && printFDs { printLine("fds \(openFileDescriptorCount() ?? -1)") }
            case .key(let code, let pressed):
                printLine("\(d.path): \(Self.describe(code)) \(pressed ? "down" : "up")")
            case .ended:
                printLine("\(d.path): ended")
            }
        }
        do {
            let thread = try BlockingThread {
                do {
                    try source.run(report)
                } catch {
                    printLine("\(d.path): lost: \(error)")
                }
            }
            attached.withLock { $0[d.path] = Attached(source: source, thread: thread) }
        } catch {
            printLine("\(d.path): lost: cannot start a reader thread: \(error)")
        }
    }

    private func detach(_ path: String) {
        guard stopReader(path) else { return }
        // Counted once the source is freed, so its descriptors are closed.
        printLine("detached \(path)")
        if printFDs { printLine("fds \(openFileDescriptorCount() ?? -1)") }
    }

    /// Stops and joins the reader of `path`, releasing it; false if there was none.
    private func stopReader(_ path: String) -> Bool {
        guard let entry = attached.withLock({ $0.removeValue(forKey: path) }) else { return false }
        entry.source.stop()
        entry.thread.join()
        return true
    }

    /// Stops every reader and waits for it.
    func detachAll() {
        for path in attached.withLock({ Array($0.keys) }).sorted() { detach(path) }
    }

    /// `VKB button 23 (BTN_TRIGGER_HAPPY7, 0x2c6)`, or `key BTN_SOUTH (0x130)`.
    static func describe(_ code: UInt16) -> String {
        let hex = EvdevCodeNames.hex(code)
        let name = EvdevCodeNames.keys[code]
        let detail = name.map { "\($0), \(hex)" } ?? hex
        if let button = VKBButton.button(forCode: code) { return "VKB button \(button) (\(detail))" }
        return "key \(name ?? hex)\(name == nil ? "" : " (\(hex))")"
    }

    static func describe(_ keys: KeySet) -> String {
        keys.isEmpty ? "none" : keys.codes.map(describe).joined(separator: ", ")
    }
}
