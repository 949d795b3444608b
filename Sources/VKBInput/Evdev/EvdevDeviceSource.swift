import CEvdev
import Logging

#if canImport(Glibc)
import Glibc
#endif
import VKBCore
import VKBLoop

/// Reads one `/dev/input/eventN` node through libevdev and reports its key state.
///
/// - Opens the node read-only, non-blocking, close-on-exec, and never grabs it: the
///   game keeps seeing the stick.
/// - The first event is the key state libevdev loaded at open (`EVIOCGKEY`), so a
///   button already held when the bridge starts counts.
/// - After `SYN_DROPPED` it lets libevdev resync (`LIBEVDEV_READ_FLAG_SYNC`) and
///   reports the fresh key state.
/// - Only `EV_KEY` matters. Axis and scan-code events are masked in the kernel
///   (`EVIOCSMASK`), so a 1 kHz stick with moving axes does not even wake the loop;
///   where the mask is unsupported libevdev drops them right after `read()`.
/// - `ENODEV` (the device went away) fails the reader with `EvdevSourceError.gone`.
///
/// Right after a hotplug the node can exist before udev grants access, so `EACCES` at
/// open is retried every 100 ms (a loop deadline) for `permissionRetry`.
///
/// Buttons 81–128, which evdev never delivers, come from the stick's hidraw node
/// (`DeviceDescription.hidraw`, a `HidrawReader`), opened only while a binding wants one
/// of them. Their state is merged into this device's: `.keyState` carries both, and their
/// changes arrive as `.key` with vkb-bridge's hidraw codes. When hidraw cannot be read (no
/// access, a descriptor it does not understand), that is logged and buttons 1–80 go on.
public final class EvdevDeviceSource: DeviceSource {
    public let device: DeviceDescription
    /// How long `EACCES`/`EPERM` at open is retried before the reader gives up.
    public let permissionRetry: Duration
    private let logger: Logger

    /// A source for `device.path`. Opens nothing yet.
    public init(
        device: DeviceDescription,
        permissionRetry: Duration = .seconds(5),
        logger: Logger = Logger(label: "vkb-bridge.evdev")
    ) {
        self.device = device
        self.permissionRetry = permissionRetry
        self.logger = logger
    }

    public func open(
        on loop: EpollLoop, wanting wanted: KeySet, events: @escaping DeviceEventHandler,
        failed: @escaping DeviceFailureHandler
    ) -> any DeviceReader {
        let reader = EvdevReader(
            device: device, permissionRetry: permissionRetry, logger: logger, loop: loop, events: events, failed: failed)
        reader.wanted = wanted
        reader.open()
        return reader
    }

    /// `_IOW('E', 0x93, struct input_mask)`; the macro does not import into Swift.
    static let eviocsmask = UInt(1 << 30 | MemoryLayout<input_mask>.size << 16 | Int(UInt8(ascii: "E")) << 8 | 0x93)

    /// Every key code 0…`KEY_MAX` inclusive: `KEY_MAX` (0x2FF) is VKB button 80.
    static func keyState(_ handle: OpaquePointer) -> KeySet {
        var keys = KeySet()
        for code in 0...UInt32(KeyCode.max) where libevdev_get_event_value(handle, UInt32(EventType.key), code) != 0 {
            keys.insert(UInt16(code))
        }
        return keys
    }
}

/// Owns one node's descriptor and libevdev handle, and the stick's `HidrawReader` while
/// buttons above 80 are wanted, on the loop's thread.
final class EvdevReader: DeviceReader {
    private let device: DeviceDescription
    private var path: String { device.path }
    private let permissionRetry: Duration
    private let logger: Logger
    private let loop: EpollLoop
    private let events: DeviceEventHandler
    private let failure: FailureReport
    private var node: LoopDescriptor?
    private var fd: Int32 { node?.fd ?? -1 }
    private var handle: OpaquePointer?
    private var retry: EpollLoop.Timer?
    private var stopped = false
    /// In `drain`: the handle stays until it returns, whoever stops the reader meanwhile.
    private var draining = false
    private var attempts = 0
    private var deadline: UInt64 = 0
    /// The codes the bindings read from this device.
    var wanted = KeySet()
    private var hidraw: HidrawReader?

