import CUdev

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
        guard let enumerator = udev_enumerate_new(udev) else { throw UdevError("udev_enumerate_new failed") }
        defer { udev_enumerate_unref(enumerator) }
        _ = udev_enumerate_add_match_subsystem(enumerator, "input")
        _ = udev_enumerate_add_match_sysname(enumerator, "event*")
        let rc = udev_enumerate_scan_devices(enumerator)
        guard rc >= 0 else { throw UdevError("cannot list input devices: \(SystemCallError.message(-rc))") }

        var result: [(Int, InputDeviceInfo)] = []
        var entry = udev_enumerate_get_list_entry(enumerator)
        while let current = entry {
            entry = udev_list_entry_get_next(current)
            guard let path = udev_list_entry_get_name(current), let raw = udev_device_new_from_syspath(udev, path) else { continue }
            defer { udev_device_unref(raw) }
            let device = UdevInputDevice(handle: raw)
            guard let description = device.description() else { continue }
            let info = InputDeviceInfo(
                device: description,
                sysPath: device.sysPath,
                isInitialized: device.isInitialized,
                isJoystick: device.isJoystick(description),
                hidButtons: device.hidHighestButton
            )
            result.append((eventNumber(device.sysName), info))
        }
        return result.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
