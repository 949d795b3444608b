import Logging
import VKBInput

/// The hardware backend: sticks found and followed through udev.
enum DeviceBackends {
    /// Reports every initialised event node with joystick buttons; the bridge matches
    /// them against `[[device]]` (and re-matches on reload), so the watcher does not.
    static func hardwareWatcher(logger: Logger) -> any DeviceWatcher {
        UdevDeviceWatcher(
            filter: UdevDeviceWatcher.hasJoystickButtons,
            onReady: { logger.info("udev: devices present reported, following hotplug") },
            logger: logger
        )
    }
}
