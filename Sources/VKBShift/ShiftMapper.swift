import VKBCore

/// Turns the button states of every attached device into a `ShiftState`.
///
/// Pure: no I/O, no clocks, no locks. The caller serialises access. Only buttons that
/// some binding names are tracked, so events for other keys cost one table look-up.
public struct ShiftMapper: Sendable {
    /// An attached device, as the mapper knows it.
    public typealias DeviceHandle = Int

    public let bindings: [Binding]
    /// Binding indices by key code; empty for codes no binding names.
    private let bindingsByCode: [UInt16: [Int]]
    /// Per binding: how many attached devices hold its button down.
    private var holders: [Int]
    /// Per binding: the toggle's current value.
    private var toggled: [Bool]
    /// Per device: its rule id and which bindings (by index) it holds down.
    private var devices: [DeviceHandle: (label: String?, held: Set<Int>)] = [:]

    public private(set) var state = ShiftState.clear

    public init(bindings: [Binding]) {
        self.bindings = bindings
        var byCode: [UInt16: [Int]] = [:]
        for (i, b) in bindings.enumerated() { byCode[b.code, default: []].append(i) }
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
        for device in devices { next.devices[device.handle] = (device.label, []) }
        for device in devices {
            for (code, indices) in next.bindingsByCode where device.keys.contains(code) {
                for i in indices {
                    let binding = next.bindings[i]
                    if let wanted = binding.device, wanted != device.label { continue }
                    next.devices[device.handle]?.held.insert(i)
                    next.holders[i] += 1
                }
            }
        }
        next.recompute()
        return next
    }

    /// Adds a device with the label of the `[[device]]` rule it matched.
    public mutating func attach(_ handle: DeviceHandle, label: String?) {
        devices[handle] = (label, [])
    }

    /// Removes a device: every button it held is released. Returns the new state.
    @discardableResult
    public mutating func detach(_ handle: DeviceHandle) -> ShiftState {
        guard let device = devices.removeValue(forKey: handle) else { return state }
        for i in device.held { holders[i] -= 1 }
        recompute()
        return state
    }

    public var attachedDevices: [DeviceHandle] { Array(devices.keys) }

    /// Applies one source event from an attached device. Returns the new state.
    @discardableResult
    public mutating func apply(_ event: DeviceSourceEvent, from handle: DeviceHandle) -> ShiftState {
        guard devices[handle] != nil else { return state }
        switch event {
        case .key(let code, let pressed):
            guard let indices = bindingsByCode[code] else { return state }
            for i in indices { set(binding: i, pressed: pressed, on: handle) }
        case .keyState(let keys):
            for (code, indices) in bindingsByCode {
                let pressed = keys.contains(code)
                for i in indices { set(binding: i, pressed: pressed, on: handle) }
            }
        case .ended:
            return state
        }
        recompute()
        return state
    }

    private mutating func set(binding i: Int, pressed: Bool, on handle: DeviceHandle) {
        let binding = bindings[i]
        guard var device = devices[handle] else { return }
        if let wanted = binding.device, wanted != device.label { return }
        let wasPressed = device.held.contains(i)
        guard wasPressed != pressed else { return }
        if pressed {
            device.held.insert(i)
            holders[i] += 1
            if binding.mode == .toggle { toggled[i].toggle() }
        } else {
            device.held.remove(i)
            holders[i] -= 1
        }
        devices[handle] = device
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