    init(
        device: DeviceDescription, permissionRetry: Duration, logger: Logger, loop: EpollLoop,
        events: @escaping DeviceEventHandler, failed: @escaping DeviceFailureHandler
    ) {
        self.device = device
        self.permissionRetry = permissionRetry
        self.logger = logger
        self.loop = loop
        self.events = events
        self.failure = FailureReport(loop: loop, failed: failed)
    }

    deinit {
        close()
    }

    func stop() {
        stopped = true
        failure.cancel()
        close()
    }

    func want(_ wanted: KeySet) {
        let before = self.wanted.filter(KeyCode.isHidraw)
        self.wanted = wanted
        guard !stopped, let handle, wanted.filter(KeyCode.isHidraw) != before else { return }
        hidraw?.stop()
        hidraw = nil
        openHidraw()
        events(.keyState(keyState(handle)))
    }

    /// The state evdev holds and the wanted hidraw buttons down now.
    private func keyState(_ handle: OpaquePointer) -> KeySet {
        let keys = EvdevDeviceSource.keyState(handle)
        return hidraw.map { keys.union($0.held) } ?? keys
    }

    /// Opens the hidraw node when a binding wants a button above 80; its state at open
    /// goes into the next `.keyState`.
    private func openHidraw() {
        let buttons = wanted.filter(KeyCode.isHidraw).codes.compactMap(VKBButton.button(forCode:))
        guard !buttons.isEmpty else { return }
        guard let node = device.hidraw else {
            logger.warning("\(path): no hidraw node found for this device; bindings on buttons \(buttons.map(String.init).joined(separator: ", ")) cannot be read")
            return
        }
        let reader = HidrawReader(
            path: node, wanted: buttons, loop: loop, logger: logger,
            events: { [unowned self] event in
                if !stopped { events(event) }
            },
            failed: { [unowned self] error in
                logger.error("\(error); buttons 1-80 of \(path) are still read")
                hidraw = nil
            })
        hidraw = reader
        reader.open()
        logger.info("\(path): reading buttons \(buttons.map(String.init).joined(separator: ", ")) from \(node)")
    }

    private func close() {
        guard !draining else { return }
        hidraw?.stop()
        hidraw = nil
        if let retry { loop.cancel(retry) }
        retry = nil
        // libevdev's handle goes first: it reads the descriptor, it does not own it.
        if let handle { libevdev_free(handle) }
        handle = nil
        node?.close()
        node = nil
    }

    /// Closes everything and reports `error` through the loop (never inside `open`).
    private func fail(_ error: EvdevSourceError) {
        close()
        stopped = true
        failure.report(error)
    }

    // MARK: - Opening

    func open() {
        deadline = MonotonicClock.now() &+ permissionRetry.nanoseconds
        tryOpen()
    }

