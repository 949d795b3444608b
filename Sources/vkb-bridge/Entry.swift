import ArgumentParser

#if canImport(Glibc)
import Glibc
#endif

/// The entry point. The arguments are parsed on the main thread before any other thread
/// exists; the daemon's commands (`run`, `monitor`) then run right here, on the main
/// thread, around their one event loop: no Swift concurrency, no libdispatch, and the
/// signals they block are blocked in every thread the process will ever have. The tools
/// that use Swift concurrency (`demo`, `probe`) run in a task on its global pool while
/// the main thread only waits.
@main
enum Entry {
    static func main() {
        var command: any ParsableCommand
        do {
            command = try VKBBridgeCommand.parseAsRoot()
        } catch {
            VKBBridgeCommand.exit(withError: error)
        }
        guard var asynchronous = command as? any AsyncParsableCommand else {
            do {
                try command.run()
            } catch {
                VKBBridgeCommand.exit(withError: error)
            }
            exit(0)
        }
        Task.detached {
            do {
                try await asynchronous.run()
            } catch {
                VKBBridgeCommand.exit(withError: error)
            }
            exit(0)
        }
        while true { pause() }
    }
}
