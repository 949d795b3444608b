import CEvdev
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif
import VKBCore

/// Reads one `/dev/input/eventN` node through libevdev and reports its key state.
///
/// - Opens the node read-only, non-blocking, close-on-exec, and never grabs it: the
///   game keeps seeing the stick.
/// - The first event is the key state libevdev loaded at open (`EVIOCGKEY`), so a
///   button already held when the bridge starts counts.
/// - After `SYN_DROPPED` it lets libevdev resync (`LIBEVDEV_READ_FLAG_SYNC`) and
///   reports the fresh key state.
/// - Only `EV_KEY` matters. Axis and scan-code events are masked in the kernel
///   (`EVIOCSMASK`), so a 1 kHz stick with moving axes does not even wake the reader;
///   where the mask is unsupported libevdev drops them right after `read()`.
/// - `ENODEV` (the device went away) ends `run` with `EvdevSourceError.gone`.
///
/// The node is opened in `run`, not here: right after a hotplug the node can exist
/// before udev grants access, so `EACCES` is retried for `permissionRetry`.
/// The libevdev handle is created, used and freed on the thread that calls `run`.
public final class EvdevDeviceSource: DeviceSource {
    public let device: DeviceDescription
    /// How long `EACCES`/`EPERM` at open is retried before `run` gives up.
    public let permissionRetry: Duration
    private let logger: Logger
    private let wakePipe: WakePipe
    private let stopped = Atomic<Bool>(false)

    /// A source for `device.path`. Opens nothing yet.
    public init(
        device: DeviceDescription,
        permissionRetry: Duration = .seconds(5),
        logger: Logger = Logger(label: "vkb-bridge.evdev")
    ) throws {
        self.device = device
        self.permissionRetry = permissionRetry
        self.logger = logger
        self.wakePipe = try WakePipe()
    }

    public func stop() {
        if !stopped.exchange(true, ordering: .acquiringAndReleasing) {
            wakePipe.wake()
        }
    }

    public func run(_ handler: @escaping DeviceEventHandler) throws {
        guard let fd = try openNode() else { return }
        defer { close(fd) }
        var handle: OpaquePointer?
        let rc = libevdev_new_from_fd(fd, &handle)
        guard rc == 0, let handle else {
            throw rc == -ENODEV ? EvdevSourceError.gone(path: device.path) : EvdevSourceError.initFailed(path: device.path, errno: -rc)
        }
        defer { libevdev_free(handle) }
        dropNonKeyEvents(fd: fd, handle: handle)
        handler(.keyState(Self.keyState(handle)))
        try readLoop(fd: fd, handle: handle, handler: handler)
    }

    // MARK: - Opening

    /// The open node, or nil when stopped while waiting for access.
    private func openNode() throws -> Int32? {
        let path = device.path
        let deadline = ContinuousClock.now + permissionRetry
        var attempts = 0
        while !stopped.load(ordering: .acquiring) {
            let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            if fd >= 0 {
                if attempts > 0 { logger.info("opened \(path) after \(attempts) permission retries") }
                return fd
            }
            let err = errno
            switch err {
            case EINTR:
                continue
            case EACCES, EPERM:
                if ContinuousClock.now >= deadline {
                    throw EvdevSourceError.permissionDenied(path: path, waited: permissionRetry)
                }
                attempts += 1
                logger.debug("\(path): permission denied, retrying (udev may not have set the ACL yet)")
                waitForStop(milliseconds: 100)
            case ENOENT, ENODEV, ENXIO:
                throw EvdevSourceError.gone(path: path)
            default:
                throw EvdevSourceError.openFailed(path: path, errno: err)
            }
        }
        return nil
    }

