import CUdev
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif
import VKBCore

/// Finds input event nodes through libudev and follows them being plugged and
/// unplugged, handing out an `EvdevDeviceSource` for each.
///
/// - Listens on the udev monitor (source `"udev"`, subsystem `input`) *before*
///   enumerating, so nothing plugged in between is missed; reports the devices
///   present, then follows `add`/`remove`.
/// - Only `event*` nodes that udev has initialised are reported: before that their
///   permissions and properties are not final.
/// - Which devices: `filter` decides, given the udev-built description. The default
///   keeps joystick-like nodes (those declaring joystick buttons). The daemon passes
///   its `[[device]]` rules, e.g. `{ DeviceRule.firstMatch(in: rules, for: $0) != nil }`;
///   matching lives with the rules, in VKBShift.
/// - Each device is reported once: an `add` for a node already reported (a missed
///   `remove`, or suspend/resume) is reported as `removed` then `added`, so a
///   consumer never holds two sources for one node.
///
/// The udev context, monitor and enumerator live inside `run`, on its thread.
public final class UdevDeviceWatcher: DeviceWatcher {
    public typealias Filter = @Sendable (DeviceDescription) -> Bool

    private let filter: Filter
    private let permissionRetry: Duration
    private let onReady: (@Sendable () -> Void)?
    private let logger: Logger
    private let wakePipe: WakePipe
    private let stopped = Atomic<Bool>(false)

    /// - Parameters:
    ///   - filter: which devices to report; default: those with joystick buttons.
    ///   - permissionRetry: passed to each `EvdevDeviceSource`.
    ///   - onReady: called on the watcher's thread once the monitor listens and the
    ///     devices present have been reported (the daemon's `READY=1` moment).
    public init(
        filter: @escaping Filter = UdevDeviceWatcher.hasJoystickButtons,
        permissionRetry: Duration = .seconds(5),
        onReady: (@Sendable () -> Void)? = nil,
        logger: Logger = Logger(label: "vkb-bridge.udev")
    ) throws {
        self.filter = filter
        self.permissionRetry = permissionRetry
        self.onReady = onReady
        self.logger = logger
        self.wakePipe = try WakePipe()
    }

    /// The default filter: the device declares a key code hid-input gives joystick buttons.
    public static let hasJoystickButtons: Filter = { !$0.vkbButtons.isEmpty }

    public func stop() {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            wakePipe.wake()
        }
    }

    public func run(_ handler: @escaping DeviceWatcherHandler) throws {
        guard !stopped.load(ordering: .acquiring) else { return }
        guard let udev = udev_new() else { throw UdevError("udev_new failed: \(SystemCallError.message(errno))") }
        defer { udev_unref(udev) }
        guard let monitor = udev_monitor_new_from_netlink(udev, "udev") else {
            throw UdevError("cannot listen to udev events (udev_monitor_new_from_netlink): \(SystemCallError.message(errno))")
        }
        defer { udev_monitor_unref(monitor) }
        var rc = udev_monitor_filter_add_match_subsystem_devtype(monitor, "input", nil)
        if rc >= 0 { rc = udev_monitor_enable_receiving(monitor) }
        guard rc >= 0 else { throw UdevError("cannot listen to udev events: \(SystemCallError.message(-rc))") }
        // A suspend/resume replays every device at once; don't let the socket overflow.
        _ = udev_monitor_set_receive_buffer_size(monitor, 4 << 20)

        var state = State()
        for device in try UdevDeviceRef.presentEventNodes(udev) {
            state.add(device.device, replacing: false, handler: handler, watcher: self)
        }
        handler(.enumerated)
        onReady?()

        let monitorFD = udev_monitor_get_fd(monitor)
        var fds = [
            pollfd(fd: monitorFD, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0),
        ]
        while !stopped.load(ordering: .acquiring) {
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw UdevError("poll on the udev monitor failed: \(SystemCallError.message(errno))")
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents != 0 else { continue }
            while let raw = udev_monitor_receive_device(monitor) {
                defer { udev_device_unref(raw) }
                let device = UdevInputDevice(handle: raw)
                guard device.isEventNode else { continue }
                switch device.action {
                case "add":
                    state.add(device, replacing: true, handler: handler, watcher: self)
                case "change":
                    state.add(device, replacing: false, handler: handler, watcher: self)
                case "remove":
                    state.remove(device, handler: handler)
                default:
                    continue
                }
            }
        }
    }

    fileprivate func makeSource(_ device: DeviceDescription) -> EvdevDeviceSource? {
        do {
            return try EvdevDeviceSource(device: device, permissionRetry: permissionRetry, logger: logger)
        } catch {
            logger.error("\(device.path): cannot watch it: \(error)")
            return nil
        }
    }

    fileprivate func accepts(_ device: DeviceDescription) -> Bool { filter(device) }
    fileprivate var log: Logger { logger }

    /// Devices reported and not yet removed, by sysfs path. Lives on the run thread.
    private struct State {
        var nodesBySysPath: [String: String] = [:]

        /// `replacing`: an `add` for a device already reported means its `remove` was
        /// missed (its old source is stale); a `change`, or the monitor repeating a
        /// device the enumeration found, does not.
        mutating func add(_ device: UdevInputDevice, replacing: Bool, handler: DeviceWatcherHandler, watcher: UdevDeviceWatcher) {
            let sysPath = device.sysPath
            if let node = nodesBySysPath[sysPath] {
                guard replacing else { return }
                nodesBySysPath[sysPath] = nil
                handler(.removed(path: node))
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
                handler(.removed(path: node))
            }
            guard let source = watcher.makeSource(description) else { return }
            nodesBySysPath[sysPath] = description.path
            handler(.added(source))
        }

        mutating func remove(_ device: UdevInputDevice, handler: DeviceWatcherHandler) {
            if let node = nodesBySysPath.removeValue(forKey: device.sysPath) {
                handler(.removed(path: node))
            }
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
