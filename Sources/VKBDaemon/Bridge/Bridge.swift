import Logging
import VKBCore
import VKBInput
import VKBLoop
import VKBSender
import VKBShift

/// Wires device readers to the shift mapper and the mapper to the sender, on the loop.
///
/// Every reader, the device watcher and the sender live on the same `EpollLoop` as
/// this object, so an input frame goes read → map → `deliver` in one wake-up, with no
/// lock: the state handed on is always the OR over every attached device, in the order
/// it was computed. Use it on the loop's thread only.
public final class Bridge {
    /// Something attached or detached, or a key changed: for `monitor` and the status line.
    ///
    /// The rare cases are `indirect` (boxed): a device description or a key bitmap is
    /// hundreds of bytes, and every observation of the frequent `.key` would otherwise be
    /// that large, copied at each hand-over.
    public enum Observation: Sendable {
        indirect case attached(handle: Int, device: DeviceDescription, label: String?)
        indirect case ignored(device: DeviceDescription)
        /// The device's reader has stopped and closed its descriptors.
        indirect case detached(handle: Int, device: DeviceDescription, cause: DetachCause)
        case key(handle: Int, label: String?, code: UInt16, pressed: Bool, state: ShiftState)
        indirect case keyState(handle: Int, label: String?, keys: KeySet, state: ShiftState)
        indirect case ended(handle: Int, device: DeviceDescription)
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
        var reader: (any DeviceReader)?
        var label: String?
        var keys = KeySet()
        /// The source reported its key state at open (or ended, or failed).
        var opened = false
        var ended = false
    }

    private var configuration: BridgeConfiguration
    private var mapper: ShiftMapper
    private var devices: [Int: Attached] = [:]
    /// Devices the config does not want now, kept so a reload can take them up.
    private var ignored: [String: any DeviceSource] = [:]
    private var nextHandle = 1
    private var enumerated = false
    private var follower: (any DeviceReader)?

    private let loop: EpollLoop
    /// Read every button a device has, bound or not (`monitor`).
    private let everyButton: Bool
    private let deliver: (ShiftState) -> Void
    private let observe: (Observation) -> Void
    private let logger: Logger

    /// `deliver` receives every new state, in order; `observe` every observation. Both
    /// run on the loop, inside the wake-up that caused them. `everyButton`: read buttons
    /// 81–128 of every stick, not only those the bindings name (`monitor`).
    public init(
        configuration: BridgeConfiguration,
        loop: EpollLoop,
        everyButton: Bool = false,
        logger: Logger,
        deliver: @escaping (ShiftState) -> Void,
        observe: @escaping (Observation) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.mapper = ShiftMapper(bindings: configuration.bindings)
        self.loop = loop
        self.everyButton = everyButton
        self.deliver = deliver
        self.observe = observe
        self.logger = logger
    }

    /// The current state (OR over all attached devices).
    public var currentState: ShiftState { mapper.state }

    /// True when every attached source is a recording that has ended.
    public var allSourcesEnded: Bool {
        !devices.isEmpty && devices.values.allSatisfy(\.ended)
    }

    /// True once the watcher reported the devices present at start and each of those
    /// attached has reported its key state (buttons held at open included): the state
    /// the first connection should carry.
    public var initialStatesKnown: Bool {
        enumerated && devices.values.allSatisfy(\.opened)
    }

    /// The paths of the sources seen but not attached: no `[[device]]` rule matches them.
    public var ignoredPaths: [String] {
        ignored.keys.sorted()
    }

    /// The codes the reader of a device with `label` must read: what its bindings name.
    private func wanted(label: String?) -> KeySet {
        if everyButton { return KeySet((VKBButton.maxDeliverable + 1...VKBButton.maxButton).compactMap(VKBButton.hidrawCode(forButton:))) }
        return KeySet(configuration.bindings.filter { $0.device == nil || $0.device == label }.map(\.code))
    }

