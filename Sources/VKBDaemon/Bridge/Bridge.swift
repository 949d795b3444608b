import Logging
import NIOConcurrencyHelpers
import VKBCore
import VKBInput
import VKBSender
import VKBShift

/// Wires device sources to the shift mapper and the mapper to the sender.
///
/// Each source runs on its own thread; their events meet here under one lock, so
/// the state handed to the sender is always the OR over every attached device and
/// states reach the sender in the order they were computed.
public final class Bridge: Sendable {
    /// Something attached or detached, or a key changed: for `monitor` and the status line.
    public enum Observation: Sendable {
        case attached(handle: Int, device: DeviceDescription, label: String?)
        case ignored(device: DeviceDescription)
        /// The device's reader has stopped (and its thread ended, unless it failed by itself).
        case detached(handle: Int, device: DeviceDescription, cause: DetachCause)
        case key(handle: Int, label: String?, code: UInt16, pressed: Bool, state: ShiftState)
        case keyState(handle: Int, label: String?, keys: KeySet, state: ShiftState)
        case ended(handle: Int, device: DeviceDescription)
        /// The watcher reported every device present at start.
        case enumerated
    }

    /// Why a device was detached.
    public enum DetachCause: Sendable, Equatable, CustomStringConvertible {
        /// udev removed it.
        case removed
        /// Reading it failed (the error's text).
        case failed(String)
        /// A reload's rules no longer match it.
        case unmatched
        case shuttingDown

        public var description: String {
            switch self {
            case .removed: "removed"
            case .failed(let why): why
            case .unmatched: "no longer matches the config"
            case .shuttingDown: "shutting down"
            }
        }
    }

    private struct Attached {
        var source: any DeviceSource
        var thread: BlockingThread?
        var label: String?
        var keys = KeySet()
        /// The source reported its key state at open (or ended, or failed).
        var opened = false
        var ended = false
    }

    private struct State {
        var configuration: BridgeConfiguration
        var mapper: ShiftMapper
        var devices: [Int: Attached] = [:]
        /// Devices the config does not want now, kept so a reload can take them up.
        var ignored: [String: any DeviceSource] = [:]
        var nextHandle = 1
        var enumerated = false
    }

    private let state: NIOLockedValueBox<State>
    private let deliver: @Sendable (ShiftState) -> Void
    private let observe: @Sendable (Observation) -> Void
    private let logger: Logger

    /// `deliver` receives every new state, in order, under the bridge's lock: it must
    /// not block (the sender's `submit` does not).
    public init(
        configuration: BridgeConfiguration,
        logger: Logger,
        deliver: @escaping @Sendable (ShiftState) -> Void,
        observe: @escaping @Sendable (Observation) -> Void = { _ in }
    ) {
        self.state = NIOLockedValueBox(State(configuration: configuration, mapper: ShiftMapper(bindings: configuration.bindings)))
        self.deliver = deliver
        self.observe = observe
        self.logger = logger
    }

    /// The current state (OR over all attached devices).
    public var currentState: ShiftState {
        state.withLockedValue { $0.mapper.state }
    }

    /// True when every attached source is a recording that has ended.
    public var allSourcesEnded: Bool {
        state.withLockedValue { s in !s.devices.isEmpty && s.devices.values.allSatisfy(\.ended) }
    }

    /// True once the watcher reported the devices present at start and each of those
    /// attached has reported its key state (buttons held at open included): the state
    /// the first connection should carry.
    public var initialStatesKnown: Bool {
        state.withLockedValue { s in s.enumerated && s.devices.values.allSatisfy(\.opened) }
    }

    /// The paths of the sources seen but not attached: no `[[device]]` rule matches them.
    public var ignoredPaths: [String] {
        state.withLockedValue { $0.ignored.keys.sorted() }
    }

    /// Starts reading `source` if the config wants it. Returns its handle, or nil when ignored.
    @discardableResult
    public func attach(_ source: any DeviceSource) -> Int? {
        let device = source.device
        enum Outcome { case attached(Int), ignored, duplicate }
        let outcome: Outcome = state.withLockedValue { s in
            let (use, label) = s.configuration.match(device)
            guard use else {
                s.ignored[device.path] = source
                return .ignored
            }
            s.ignored[device.path] = nil
            if !device.path.isEmpty, s.devices.values.contains(where: { $0.source.device.path == device.path }) {
                return .duplicate  // never two readers for one node
            }
            let h = s.nextHandle
            s.nextHandle += 1
            s.devices[h] = Attached(source: source, label: label)
            s.mapper.attach(h, label: label)
            observe(.attached(handle: h, device: device, label: label))
            return .attached(h)
        }
        guard case .attached(let handle) = outcome else {
            if case .ignored = outcome { observe(.ignored(device: device)) }
            return nil
        }
        do {
            let thread = try BlockingThread { [self] in
                do {
                    try source.run { event in self.handle(event, from: handle) }
                } catch {
                    detach(handle, cause: .failed("\(error)"), fromReader: true)
                }
            }
            state.withLockedValue { $0.devices[handle]?.thread = thread }
        } catch {
            detach(handle, cause: .failed("cannot start a reader thread: \(error)"), fromReader: true)
        }
        return handle
    }

