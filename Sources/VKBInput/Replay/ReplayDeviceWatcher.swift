import VKBLoop

/// The replay counterpart of the udev watcher: a fixed set of recorded devices, all
/// present from the start. Sources that reach their end stay attached (as an idle stick
/// would), so nothing is ever reported removed.
public final class ReplayDeviceWatcher: DeviceWatcher {
    public let sources: [any DeviceSource]

    public init(sources: [any DeviceSource]) {
        self.sources = sources
    }

    /// Loads every recording before returning, so a malformed file is refused before
    /// anything is replayed. `speed` must be finite and ≥ 0.
    public convenience init(recordingPaths: [String], speed: Double = 1, loop: Bool = false) throws(EvemuRecordingError) {
        var sources: [any DeviceSource] = []
        for path in recordingPaths {
            let recording = try EvemuRecording(contentsOfFile: path)
            sources.append(ReplayDeviceSource(recording: recording, speed: speed, loop: loop))
        }
        self.init(sources: sources)
    }

    /// Reports `.added` for each source, in order, and `.enumerated`; nothing follows.
    public func start(on loop: EpollLoop, events: @escaping DeviceWatcherHandler, failed: @escaping DeviceFailureHandler) throws
        -> any DeviceReader
    {
        for source in sources { events(.added(source)) }
        events(.enumerated)
        return Idle()
    }

    /// A follower with nothing to follow.
    private final class Idle: DeviceReader {
        func stop() {}
    }
}
