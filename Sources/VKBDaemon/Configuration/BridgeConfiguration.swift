import VKBCore
import VKBInput
import VKBSender
import VKBShift

/// Everything a config file says. See docs/configuration.md for every key.
public struct BridgeConfiguration: Sendable, Equatable {
    public var sender: SenderConfiguration
    /// Send an all-clear state before closing on shutdown.
    public var clearOnExit: Bool
    public var devices: [DeviceRule]
    public var bindings: [Binding]

    public init(
        sender: SenderConfiguration = .init(), clearOnExit: Bool = false, devices: [DeviceRule] = [],
        bindings: [Binding] = []
    ) {
        self.sender = sender
        self.clearOnExit = clearOnExit
        self.devices = devices
        self.bindings = bindings
    }

    /// The `[[device]]` rule a device matches, and whether it is used at all: with no
    /// rules every device the watcher reports is used, unlabelled.
    public func match(_ device: DeviceDescription) -> (use: Bool, label: String?) {
        if devices.isEmpty { return (true, nil) }
        guard let rule = DeviceRule.firstMatch(in: devices, for: device) else { return (false, nil) }
        return (true, rule.id)
    }
}