    /// Starts reading `source` if the config wants it. Returns its handle, or nil when ignored.
    @discardableResult
    public func attach(_ source: any DeviceSource) -> Int? {
        let device = source.device
        let (use, label) = configuration.match(device)
        guard use else {
            ignored[device.path] = source
            observe(.ignored(device: device))
            return nil
        }
        ignored[device.path] = nil
        if !device.path.isEmpty, devices.values.contains(where: { $0.source.device.path == device.path }) {
            return nil  // never two readers for one node
        }
        let handle = nextHandle
        nextHandle += 1
        devices[handle] = Attached(source: source, label: label)
        mapper.attach(handle, label: label)
        observe(.attached(handle: handle, device: device, label: label))
        let reader = source.open(
            on: loop, wanting: wanted(label: label),
            events: { [unowned self] event in self.handle(event, from: handle) },
            failed: { [unowned self] error in detach(handle, cause: .failed("\(error)")) })
        if devices[handle] != nil {
            devices[handle]!.reader = reader
        } else {
            reader.stop()  // detached while opening
        }
        return handle
    }

    /// Attaches and detaches what `watcher` reports, from now until `stopFollowing()`.
    /// Throws when the watcher cannot start; `failed` when it stops working later.
    public func follow(_ watcher: any DeviceWatcher, failed: @escaping (any Error) -> Void) throws {
        follower = try watcher.start(
            on: loop,
            events: { [unowned self] event in
                switch event {
                case .added(let source): attach(source)
                case .removed(let path): detach(path: path)
                case .enumerated:
                    enumerated = true
                    observe(.enumerated)
                }
            },
            failed: failed)
    }

    /// Stops following the watcher (shutdown).
    public func stopFollowing() {
        follower?.stop()
        follower = nil
    }

    /// Stops and removes the device at `path` (a udev remove). Its buttons are released.
    public func detach(path: String) {
        ignored[path] = nil
        for h in devices.filter({ $0.value.source.device.path == path }).map(\.key).sorted() {
            detach(h, cause: .removed)
        }
    }

    /// Stops every reader (shutdown).
    public func detachAll() {
        for h in devices.keys.sorted() { detach(h, cause: .shuttingDown) }
    }

    /// Removes a device, releasing its buttons, and closes its reader.
    private func detach(_ handle: Int, cause: DetachCause) {
        guard let removed = devices.removeValue(forKey: handle) else { return }
        let before = mapper.state
        let after = mapper.detach(handle)
        if after != before { deliver(after) }
        removed.reader?.stop()
        observe(.detached(handle: handle, device: removed.source.device, cause: cause))
    }

    /// Applies a new config: bindings take effect at once on the buttons held now;
    /// devices that no longer match are detached, and new rules are applied to
    /// devices attached later.
    public func reconfigure(_ configuration: BridgeConfiguration) {
        self.configuration = configuration
        let before = mapper.state
        var keyStates: [Int: KeySet] = [:]
        for (h, attached) in devices {
            let (use, label) = configuration.match(attached.source.device)
            if use {
                devices[h]?.label = label
                keyStates[h] = attached.keys
            }
        }
        mapper = mapper.rebound(
            to: configuration.bindings,
            devices: keyStates.map { (handle: $0.key, label: devices[$0.key]?.label, keys: $0.value) })
        if mapper.state != before { deliver(mapper.state) }
        // Readers of devices that stay read what the new bindings name (hidraw opens or closes).
        for h in keyStates.keys.sorted() {
            devices[h]?.reader?.want(wanted(label: devices[h]?.label))
        }
        let wanted = ignored.values.filter { configuration.match($0.device).use }
        for h in devices.keys.filter({ keyStates[$0] == nil }).sorted() { detach(h, cause: .unmatched) }
        for source in wanted.sorted(by: { $0.device.path < $1.device.path }) { attach(source) }
    }

    private func handle(_ event: DeviceSourceEvent, from handle: Int) {
        // One look-up, then the stored device is changed in place: copying `Attached`
        // out and back would copy its key bitmap on every event.
        guard let index = devices.index(forKey: handle) else { return }
        let label = devices.values[index].label
        let before = mapper.state
        switch event {
        case .key(let code, let pressed):
            devices.values[index].keys.set(code, pressed)
            let after = mapper.apply(event, from: handle)
            if after != before { deliver(after) }
            observe(.key(handle: handle, label: label, code: code, pressed: pressed, state: after))
        case .keyState(let keys):
            devices.values[index].keys = keys
            devices.values[index].opened = true
            let after = mapper.apply(event, from: handle)
            if after != before { deliver(after) }
            observe(.keyState(handle: handle, label: label, keys: keys, state: after))
        case .ended:
            devices.values[index].ended = true
            devices.values[index].opened = true
            observe(.ended(handle: handle, device: devices.values[index].source.device))
        }
    }
}