    private func tryOpen() {
        retry = nil
        guard !stopped else { return }
        var node: Int32
        repeat { node = Glibc.open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC) } while node < 0 && errno == EINTR
        guard node >= 0 else {
            let err = errno
            switch err {
            case EACCES, EPERM:
                if MonotonicClock.now() >= deadline {
                    return fail(.permissionDenied(path: path, waited: permissionRetry))
                }
                attempts += 1
                logger.debug("\(path): permission denied, retrying (udev may not have set the ACL yet)")
                retry = loop.schedule(in: .milliseconds(100)) { [self] in tryOpen() }
            case ENOENT, ENODEV, ENXIO:
                fail(.gone(path: path))
            default:
                fail(.openFailed(path: path, errno: err))
            }
            return
        }
        self.node = LoopDescriptor(owning: node, on: loop)
        if attempts > 0 { logger.info("opened \(path) after \(attempts) permission retries") }
        let rc = libevdev_new_from_fd(fd, &handle)
        guard rc == 0, let handle else {
            return fail(rc == -ENODEV ? .gone(path: path) : .initFailed(path: path, errno: -rc))
        }
        dropNonKeyEvents(handle: handle)
        do {
            try self.node?.watch(.readable) { [unowned self] events in readable(events) }
        } catch {
            return fail(.readFailed(path: path, errno: error.errno))
        }
        openHidraw()
        events(.keyState(keyState(handle)))
    }

    // MARK: - Reading

    /// Asks the kernel to queue only `EV_SYN` and `EV_KEY` for this client, and libevdev
    /// to discard whatever other types still arrive (older kernels, emulated nodes).
    private func dropNonKeyEvents(handle: OpaquePointer) {
        // EVIOCSMASK for type 0 sets the per-client mask of event *types*. With every
        // other type masked, frames that only move axes are dropped whole by evdev
        // (empty SYN_REPORTs are not queued) and wake nobody.
        var types: UInt64 = 1 << UInt64(EventType.syn) | 1 << UInt64(EventType.key)
        let rc = withUnsafeMutablePointer(to: &types) { bits in
            var mask = input_mask(type: UInt32(EventType.syn), codes_size: UInt32(MemoryLayout<UInt64>.size), codes_ptr: UInt64(UInt(bitPattern: bits)))
            return ioctl(fd, EvdevDeviceSource.eviocsmask, &mask)
        }
        if rc != 0 {
            logger.debug("\(path): EVIOCSMASK unsupported (\(SystemCallError.message(errno))); filtering in libevdev only")
        }
        for type in [EventType.rel, EventType.abs, EventType.msc, EventType.sw, EventType.led, EventType.snd, EventType.rep, EventType.ff] {
            _ = libevdev_disable_event_type(handle, UInt32(type))
        }
    }

    private func readable(_ ready: IOEvents) {
        guard let handle, !stopped else { return }
        if !ready.isDisjoint(with: [.readable, .hangUp, .error]) {
            draining = true
            let error = drain(handle: handle)
            draining = false
            if let error { return fail(error) }
            if stopped { return close() }
        }
        // A hung-up node never delivers again. A real kernel reports ENODEV above; an
        // emulated one may just read 0 bytes, so end here rather than spin.
        if !stopped, !ready.isDisjoint(with: [.hangUp, .error]) {
            fail(.hungUp(path: path))
        }
    }

    /// Reports everything queued, until libevdev would block; the error that ends reading.
    private func drain(handle: OpaquePointer) -> EvdevSourceError? {
        var event = input_event()
        let normal = LIBEVDEV_READ_FLAG_NORMAL.rawValue
        let sync = LIBEVDEV_READ_FLAG_SYNC.rawValue
        let success = Int32(LIBEVDEV_READ_STATUS_SUCCESS.rawValue)
        let needsSync = Int32(LIBEVDEV_READ_STATUS_SYNC.rawValue)
        while !stopped {
            var rc = libevdev_next_event(handle, normal, &event)
            if rc == success {
                if event.type == EventType.key, event.value == 0 || event.value == 1 {
                    events(.key(code: event.code, pressed: event.value == 1))
                }
                continue
            }
            if rc == needsSync {
                // SYN_DROPPED: libevdev re-reads the device state; the delta events it
                // replays only update its copy, from which the full state is reported.
                repeat { rc = libevdev_next_event(handle, sync, &event) } while rc == needsSync
                if rc != -EAGAIN { return failure(rc) }
                events(.keyState(keyState(handle)))
                continue
            }
            if rc == -EAGAIN { return nil }
            if rc == -EINTR { continue }
            return failure(rc)
        }
        return nil
    }

    private func failure(_ rc: Int32) -> EvdevSourceError {
        rc == -ENODEV ? .gone(path: path) : .readFailed(path: path, errno: -rc)
    }
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
