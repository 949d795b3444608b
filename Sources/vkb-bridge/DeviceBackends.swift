import ArgumentParser
import Logging
import VKBInput

/// The hardware backend: sticks found and followed through udev.
enum DeviceBackends {
    static func hardwareWatcher(logger: Logger) throws -> any DeviceWatcher {
        printError("the evdev/udev backend is not available yet: give --replay RECORDING")
        throw ExitCode(2)
    }
}
