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

    /// Calls `handler` whenever the descriptor is readable — or, for a regular file, which
    /// epoll refuses because it is always readable, once per loop turn until the
    /// descriptor is closed, so a long file cannot starve the loop either.
    public func watchReadable(_ handler: @escaping () -> Void) throws(SystemCallError) {
        do {
            try watch(.readable) { _ in handler() }
        } catch where error.errno == EPERM {
            readEachTurn(handler)
        }
    }

    private func readEachTurn(_ handler: @escaping () -> Void) {
        loop.schedule(in: .zero) { [weak self] in
            guard let self, fd >= 0 else { return }
            handler()
            readEachTurn(handler)
        }
    }

    /// Stops watching and closes; idempotent.
    public func close() {
        if let registration { loop.deregister(registration) }
        registration = nil
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}
