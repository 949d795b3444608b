import VKBDaemon

/// The entry point: moves Swift concurrency onto NIO's threads before anything runs,
/// then hands over to the command line.
@main
enum Entry {
    static func main() async {
        DaemonThreads.runSwiftConcurrencyOnNIO()
        await VKBBridgeCommand.main()
    }
}
