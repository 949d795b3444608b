import CUdev
import Logging

#if canImport(Glibc)
import Glibc
#endif
import VKBCore
import VKBLoop

/// Finds input event nodes through libudev and follows them being plugged and
/// unplugged, handing out an `EvdevDeviceSource` for each.
///
/// - Listens on the udev monitor (source `"udev"`, subsystem `input`) *before*
///   enumerating, so nothing plugged in between is missed; reports the devices
///   present, then follows `add`/`remove` through the monitor's descriptor on the loop.
/// - Only `event*` nodes that udev has initialised are reported: before that their
///   permissions and properties are not final.
/// - Which devices: `filter` decides, given the udev-built description. The default
///   keeps joystick-like nodes (those declaring joystick buttons), which is what the
///   daemon uses: its `[[device]]` rules are matched by the bridge, so a reload can
///   re-match the devices already seen. `monitor --all` passes a filter that keeps all.
/// - Each device is reported once: an `add` for a node already reported (a missed
///   `remove`, or suspend/resume) is reported as `removed` then `added`, so a
///   consumer never holds two sources for one node.
public final class UdevDeviceWatcher: DeviceWatcher {
    public typealias Filter = @Sendable (DeviceDescription) -> Bool

    private let filter: Filter
    private let permissionRetry: Duration
    private let onReady: (@Sendable () -> Void)?
    private let logger: Logger

    /// - Parameters:
    ///   - filter: which devices to report; default: those with joystick buttons.
    ///   - permissionRetry: passed to each `EvdevDeviceSource`.
    ///   - onReady: called once the monitor listens and the devices present have been
    ///     reported (`run` logs it, `monitor` prints "watching udev"; the service's
    ///     `READY=1` comes later, from `BridgeService`, once the sender may start).
    public init(
        filter: @escaping Filter = UdevDeviceWatcher.hasJoystickButtons,
        permissionRetry: Duration = .seconds(5),
        onReady: (@Sendable () -> Void)? = nil,
        logger: Logger = Logger(label: "vkb-bridge.udev")
    ) {
        self.filter = filter
        self.permissionRetry = permissionRetry
        self.onReady = onReady
        self.logger = logger
    }

    /// The default filter: the device declares a key code hid-input gives joystick buttons.
    public static let hasJoystickButtons: Filter = { !$0.vkbButtons.isEmpty }

    public func start(on loop: EpollLoop, events: @escaping DeviceWatcherHandler, failed: @escaping DeviceFailureHandler) throws
        -> any DeviceReader
    {
        let follower = try UdevFollower(watcher: self, loop: loop, events: events, failed: failed)
        try follower.start()
        onReady?()
        return follower
    }

    fileprivate func makeSource(_ device: DeviceDescription) -> EvdevDeviceSource {
        EvdevDeviceSource(device: device, permissionRetry: permissionRetry, logger: logger)
    }

    fileprivate func accepts(_ device: DeviceDescription) -> Bool { filter(device) }
    fileprivate var log: Logger { logger }
}

/// Owns the udev context and monitor of one `UdevDeviceWatcher.start`, and what it reported.
private final class UdevFollower: DeviceReader {
    private let watcher: UdevDeviceWatcher
    private let loop: EpollLoop
    private let events: DeviceWatcherHandler
    private let failed: DeviceFailureHandler
    private var udev: OpaquePointer?
    private var monitor: OpaquePointer?
    private var registration: EpollLoop.Registration?
    /// Devices reported and not yet removed: sysfs path → node.
    private var nodesBySysPath: [String: String] = [:]

    init(watcher: UdevDeviceWatcher, loop: EpollLoop, events: @escaping DeviceWatcherHandler, failed: @escaping DeviceFailureHandler) throws {
        self.watcher = watcher
        self.loop = loop
        self.events = events
        self.failed = failed
        guard let udev = udev_new() else { throw UdevError("udev_new failed: \(SystemCallError.message(errno))") }
        self.udev = udev
        guard let monitor = udev_monitor_new_from_netlink(udev, "udev") else {
            throw UdevError("cannot listen to udev events (udev_monitor_new_from_netlink): \(SystemCallError.message(errno))")
        }
        self.monitor = monitor
    }

    deinit {
        stop()
    }

    func stop() {
        if let registration { loop.deregister(registration) }
        registration = nil
        if let monitor { udev_monitor_unref(monitor) }
        monitor = nil
        if let udev { udev_unref(udev) }
        udev = nil
    }