    /// Attaches and detaches what `watcher` reports until it stops. Blocks: call it on
    /// the watcher's own thread.
    public func follow(_ watcher: any DeviceWatcher) throws {
        try watcher.run { [self] event in
            switch event {
            case .added(let source): attach(source)
            case .removed(let path): detach(path: path)
            case .enumerated:
                state.withLockedValue { $0.enumerated = true }
                observe(.enumerated)
            }
        }
    }

    /// Stops and removes the device at `path` (a udev remove). Its buttons are released.
    public func detach(path: String) {
        let handles = state.withLockedValue { s in
            s.ignored[path] = nil
            return s.devices.filter { $0.value.source.device.path == path }.map(\.key)
        }
        for h in handles { detach(h, cause: .removed) }
    }

    /// Stops every source and waits for their threads (shutdown).
    public func detachAll() {
        let handles = state.withLockedValue { Array($0.devices.keys).sorted() }
        for h in handles { detach(h, cause: .shuttingDown) }
    }

    /// Removes a device, releasing its buttons at once; then stops its reader and, unless
    /// called from that reader, waits for its thread so its descriptors are closed.
    private func detach(_ handle: Int, cause: DetachCause, fromReader: Bool = false) {
        let removed: Attached? = state.withLockedValue { s in
            guard let attached = s.devices.removeValue(forKey: handle) else { return nil }
            let before = s.mapper.state
            let after = s.mapper.detach(handle)
            if after != before { deliver(after) }
            return attached
        }
        guard let removed else { return }
        removed.source.stop()
        if !fromReader { removed.thread?.join() }
        observe(.detached(handle: handle, device: removed.source.device, cause: cause))
    }

    /// Applies a new config: bindings take effect at once on the buttons held now;
    /// devices that no longer match are detached, and new rules are applied to
    /// devices attached later.
    public func reconfigure(_ configuration: BridgeConfiguration) {
        let (unmatched, wanted): ([Int], [any DeviceSource]) = state.withLockedValue { s in
            s.configuration = configuration
            let before = s.mapper.state
            var keyStates: [Int: KeySet] = [:]
            for (h, attached) in s.devices {
                let (use, label) = configuration.match(attached.source.device)
                if use {
                    s.devices[h]?.label = label
                    keyStates[h] = attached.keys
                }
            }
            let mapper = s.mapper.rebound(
                to: configuration.bindings,
                devices: keyStates.map { (handle: $0.key, label: s.devices[$0.key]?.label, keys: $0.value) })
            s.mapper = mapper
            if mapper.state != before { deliver(mapper.state) }
            let wanted = s.ignored.values.filter { configuration.match($0.device).use }
            return (s.devices.keys.filter { keyStates[$0] == nil }, wanted)
        }
        for h in unmatched { detach(h, cause: .unmatched) }
        for source in wanted { attach(source) }
    }

    private func handle(_ event: DeviceSourceEvent, from handle: Int) {
        state.withLockedValue { s in
            guard let label = s.devices[handle].map({ $0.label }) else { return }
            let before = s.mapper.state
            // Mutate the stored key set in place: copying `Attached` out and back would
            // copy the key bitmap on every event.
            switch event {
            case .key(let code, let pressed):
                s.devices[handle]!.keys.set(code, pressed)
                let after = s.mapper.apply(event, from: handle)
                if after != before { deliver(after) }
                observe(.key(handle: handle, label: label, code: code, pressed: pressed, state: after))
            case .keyState(let keys):
                s.devices[handle]!.keys = keys
                s.devices[handle]!.opened = true
                let after = s.mapper.apply(event, from: handle)
                if after != before { deliver(after) }
                observe(.keyState(handle: handle, label: label, keys: keys, state: after))
            case .ended:
                s.devices[handle]!.ended = true
                s.devices[handle]!.opened = true
                observe(.ended(handle: handle, device: s.devices[handle]!.source.device))
            }
        }
    }
}
