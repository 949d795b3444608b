import VKBDaemon

#if canImport(Glibc)
import Glibc
#endif

/// The entry point: moves Swift concurrency onto NIO's threads before anything runs,
/// then runs the command line in a task on them (detached: `main` is main-actor code)
/// while the main thread only waits.
///
/// Not an `async` main: its code runs on the main actor, whose executor on Linux is
/// libdispatch's main queue, drained by a libdispatch worker thread; that thread calls
/// `setpriority()`, which the unit's `SystemCallFilter=~@resources` refuses.
@main
enum Entry {
    static func main() {
        DaemonThreads.runSwiftConcurrencyOnNIO()
        Task.detached {
            await VKBBridgeCommand.main()  // exits by itself on an error
            exit(0)
        }
        // Signals may land on this thread: DaemonSignals' handler forwards them.
        while true { pause() }
    }
}