    func start() throws {
        guard let udev, let monitor else { return }
        var rc = udev_monitor_filter_add_match_subsystem_devtype(monitor, "input", nil)
        if rc >= 0 { rc = udev_monitor_enable_receiving(monitor) }
        guard rc >= 0 else { throw UdevError("cannot listen to udev events: \(SystemCallError.message(-rc))") }
        // A suspend/resume replays every device at once; don't let the socket overflow.
        _ = udev_monitor_set_receive_buffer_size(monitor, 4 << 20)
        do {
            registration = try loop.register(udev_monitor_get_fd(monitor), events: .readable) { [self] ready in
                received(ready)
            }
        } catch {
            throw UdevError("cannot watch the udev monitor: \(error)")
        }
        for device in try UdevDeviceRef.presentEventNodes(udev) {
            add(device.device, replacing: false)
        }
        events(.enumerated)
    }

    private func received(_ ready: IOEvents) {
        guard let monitor else { return }
        if ready.contains(.error) {
            stop()
            failed(UdevError("the udev monitor failed"))
            return
        }
        while self.monitor != nil, let raw = udev_monitor_receive_device(monitor) {
            defer { udev_device_unref(raw) }
            let device = UdevInputDevice(handle: raw)
            guard device.isEventNode else { continue }
            switch device.action {
            case "add": add(device, replacing: true)
            case "change": add(device, replacing: false)
            case "remove": remove(device)
            default: continue
            }
        }
    }

    /// `replacing`: an `add` for a device already reported means its `remove` was
    /// missed (its old source is stale); a `change`, or the monitor repeating a
    /// device the enumeration found, does not.
    private func add(_ device: UdevInputDevice, replacing: Bool) {
        let sysPath = device.sysPath
        if let node = nodesBySysPath[sysPath] {
            guard replacing else { return }
            nodesBySysPath[sysPath] = nil
            events(.removed(path: node))
        }
        guard let description = device.description() else { return }
        guard device.isInitialized else {
            watcher.log.info("\(description.path): not initialised by udev yet; waiting for udev to report it")
            return
        }
        guard watcher.accepts(description) else {
            watcher.log.debug("\(description.path): ignored (\(description.usbID) \"\(description.name)\")")
            return
        }
        // Same node under another sysfs path: its remove was missed. Replace, never duplicate.
        for (otherPath, node) in nodesBySysPath where node == description.path {
            nodesBySysPath[otherPath] = nil
            events(.removed(path: node))
        }
        nodesBySysPath[sysPath] = description.path
        events(.added(watcher.makeSource(description)))
    }

    private func remove(_ device: UdevInputDevice) {
        if let node = nodesBySysPath.removeValue(forKey: device.sysPath) {
            events(.removed(path: node))
        }
    }
}

/// Owns one `udev_device` reference.
final class UdevDeviceRef {
    let device: UdevInputDevice

    init(_ raw: OpaquePointer) { device = UdevInputDevice(handle: raw) }

    deinit { udev_device_unref(device.handle) }

    /// The `event*` nodes of subsystem `input` present now, initialised or not, ordered
    /// by node number.
    static func presentEventNodes(_ udev: OpaquePointer) throws -> [UdevDeviceRef] {
        guard let enumerator = udev_enumerate_new(udev) else { throw UdevError("udev_enumerate_new failed") }
        defer { udev_enumerate_unref(enumerator) }
        _ = udev_enumerate_add_match_subsystem(enumerator, "input")
        _ = udev_enumerate_add_match_sysname(enumerator, "event*")
        let rc = udev_enumerate_scan_devices(enumerator)
        guard rc >= 0 else { throw UdevError("cannot list input devices: \(SystemCallError.message(-rc))") }
        var devices: [UdevDeviceRef] = []
        var entry = udev_enumerate_get_list_entry(enumerator)
        while let current = entry {
            if let path = udev_list_entry_get_name(current), let raw = udev_device_new_from_syspath(udev, path) {
                devices.append(UdevDeviceRef(raw))
            }
            entry = udev_list_entry_get_next(current)
        }
        return devices.sorted { eventNumber($0.device.sysName) < eventNumber($1.device.sysName) }
    }
}

/// `event12` → 12, for ordering nodes as people count them.
func eventNumber(_ sysName: String) -> Int {
    Int(sysName.drop(while: { !$0.isNumber })) ?? Int.max
}
