// Owns one descriptor and its registration with a loop, closed together.

import Glibc
import VKBCore

/// A descriptor a reader owns on a loop: taken over at open, watched once it is ready to
/// be read, and deregistered and closed together (on `close()` or when freed), so no
/// handler outlives its descriptor and no number is closed twice.
public final class LoopDescriptor {
    /// The descriptor; -1 once closed.
    public private(set) var fd: Int32
    private let loop: EpollLoop
    private var registration: EpollLoop.Registration?

    /// Takes over `fd` (open, not yet watched).
    public init(owning fd: Int32, on loop: EpollLoop) {
        self.fd = fd
        self.loop = loop
    }

    deinit {
        close()
    }

    /// Watches the descriptor for `events`.
    public func watch(_ events: IOEvents, handler: @escaping EpollLoop.Handler) throws(SystemCallError) {
        guard fd >= 0, registration == nil else { return }
        registration = try loop.register(fd, events: events, handler: handler)
    }

    /// Stops watching and closes; idempotent.
    public func close() {
        if let registration { loop.deregister(registration) }
        registration = nil
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