    private func waitForStop(milliseconds: Int32) {
        var pfd = pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0)
        _ = poll(&pfd, 1, milliseconds)
    }

    // MARK: - Reading

    /// Asks the kernel to queue only `EV_SYN` and `EV_KEY` for this client, and libevdev
    /// to discard whatever other types still arrive (older kernels, emulated nodes).
    private func dropNonKeyEvents(fd: Int32, handle: OpaquePointer) {
        // EVIOCSMASK for type 0 sets the per-client mask of event *types*. With every
        // other type masked, frames that only move axes are dropped whole by evdev
        // (empty SYN_REPORTs are not queued) and wake nobody.
        var types: UInt64 = 1 << UInt64(EventType.syn) | 1 << UInt64(EventType.key)
        let rc = withUnsafeMutablePointer(to: &types) { bits in
            var mask = input_mask(type: UInt32(EventType.syn), codes_size: UInt32(MemoryLayout<UInt64>.size), codes_ptr: UInt64(UInt(bitPattern: bits)))
            return ioctl(fd, Self.eviocsmask, &mask)
        }
        if rc != 0 {
            logger.debug("\(device.path): EVIOCSMASK unsupported (\(SystemCallError.message(errno))); filtering in libevdev only")
        }
        for type in [EventType.rel, EventType.abs, EventType.msc, EventType.sw, EventType.led, EventType.snd, EventType.rep, EventType.ff] {
            _ = libevdev_disable_event_type(handle, UInt32(type))
        }
    }

    private func readLoop(fd: Int32, handle: OpaquePointer, handler: DeviceEventHandler) throws {
        var fds = [
            pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
            pollfd(fd: wakePipe.readFD, events: Int16(POLLIN), revents: 0),
        ]
        while !stopped.load(ordering: .acquiring) {
            let n = poll(&fds, 2, -1)
            if n < 0 {
                if errno == EINTR { continue }
                throw EvdevSourceError.readFailed(path: device.path, errno: errno)
            }
            if fds[1].revents != 0 { return }
            let events = Int32(fds[0].revents)
            if events & Int32(POLLIN | POLLHUP | POLLERR) != 0 {
                try drain(handle: handle, handler: handler)
            }
            // A hung-up node never delivers again. A real kernel reports ENODEV above;
            // an emulated one may just read 0 bytes, so end here rather than spin.
            if events & Int32(POLLHUP | POLLERR | POLLNVAL) != 0 {
                throw EvdevSourceError.hungUp(path: device.path)
            }
        }
    }

    /// Reports everything queued, until libevdev would block.
    private func drain(handle: OpaquePointer, handler: DeviceEventHandler) throws {
        var event = input_event()
        let normal = LIBEVDEV_READ_FLAG_NORMAL.rawValue
        let sync = LIBEVDEV_READ_FLAG_SYNC.rawValue
        let success = Int32(LIBEVDEV_READ_STATUS_SUCCESS.rawValue)
        let needsSync = Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue)
        while true {
            var rc = libevdev_next_event(handle, normal, &event)
            if rc == success {
                if event.type == EventType.key, event.value == 0 || event.value == 1 {
                    handler(.key(code: event.code, pressed: event.value == 1))
                }
                continue
            }
            if rc == needsSync {
                // SYN_DROPPED: libevdev re-reads the device state; the delta events it
                // replays only update its copy, from which the full state is reported.
                repeat { rc = libevdev_next_event(handle, sync, &event) } while rc == needsSync
                if rc != -EAGAIN { try fail(rc) }
                handler(.keyState(Self.keyState(handle)))
                continue
            }
            if rc == -EAGAIN { return }
            if rc == -EINTR { continue }
            try fail(rc)
        }
    }

    private func fail(_ rc: Int32) throws -> Never {
        if rc == -ENODEV { throw EvdevSourceError.gone(path: device.path) }
        throw EvdevSourceError.readFailed(path: device.path, errno: -rc)
    }

    /// Every key code 0…`KEY_MAX` inclusive: `KEY_MAX` (0x2FF) is VKB button 80.
    static func keyState(_ handle: OpaquePointer) -> KeySet {
        var keys = KeySet()
        for code in 0...UInt32(KeyCode.max) where libevdev_get_event_value(handle, UInt32(EventType.key), code) != 0 {
            keys.insert(UInt16(code))
        }
        return keys
    }

    /// `_IOW('E', 0x93, struct input_mask)`; the macro does not import into Swift.
    static let eviocsmask = UInt(1 << 30 | MemoryLayout<input_mask>.size << 16 | Int(UInt8(ascii: "E")) << 8 | 0x93)

    private var path: String { device.path }
}

/// Why an evdev source could not open or keep reading its node.
public enum EvdevSourceError: Error, CustomStringConvertible, Equatable {
    /// Still `EACCES` after retrying: the user lacks access to input devices.
    case permissionDenied(path: String, waited: Duration)
    /// The node is gone (`ENOENT`/`ENODEV`): the device was unplugged.
    case gone(path: String)
    /// The node hung up (`POLLHUP`): nothing more will come from it.
    case hungUp(path: String)
    case openFailed(path: String, errno: Int32)
    case initFailed(path: String, errno: Int32)
    case readFailed(path: String, errno: Int32)

    /// The udev rule that grants the bridge's user read access to VKB sticks.
    public static let udevRule = "udev-rules/70-vkb-bridge.rules"

    public var description: String {
        switch self {
        case .permissionDenied(let path, let waited):
            return "cannot open \(path): permission denied (still after retrying for \(waited.components.seconds) s; "
                + "udev normally grants access right after the device appears). Install the udev rule: "
                + "sudo install -m 644 \(Self.udevRule) /etc/udev/rules.d/ && sudo udevadm control --reload "
                + "&& sudo udevadm trigger --subsystem-match=input, then replug the stick; "
                + "or run the bridge as a member of group 'input'"
        case .gone(let path):
            return "\(path): device is gone"
        case .hungUp(let path):
            return "\(path): device hung up"
        case .openFailed(let path, let errno):
            return "cannot open \(path): \(SystemCallError.message(errno))"
        case .initFailed(let path, let errno):
            return "\(path): libevdev cannot read the device: \(SystemCallError.message(errno))"
        case .readFailed(let path, let errno):
            return "\(path): read failed: \(SystemCallError.message(errno))"
        }
    }
}
