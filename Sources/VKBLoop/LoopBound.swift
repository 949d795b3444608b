/// A value that lives on one loop's thread, carried through `Sendable` closures to jobs
/// that run there (SwiftNIO's `NIOLoopBound`). Reading it on another thread traps.
public struct LoopBound<Value>: @unchecked Sendable {
    private let stored: Value
    private let handle: LoopHandle

    /// Binds `value`, created on `loop`'s thread, to that thread.
    public init(_ value: Value, loop: EpollLoop) {
        precondition(loop.inLoopThread, "LoopBound made off its loop's thread")
        stored = value
        handle = loop.handle
    }

    public var value: Value {
        precondition(handle.inLoopThread, "LoopBound read off its loop's thread")
        return stored
    }
}

/// A slot on one loop's thread, filled later (by a job posted to the loop) and carried
/// through `Sendable` closures (SwiftNIO's `NIOLoopBoundBox`). Touching it on another
/// thread traps.
public final class LoopBoundBox<Value>: @unchecked Sendable {
    private var stored: Value?
    private let handle: LoopHandle

    /// An empty slot for `handle`'s loop.
    public init(handle: LoopHandle) {
        self.handle = handle
    }

    public var value: Value? {
        get {
            precondition(handle.inLoopThread, "LoopBoundBox read off its loop's thread")
            return stored
        }
        set {
            precondition(handle.inLoopThread, "LoopBoundBox written off its loop's thread")
            stored = newValue
        }
    }
}
