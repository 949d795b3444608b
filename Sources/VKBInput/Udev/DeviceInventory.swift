import CUdev
import VKBCore

/// One input event device as `vkb-bridge devices` shows it.
public struct InputDeviceInfo: Sendable, Hashable {
    public var device: DeviceDescription
    /// `/sys/devices/…/inputN/eventM`.
    public var sysPath: String
    /// udev has processed it; the watcher reports only initialised devices.
    public var isInitialized: Bool
    /// udev tagged it `ID_INPUT_JOYSTICK`, or it declares joystick buttons.
    public var isJoystick: Bool
    /// The highest button number its HID report descriptor declares, when known.
    /// Above `VKBButton.maxDeliverable` the kernel drops the rest.
    public var hidButtons: Int?

    public init(device: DeviceDescription, sysPath: String, isInitialized: Bool, isJoystick: Bool, hidButtons: Int?) {
        self.device = device
        self.sysPath = sysPath
        self.isInitialized = isInitialized
        self.isJoystick = isJoystick
        self.hidButtons = hidButtons
    }
}

/// Lists every input event device udev knows, initialised or not.
public enum DeviceInventory {
    /// All `event*` nodes of subsystem `input`, ordered by node number.
    public static func scan() throws -> [InputDeviceInfo] {
        guard let udev = udev_new() else { throw UdevError("udev_new failed") }
        defer { udev_unref(udev) }
        return try UdevDeviceRef.presentEventNodes(udev).compactMap { ref in
            let device = ref.device
            guard let description = device.description() else { return nil }
            return InputDeviceInfo(
                device: description,
                sysPath: device.sysPath,
                isInitialized: device.isInitialized,
                isJoystick: device.isJoystick(description),
                hidButtons: device.hidHighestButton
            )
        }
    }
}
