import VKBCore

/// Turns the button states of every attached device into a `ShiftState`.
///
/// Pure: no I/O, no clocks, no locks. The caller serialises access. Only buttons that
/// some binding names are tracked, so events for other keys cost one table look-up.
public struct ShiftMapper: Sendable {
    /// An attached device, as the mapper knows it.
    public typealias DeviceHandle = Int

    public let bindings: [Binding]
    /// Binding indices by key code (the array's index, below `KeyCode.limit`); empty for
    /// codes no binding names. An array, not a dictionary: no hashing per event.
    private let bindingsByCode: [[Int]]
    /// Per binding: how many attached devices hold its button down.
    private var holders: [Int]
    /// Per binding: the toggle's current value.
    private var toggled: [Bool]
    /// Per device: its rule id and, per binding, whether it holds the button down.
    private var devices: [DeviceHandle: Device] = [:]
    private typealias Device = (label: String?, held: [Bool])

    public private(set) var state = ShiftState.clear

    public init(bindings: [Binding]) {
        self.bindings = bindings
        var byCode = [[Int]](repeating: [], count: KeyCode.limit)
        for (i, b) in bindings.enumerated() where Int(b.code) < KeyCode.limit { byCode[Int(b.code)].append(i) }
        bindingsByCode = byCode
        holders = Array(repeating: 0, count: bindings.count)
        toggled = Array(repeating: false, count: bindings.count)
    }

    /// A mapper with new bindings for devices whose buttons are held now, so a reload
    /// takes effect on the current button state. A toggle whose binding is unchanged
    /// keeps its value; new toggles start off.
    public func rebound(
        to newBindings: [Binding], devices: [(handle: DeviceHandle, label: String?, keys: KeySet)]
    ) -> ShiftMapper {
        var next = ShiftMapper(bindings: newBindings)
        for (i, binding) in newBindings.enumerated() where binding.mode == .toggle {
            if let old = bindings.firstIndex(of: binding) { next.toggled[i] = toggled[old] }
        }
        // Attach with nothing held, then apply the held keys without flipping
        // carried-over toggles: a button held across a reload is not a new press.
        for device in devices { next.devices[device.handle] = (device.label, next.holders.map { _ in false }) }
        for device in devices {
            for (i, binding) in newBindings.enumerated() where device.keys.contains(binding.code) {
                if let wanted = binding.device, wanted != device.label { continue }
                next.devices[device.handle]?.held[i] = true
                next.holders[i] += 1
            }
        }
        next.recompute()
        return next
    }

    /// Adds a device with the label of the `[[device]]` rule it matched.
    public mutating func attach(_ handle: DeviceHandle, label: String?) {
        devices[handle] = (label, holders.map { _ in false })
    }

    /// Removes a device: every button it held is released. Returns the new state.
    @discardableResult
    public mutating func detach(_ handle: DeviceHandle) -> ShiftState {
        guard let device = devices.removeValue(forKey: handle) else { return state }
        for (i, held) in device.held.enumerated() where held { holders[i] -= 1 }
        recompute()
        return state
    }

    public var attachedDevices: [DeviceHandle] { Array(devices.keys) }

    /// Applies one source event from an attached device. Returns the new state.
    @discardableResult
    public mutating func apply(_ event: DeviceSourceEvent, from handle: DeviceHandle) -> ShiftState {
        guard let device = devices.index(forKey: handle) else { return state }
        switch event {
        case .key(let code, let pressed):
            guard Int(code) < KeyCode.limit, !bindingsByCode[Int(code)].isEmpty else { return state }
            for i in bindingsByCode[Int(code)] { set(binding: i, pressed: pressed, on: device) }
        case .keyState(let keys):
            for (i, binding) in bindings.enumerated() { set(binding: i, pressed: keys.contains(binding.code), on: device) }
        case .ended:
            return state
        }
        recompute()
        return state
    }

    /// `device`: the device's index in `devices`, which stays valid while no device is
    /// added or removed; its flags are changed in place (a copy would copy the array).
    private mutating func set(binding i: Int, pressed: Bool, on device: Dictionary<DeviceHandle, Device>.Index) {
        let binding = bindings[i]
        if let wanted = binding.device, wanted != devices.values[device].label { return }
        guard devices.values[device].held[i] != pressed else { return }
        devices.values[device].held[i] = pressed
        if pressed {
            holders[i] += 1
            if binding.mode == .toggle { toggled[i].toggle() }
        } else {
            holders[i] -= 1
        }
    }

    private mutating func recompute() {
        var next = ShiftState.clear
        for (i, binding) in bindings.enumerated() {
            let on = binding.mode == .hold ? holders[i] > 0 : toggled[i]
            if on { next[binding.bit] = true }
        }
        state = next
    }
}
