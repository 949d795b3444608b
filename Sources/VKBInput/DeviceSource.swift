import VKBCore

/// Receives a source's events, in order, on the source's own reading thread.
public typealias DeviceEventHandler = @Sendable (DeviceSourceEvent) -> Void

/// One input device being read: a real evdev node or a replayed recording.
///
/// A source is driven by exactly one thread that calls `run`, which blocks until the
/// device ends, disappears, or `stop()` is called from any thread.
public protocol DeviceSource: AnyObject, Sendable {
    /// Identity and capabilities, used to match the device against the config.
    var device: DeviceDescription { get }

    /// Reads the device and reports to `handler` until stopped. The first event is
    /// always `.keyState`. Returns normally after `stop()` or at the end of a
    /// recording (after `.ended`); throws when the device fails or goes away.
    func run(_ handler: @escaping DeviceEventHandler) throws

    /// Makes `run` return soon. Safe from any thread, idempotent.
    func stop()
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

/// Receives watcher events, in order, on the watcher's thread.
public typealias DeviceWatcherHandler = @Sendable (DeviceWatcherEvent) -> Void

/// Finds devices and follows them coming and going: udev for real sticks, a fixed
/// list of recordings for replay.
public protocol DeviceWatcher: AnyObject, Sendable {
    /// Reports the devices present now, then follows changes until `stop()`. Blocks.
    func run(_ handler: @escaping DeviceWatcherHandler) throws
    /// Makes `run` return soon. Safe from any thread, idempotent.
    func stop()
}
