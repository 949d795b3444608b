import Foundation
import Testing

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

/// A bound `AF_UNIX` datagram socket in a fresh temporary directory, standing in for
/// systemd's notification socket.
final class NotifySocket {
    let directory: URL
    let path: String
    private let fd: Int32

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("notify").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = path.utf8CString
        guard bytes.count <= MemoryLayout.size(ofValue: address.sun_path) else { throw POSIXError(.ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            bytes.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    deinit {
        close(fd)
        try? FileManager.default.removeItem(at: directory)
    }

    /// Every datagram already queued, in order. The sender has exited, so nothing more comes.
    func receiveAll() -> [String] {
        var messages: [String] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
            guard n >= 0 else { return messages }
            messages.append(String(decoding: buffer[0..<n], as: UTF8.self))
        }
    }
}
