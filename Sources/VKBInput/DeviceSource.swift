import VKBCore
import VKBLoop

/// Receives a reader's events, in order, on the loop's thread.
public typealias DeviceEventHandler = (DeviceSourceEvent) -> Void
/// Receives why a reader or a follower stopped working, once, on the loop's thread.
public typealias DeviceFailureHandler = (any Error) -> Void

/// One input device that can be read: a real evdev node, a replayed recording, a stream.
/// The source only describes the device (immutable, shareable); `open` makes the reader
/// that owns its descriptors and timers on one `EpollLoop` (DESIGN §1).
public protocol DeviceSource: AnyObject, Sendable {
    /// Identity and capabilities, used to match the device against the config.
    var device: DeviceDescription { get }

    /// Starts reading on `loop`. The first event is always `.keyState` (it may arrive
    /// before `open` returns); `.ended` closes a recording or a stream. A device that fails
    /// or goes away calls `failed` once, never before `open` returns, and has closed
    /// everything by then. `wanted`: the codes the bindings read from this device; a
    /// source may read more, but must read these where it can (buttons above 80 are read
    /// from hidraw only when wanted). Call on the loop's thread.
    func open(
        on loop: EpollLoop, wanting wanted: KeySet, events: @escaping DeviceEventHandler,
        failed: @escaping DeviceFailureHandler
    ) -> any DeviceReader
}

extension DeviceSource {
    /// Opens the device for the buttons its node delivers by itself (1–80 for evdev).
    public func open(on loop: EpollLoop, events: @escaping DeviceEventHandler, failed: @escaping DeviceFailureHandler) -> any DeviceReader {
        open(on: loop, wanting: KeySet(), events: events, failed: failed)
    }
}

/// A device being read on a loop: stop it to close its descriptors (on the loop's
/// thread, idempotent). Nothing is reported after `stop()`.
public protocol DeviceReader: AnyObject {
    func stop()
    /// The bindings changed (a reload): read what `wanted` needs from now on. A reader
    /// whose wanted state changes reports a fresh `.keyState`.
    func want(_ wanted: KeySet)
}

extension DeviceReader {
    public func want(_ wanted: KeySet) {}
}

/// A change in the set of devices present.
public enum DeviceWatcherEvent: Sendable {
    case added(any DeviceSource)
    /// The device at this path (`DeviceDescription.path`) went away.
    case removed(path: String)
    /// Every device present when the watcher started has been reported; what follows is
    /// hotplug. Sent once.
    case enumerated
}

/// Receives watcher events, in order, on the loop's thread.
public typealias DeviceWatcherHandler = (DeviceWatcherEvent) -> Void

/// Finds devices and follows them coming and going: udev for real sticks, a fixed
/// list of recordings for replay.
public protocol DeviceWatcher: AnyObject, Sendable {
    /// Reports the devices present now (before it returns: each `.added`, then
    /// `.enumerated`), then follows changes on `loop` until the follower is stopped.
    /// Throws when it cannot watch at all; `failed` (once) when it stops working later.
    func start(on loop: EpollLoop, events: @escaping DeviceWatcherHandler, failed: @escaping DeviceFailureHandler) throws
        -> any DeviceReader
}
