import Foundation
import Testing
import VKBTestSupport

@testable import VKBDaemon

/// `sd_notify` reads `NOTIFY_SOCKET` from the environment at each call, and the environment
/// is shared by every test in this process. So each case runs the notifier in an exit test:
/// a child process with its own environment, sending to a real `AF_UNIX` datagram socket
/// bound here, whose datagrams the parent then reads and checks.
@Suite struct SystemdNotifierTests {
    @Test func sendsEachMessageAsOneDatagram() async throws {
        let socket = try NotifySocket()
        await #expect(processExitsWith: .success) { [path = socket.path as String] in
            setenv("NOTIFY_SOCKET", path, 1)
            let notifier = SystemdNotifier()
            let deliveries = [
                notifier.ready(status: "waiting for 127.0.0.1:50995"),
                notifier.status("connected to 127.0.0.1:50995\nshift1"),
                notifier.watchdog(),
                notifier.reloading(),
                notifier.ready(),
                notifier.stopping(status: "stopping"),
            ]
            exit(deliveries.allSatisfy { $0 == .sent } && notifier.isConfigured ? 0 : 1)
        }
        let messages = socket.receiveAll()
        try #require(messages.count == 6)
        #expect(messages[0] == "READY=1\nSTATUS=waiting for 127.0.0.1:50995")
        #expect(messages[1] == "STATUS=connected to 127.0.0.1:50995 shift1")
        #expect(messages[2] == "WATCHDOG=1")
        let reloading = messages[3].split(separator: "\n").map(String.init)
        #expect(reloading.count == 2)
        #expect(reloading.first == "RELOADING=1")
        let usec = reloading.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil }
        #expect(usec.map { $0 > 0 } == true)
        #expect(messages[4] == "READY=1")
        #expect(messages[5] == "STOPPING=1\nSTATUS=stopping")
    }

    @Test func withoutNotifySocketNothingIsSent() async throws {
        let socket = try NotifySocket()
        await #expect(processExitsWith: .success) {
            unsetenv("NOTIFY_SOCKET")
            let notifier = SystemdNotifier()
            let quiet = notifier.ready() == .notConfigured && notifier.watchdog() == .notConfigured
            exit(quiet && !notifier.isConfigured ? 0 : 1)
        }
        #expect(socket.receiveAll().isEmpty)
    }

    @Test func reportsAFailedSend() async throws {
        let missing = try NotifySocket().path + ".gone"
        await #expect(processExitsWith: .success) { [missing = missing as String] in
            setenv("NOTIFY_SOCKET", missing, 1)
            exit(SystemdNotifier().ready() == .failed(errno: ENOENT) ? 0 : 1)
        }
    }

    @Test func watchdogTimeoutComesFromTheEnvironmentForThisProcessOnly() async {
        await #expect(processExitsWith: .success) {
            setenv("WATCHDOG_USEC", "30000000", 1)
            setenv("WATCHDOG_PID", String(getpid()), 1)
            let mine = SystemdNotifier()
            setenv("WATCHDOG_PID", String(getpid() + 1), 1)
            let someoneElses = SystemdNotifier()
            unsetenv("WATCHDOG_USEC")
            unsetenv("WATCHDOG_PID")
            let off = SystemdNotifier()
            let ok =
                mine.watchdogTimeout == .seconds(30) && mine.watchdogPingInterval == .seconds(15)
                && someoneElses.watchdogTimeout == nil && off.watchdogTimeout == nil
                && off.watchdogPingInterval == nil
            exit(ok ? 0 : 1)
        }
    }
}

