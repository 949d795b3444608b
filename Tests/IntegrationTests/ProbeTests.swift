import Foundation
import Testing
import VKBCore

/// `vkb-bridge probe` against real sinks.
@Suite struct ProbeTests {
    func probe(_ arguments: [String]) async throws -> ChildProcess {
        let child = try ChildProcess(executable: try TestBinaries.bridge, arguments: ["probe"] + arguments)
        _ = try await child.waitForExit()
        try await child.waitForOutputClosed()
        return child
    }

    @Test func reachableServerIsReportedAndGetsNothing() async throws {
        let sink = try await SinkProcess.start()
        let child = try await probe(["--port", "\(sink.port)", "--hold", "0.3"])
        #expect(child.exitStatus == .exited(0), "\(child.report())")
        #expect(child.stdout.lines.contains { $0.hasPrefix("connected to 127.0.0.1:\(sink.port) in ") })
        try await sink.waitFor("the probe's connect and disconnect") { $0.connects.count == 1 && $0.disconnects.count == 1 }
        #expect(sink.packets.isEmpty, "probe must not change the device's state")
        try await sink.stop()
    }

    @Test func sendStateIsDeliveredAndAcknowledged() async throws {
        let sink = try await SinkProcess.start()
        let child = try await probe(["--port", "\(sink.port)", "--hold", "0", "--send-state", "shift2+subshift7"])
        #expect(child.exitStatus == .exited(0), "\(child.report())")
        #expect(child.stdout.lines.contains { $0.contains("the server's kernel acknowledged it") })
        try await sink.waitForState(ShiftState(shift: 2, subshift: 0x40))
        try await sink.stop()
    }

    @Test func refusedAndDroppedConnectionsFail() async throws {
        let sink = try await SinkProcess.start(.init(closeAfter: 0))
        let dropped = try await probe(["--port", "\(sink.port)", "--hold", "2"])
        #expect(dropped.exitStatus == .exited(1))
        #expect(dropped.stdout.lines.contains { $0.hasPrefix("FAILED: the server closed the connection") }, "\(dropped.report())")
        let port = sink.port
        try await sink.terminate()
        let refused = try await probe(["--port", "\(port)"])
        #expect(refused.exitStatus == .exited(1))
        #expect(refused.stdout.lines.contains { $0.contains("cannot connect to 127.0.0.1:\(port): connection refused") })
    }
}
