import NIOConcurrencyHelpers
import VKBCore
import VKBInput

/// Prints what `vkb-bridge monitor` shows, one line per change (one `write` each, so
/// lines never interleave and reach a pipe at once), from the bridge's observations.
/// The devices are read by the same `Bridge` the daemon uses, so what you see is what
/// `run` would map.
///
/// Lines (NAME is the `[[device]]` id when a config matched one, else the node):
/// - `attached NODE VVVV:PPPP phys=PHYS "NAME"` (plus ` as ID` with a config)
/// - `ignored NODE VVVV:PPPP "NAME": no [[device]] matches` (with a config)
/// - `NAME: open, held: …` (the key state at open), `NAME: resync, held: …` (after SYN_DROPPED)
/// - `NAME: VKB button 23 (BTN_TRIGGER_HAPPY7, 0x2c6) down` / `up`, followed by
///   `→ shift1+subshift2` (the resulting state) when the config has bindings
/// - `NODE: lost: REASON` when reading fails; `detached NODE` otherwise
/// - `NAME: ended` when a replayed recording ends
/// - `fds N` (open file descriptors) after each open and detach with `printFDs`
public final class DeviceMonitor: Sendable {
    private let printFDs: Bool
    private let showState: Bool
    private let printLine: @Sendable (String) -> Void
    private let opened = NIOLockedValueBox<Set<Int>>([])

    /// - Parameters:
    ///   - printFDs: print `fds N` after each open and detach.
    ///   - showState: end button lines with the resulting shift state.
    ///   - printLine: writes one line at once (the CLI's unbuffered stdout).
    public init(printFDs: Bool, showState: Bool, printLine: @escaping @Sendable (String) -> Void) {
        self.printFDs = printFDs
        self.showState = showState
        self.printLine = printLine
    }

    public func observe(_ observation: Bridge.Observation) {
        switch observation {
        case .attached(let handle, let d, let label):
            names.withLockedValue { $0[handle] = label ?? d.path }
            printLine("attached \(d.path) \(d.usbID) phys=\(d.phys.isEmpty ? "-" : d.phys) \"\(d.name)\"" + (label.map { " as \($0)" } ?? ""))
        case .ignored(let d):
            printLine("ignored \(d.path) \(d.usbID) \"\(d.name)\": no [[device]] matches")
        case .keyState(let handle, _, let keys, let state):
            let first = opened.withLockedValue { $0.insert(handle).inserted }
            printLine("\(name(handle)): \(first ? "open" : "resync"), held: \(Self.describe(keys))" + suffix(state))
            if first && printFDs { printFileDescriptors() }
        case .key(let handle, _, let code, let pressed, let state):
            printLine("\(name(handle)): \(Self.describe(code)) \(pressed ? "down" : "up")" + suffix(state))
        case .ended(let handle, _):
            printLine("\(name(handle)): ended")
        case .enumerated:
            break  // the CLI says "watching udev" / "watching recordings"
        case .detached(let handle, let d, let cause):
            opened.withLockedValue { _ = $0.remove(handle) }
            names.withLockedValue { _ = $0.removeValue(forKey: handle) }
            if case .failed(let why) = cause { printLine("\(d.path): lost: \(why)") }
            printLine("detached \(d.path)")
            if printFDs { printFileDescriptors() }
        }
    }

    /// What each attached device is called in lines: its `[[device]]` id, else its node.
    private let names = NIOLockedValueBox<[Int: String]>([:])

    private func name(_ handle: Int) -> String {
        names.withLockedValue { $0[handle] } ?? "device \(handle)"
    }

    private func suffix(_ state: ShiftState) -> String {
        showState ? " → \(state)" : ""
    }

    public func printFileDescriptors() {
        printLine("fds \(openFileDescriptorCount() ?? -1)")
    }

    /// `VKB button 23 (BTN_TRIGGER_HAPPY7, 0x2c6)`, or `key BTN_SOUTH (0x130)`.
    static func describe(_ code: UInt16) -> String {
        if KeyCode.isHidraw(code), let button = VKBButton.button(forCode: code) { return "VKB button \(button) (hidraw)" }
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
