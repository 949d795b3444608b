import Foundation
import Glibc
import Testing
import VKBCore

/// The options on the connected sockets of the sender, the probe and the sink, read back
/// with `getsockopt` on the very socket while the programs run as the daemon's
/// unprivileged user. `TCP_NODELAY` must be set at `IPPROTO_TCP`: the same number at
/// `SOL_SOCKET` is `SO_DEBUG`, which needs `CAP_NET_ADMIN`, so as anyone but root the
/// connection failed with `EACCES` (DESIGN §3).
@Suite struct SocketOptionsTests {
    /// The programs must not run as root here, or a wrong-level option would pass.
    /// Call once the program has done something (setpriv switches just before exec).
    static func expectUnprivileged(_ child: ChildProcess) {
        let uid = ProcessSockets.effectiveUID(of: child.pid)
        #expect(uid != nil && uid != 0, "\(child.name) runs as uid \(uid.map(String.init) ?? "?")")
    }

    /// The connected sockets of `child` whose ports satisfy `match`, once there is one.
    static func sockets(
        of child: ChildProcess, _ what: String, matching match: @escaping (ProcessSockets.TCPSocket) -> Bool
    ) async throws -> [ProcessSockets.TCPSocket] {
        var found: [ProcessSockets.TCPSocket] = []
        try await eventually("\(what) in \(child.name)", timeout: .seconds(10), context: { child.report() }) {
            found = try ProcessSockets.connectedTCP(of: child.pid).filter(match)
            return !found.isEmpty
        }
        return found
    }

    @Test func senderAndSinkSocketsHaveNoDelayAtTCPLevelAndNoDebug() async throws {
        let tmp = try TemporaryDirectory()
        let sink = try await SinkProcess.start()
        let rec = try RecordingWriter.write([.init(seconds: 0, button: 20, down: true)], named: "held.evemu", in: tmp.url)
        let bridge = try BridgeProcess(
            config: BridgeProcess.config(port: sink.port), arguments: ["--replay", rec, "--speed", "0"],
            directory: tmp.url)
        // Delivered as an unprivileged user: the packet decoded at the sink.
        try await sink.waitForState(ShiftState(shift: 1))
        // Checked once they run (before, setpriv may not have switched yet).
        Self.expectUnprivileged(sink.process)
        Self.expectUnprivileged(bridge.child)

        let port = sink.port
        for socket in try await Self.sockets(of: bridge.child, "the connection to the sink", matching: { $0.peerPort == port }) {
            #expect(socket.noDelay, "sender: \(socket)")
            #expect(!socket.debug, "sender: \(socket)")
            #expect(socket.keepAlive, "sender: \(socket)")
        }
        for socket in try await Self.sockets(of: sink.process, "the accepted connection", matching: { $0.localPort == port }) {
            #expect(socket.noDelay, "sink: \(socket)")
            #expect(!socket.debug, "sink: \(socket)")
        }
        try await bridge.stop()
        try await sink.stop()
    }

    @Test func probeSocketHasNoDelayAtTCPLevelAndNoDebug() async throws {
        let sink = try await SinkProcess.start()
        let probe = try ChildProcess(
            executable: try TestBinaries.bridge, arguments: ["probe", "--port", "\(sink.port)", "--hold", "60"])
        // The probe reports only after its hold: the sink sees the connection first.
        try await sink.waitFor("the probe's connection") { $0.connects.count == 1 }
        Self.expectUnprivileged(probe)
        let port = sink.port
        for socket in try await Self.sockets(of: probe, "the probe's connection", matching: { $0.peerPort == port }) {
            #expect(socket.noDelay, "probe: \(socket)")
            #expect(!socket.debug, "probe: \(socket)")
        }
        try await probe.stop()
        try await sink.stop()
    }
}
