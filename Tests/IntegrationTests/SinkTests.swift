import Foundation
import Testing
import VKBCore
import VKBWire

/// `vkb-telemetry-sink` as a real process, talked to over real TCP on loopback.
@Suite("vkb-telemetry-sink")
struct SinkTests {
    static func packet(_ shift: UInt8, _ subshift: UInt8 = 0) -> [UInt8] {
        VKBShiftBitmapPacket(state: ShiftState(shift: shift, subshift: subshift)).bytes
    }

    static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// The sink decodes the wire format and nothing else: no input library is linked in
    /// (VKBCore + VKBWire only). The bridge, which reads sticks, is the contrast.
    @Test("the sink links neither libevdev nor libudev")
    func sinkLinksNoInputLibraries() throws {
        let sink = try ServiceTestSupport.run("ldd", [TestBinaries.sink])
        try #require(sink.status == 0, "\(sink.stderr)")
        #expect(!sink.stdout.contains("libevdev"), "\(sink.stdout)")
        #expect(!sink.stdout.contains("libudev"), "\(sink.stdout)")
        let bridge = try ServiceTestSupport.run("ldd", [TestBinaries.bridge])
        #expect(bridge.stdout.contains("libevdev") && bridge.stdout.contains("libudev"), "\(bridge.stdout)")
    }

    @Test("packets are reported in order with their raw bytes, then the disconnect")
    func packetsInOrder() async throws {
        let sink = try await SinkProcess.start()
        let states = [
            ShiftState(shift: 1), ShiftState(shift: 2, subshift: 0x7F), ShiftState(subshift: 0x04), ShiftState.clear,
        ]
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        for state in states {
            try client.send(VKBShiftBitmapPacket(state: state).bytes)
        }
        // One more, split byte by byte across writes.
        for byte in Self.packet(3, 0x55) {
            try client.send([byte])
        }
        let packets = try await sink.waitForPackets(5)
        #expect(packets.map(\.state) == states + [ShiftState(shift: 3, subshift: 0x55)])
        #expect(packets.map(\.raw) == (states.map { VKBShiftBitmapPacket(state: $0).bytes } + [Self.packet(3, 0x55)]))
        #expect(packets.allSatisfy { $0.conn == 1 })
        #expect(sink.lastState == ShiftState(shift: 3, subshift: 0x55))
        #expect(sink.malformed.isEmpty)

        let first = try #require(sink.records.first)
        #expect(first.event == .connect(peer: "127.0.0.1:\(client.localPort)"))
        let line = try #require(sink.records.first { $0.state != nil }?.line)
        #expect(line.hasPrefix(#"{"event":"packet","conn":1,"time":"#))
        #expect(line.hasSuffix(#","shift":1,"subshift":0,"raw":"a50d000401000000"}"#))

        client.close()
        let disconnect = try await sink.waitForRecord("the disconnect") {
            if case .disconnect = $0.event { true } else { false }
        }
        #expect(disconnect.event == .disconnect(reason: "eof", packets: 5))
        #expect(disconnect.conn == 1)
        #expect(sink.records.map(\.time) == sink.records.map(\.time).sorted())
    }

    @Test("malformed bytes are reported and the stream resyncs on the next header byte")
    func malformedAndResync() async throws {
        let sink = try await SinkProcess.start()
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        let junk: [UInt8] = Array("junk".utf8)
        let badThenGood: [UInt8] = [0xA5, 0x99] + Self.packet(2, 1)  // a real packet inside a bad one
        let outsideMask: [UInt8] = [0xA5, 0x0D, 0, 4, 0x04, 0, 0, 0]
        try client.send(junk + Self.packet(1) + badThenGood + outsideMask + Self.packet(0, 0x10) + [0xA5, 0x0D, 0])
        try await sink.waitForPackets(3)
        client.close()
        try await sink.waitFor("the disconnect") { !$0.disconnects.isEmpty }

        #expect(sink.states == [ShiftState(shift: 1), ShiftState(shift: 2, subshift: 1), ShiftState(subshift: 0x10)])
        let malformed = sink.malformed.map(\.event)
        #expect(malformed == [
            .malformed(raw: junk, reason: "4 byte(s) before a header byte"),
            .malformed(raw: [0xA5, 0x99], reason: "command byte is 0x99"),
            .malformed(raw: outsideMask, reason: "bits outside the masks (shift 0x4, subshift 0x0)"),
            .malformed(raw: [0xA5, 0x0D, 0], reason: "stream ended inside a packet (3 of 8 bytes)"),
        ])
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "eof", packets: 3)])
        #expect(sink.process.isRunning)
    }

    @Test("a flood of junk makes a bounded number of records, and a packet after it still counts")
    func junkFloodIsCapped() async throws {
        let sink = try await SinkProcess.start()
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        // 100 KB of header bytes: each starts a packet that then fails; then a long run of
        // non-header junk, then a real packet.
        try client.send([UInt8](repeating: 0xA5, count: 100_000) + [UInt8](repeating: 0x11, count: 5000) + Self.packet(1))
        client.close()
        try await sink.waitFor("the disconnect") { !$0.disconnects.isEmpty }
        let limit = 100
        #expect(sink.malformed.count == limit, "\(sink.malformed.count) malformed records")
        #expect(sink.malformed.last.map { "\($0.event)".contains("no more are written") } == true)
        #expect(sink.malformed.allSatisfy {
            guard case .malformed(let raw, _) = $0.event else { return false }
            return raw.count <= 64
        })
        #expect(sink.states == [ShiftState(shift: 1)], "the packet after the junk is still decoded")
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "eof", packets: 1)])
    }

    @Test("successive and concurrent connections are numbered and kept apart")
    func connections() async throws {
        let sink = try await SinkProcess.start()
        let a = try TCPTestClient(host: sink.host, port: sink.port)
        try await sink.waitFor("connection 1") { $0.connects.count == 1 }
        let b = try TCPTestClient(host: sink.host, port: sink.port)
        try await sink.waitFor("connection 2") { $0.connects.count == 2 }
        try a.send(Self.packet(1))
        try b.send(Self.packet(2))
        try a.send(Self.packet(3))
        try await sink.waitForPackets(3)
        #expect(sink.packets.filter { $0.conn == 1 }.map(\.state) == [ShiftState(shift: 1), ShiftState(shift: 3)])
        #expect(sink.packets.filter { $0.conn == 2 }.map(\.state) == [ShiftState(shift: 2)])
        #expect(sink.connects.map(\.event) == [
            .connect(peer: "127.0.0.1:\(a.localPort)"), .connect(peer: "127.0.0.1:\(b.localPort)"),
        ])
        a.close()
        b.close()
        try await sink.waitFor("two disconnects") { $0.disconnects.count == 2 }

        let c = try TCPTestClient(host: sink.host, port: sink.port)
        try c.send(Self.packet(0, 1))
        let third = try await sink.waitForPackets(4).last
        #expect(third?.conn == 3)
        #expect(third?.state == ShiftState(subshift: 1))
    }

    @Test("--close-after N: the client sees EOF after N packets; the sink serves the next one")
    func closeAfter() async throws {
        var options = SinkProcess.Options()
        options.closeAfter = 2
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        try client.send(Self.packet(1) + Self.packet(2))
        let (_, end) = try await client.readUntilEnd()
        #expect(end == .eof)
        try await sink.waitFor("the disconnect") { !$0.disconnects.isEmpty }
        #expect(sink.states == [ShiftState(shift: 1), ShiftState(shift: 2)])
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "closed-by-sink", packets: 2)])

        let again = try TCPTestClient(host: sink.host, port: sink.port)
        try again.send(Self.packet(3))
        try await sink.waitForPackets(3)
        #expect(sink.packets.last?.conn == 2)
    }

    @Test("--close-after 0 closes on accept")
    func closeAfterZero() async throws {
        var options = SinkProcess.Options()
        options.closeAfter = 0
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        let (bytes, end) = try await client.readUntilEnd()
        #expect(bytes.isEmpty)
        #expect(end == .eof)
        try await sink.waitFor("the disconnect") { !$0.disconnects.isEmpty }
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "closed-by-sink", packets: 0)])
    }

    @Test("--reset-after N: the client sees ECONNRESET after N packets")
    func resetAfter() async throws {
        var options = SinkProcess.Options()
        options.resetAfter = 1
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        try client.send(Self.packet(2))
        let (_, end) = try await client.readUntilEnd()
        #expect(end == .reset)
        try await sink.waitFor("the disconnect") { !$0.disconnects.isEmpty }
        #expect(sink.states == [ShiftState(shift: 2)])
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "reset-by-sink", packets: 1)])
    }

    @Test("--stall: the sink reads nothing, so the client's writes end up blocking")
    func stall() async throws {
        var options = SinkProcess.Options()
        options.stall = true
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        client.setSendBufferSize(4096)
        try await sink.waitFor("the connect") { $0.connects.count == 1 }

        // Valid packets: a sink that read anything would report them.
        let chunk = Array((0..<512).map { _ in Self.packet(1) }.joined())
        let limit = 256 << 20
        var total = 0
        var blocked = false
        while total < limit {
            let n = client.trySend(chunk)
            #expect(n >= 0, "send failed: \(String(cString: strerror(errno)))")
            if n < 0 { break }
            total += n
            if n < chunk.count {
                blocked = true
                break
            }
        }
        #expect(blocked, "\(total) bytes written without blocking")
        #expect(client.trySend(chunk) == 0, "the send buffer must stay full")

        // Stopping flushes every line the sink would have written.
        #expect(try await sink.terminate() == .exited(0))
        #expect(sink.packets.isEmpty)
        #expect(sink.malformed.isEmpty)
        #expect(sink.disconnects.map(\.event) == [.disconnect(reason: "sink-stopping", packets: 0)])
    }

    @Test("--chatter: the client receives bytes on connect and after each packet")
    func chatter() async throws {
        var options = SinkProcess.Options()
        options.chatter = true
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        let chatter = Array("chatter\n".utf8)
        #expect(try await client.read(atLeast: chatter.count) == chatter)
        try client.send(Self.packet(1))
        #expect(try await client.read(atLeast: chatter.count) == chatter)
        try client.send(Self.packet(2) + Self.packet(3))
        #expect(try await client.read(atLeast: 2 * chatter.count) == chatter + chatter)
        // The sink writes each line before its chatter, but the harness may not have read it yet.
        let packets = try await sink.waitForPackets(3)
        #expect(packets.map(\.state) == [ShiftState(shift: 1), ShiftState(shift: 2), ShiftState(shift: 3)])
    }

    @Test("SIGTERM closes accepted connections (the client sees EOF), then the listener, exit 0")
    func sigterm() async throws {
        let sink = try await SinkProcess.start()
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        let idle = try TCPTestClient(host: sink.host, port: sink.port)
        try client.send(Self.packet(1))
        try await sink.waitForPackets(1)
        try await sink.waitFor("two connections") { $0.connects.count == 2 }

        #expect(try await sink.terminate() == .exited(0))
        #expect(try await client.readUntilEnd().end == .eof)
        #expect(try await idle.readUntilEnd().end == .eof)
        #expect(Set(sink.disconnects.map(\.event)) == [
            .disconnect(reason: "sink-stopping", packets: 1), .disconnect(reason: "sink-stopping", packets: 0),
        ])
        #expect(throws: HarnessError.self) { try TCPTestClient(host: sink.host, port: sink.port) }
    }

    @Test("SIGINT stops it the same way")
    func sigint() async throws {
        let sink = try await SinkProcess.start()
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        try await sink.waitFor("the connect") { $0.connects.count == 1 }
        sink.process.signal(SIGINT)
        #expect(try await sink.process.waitForExit() == .exited(0))
        #expect(try await client.readUntilEnd().end == .eof)
    }

    @Test("after SIGKILL a new sink listens on the same port at once")
    func restartAfterKill() async throws {
        let sink = try await SinkProcess.start()
        let port = sink.port
        let client = try TCPTestClient(host: sink.host, port: port)
        try client.send(Self.packet(1))
        try await sink.waitForState(ShiftState(shift: 1))

        #expect(try await sink.kill() == .signaled(SIGKILL))
        // The kernel closed the dead sink's side; the client's connection stays open here
        // (FIN_WAIT on the old side), which SO_REUSEADDR must not trip over.
        #expect(try await client.readUntilEnd().end == .eof)

        try await sink.restart()
        #expect(sink.port == port)
        #expect(sink.run == 1)
        #expect(sink.lastState == nil, "a restarted sink knows no state")
        let again = try TCPTestClient(host: sink.host, port: port)
        try again.send(Self.packet(2, 3))
        try await sink.waitForState(ShiftState(shift: 2, subshift: 3))
        let packets = sink.packets
        #expect(packets.map(\.run) == [0, 1])
        #expect(packets.map(\.conn) == [1, 1], "each run numbers its connections from 1")
    }

    @Test("--ready-file gets HOST:PORT and a newline, written before the ready line")
    func readyFile() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vkb-sink-ready-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var options = SinkProcess.Options()
        options.readyFile = path
        let sink = try await SinkProcess.start(options)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "127.0.0.1:\(sink.port)\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent)
            .filter { $0.hasPrefix((path as NSString).lastPathComponent + ".") }
        #expect(leftovers.isEmpty, "temporary file left behind: \(leftovers)")
    }

    @Test("--output appends the JSON lines to a file")
    func outputFile() async throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("vkb-sink-out-\(UUID().uuidString).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "earlier line\n".write(toFile: path, atomically: false, encoding: .utf8)
        try ServiceUser.daemon.giveOwnership(of: path)  // the file is the sink user's, as in real use
        var options = SinkProcess.Options()
        options.extraArguments = ["--output", path]
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        try client.send(Self.packet(1))
        try await eventually("a packet line in \(path)") {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").contains(#""event":"packet""#)
        }
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines.first == "earlier line")
        #expect(lines.dropFirst().map { SinkRecord(line: $0, run: 0).event } == [
            .connect(peer: "127.0.0.1:\(client.localPort)"), .packet(ShiftState(shift: 1), raw: Self.packet(1)),
        ])
        #expect(sink.records.isEmpty, "nothing on stdout")
    }

    @Test("--header and --command choose the packet bytes")
    func customHeader() async throws {
        var options = SinkProcess.Options()
        options.header = 0x5A
        options.command = 0x21
        let sink = try await SinkProcess.start(options)
        let client = try TCPTestClient(host: sink.host, port: sink.port)
        let custom = VKBShiftBitmapPacket(state: ShiftState(shift: 1, subshift: 2), header: 0x5A, command: 0x21).bytes
        try client.send(Self.packet(3) + custom)
        let packets = try await sink.waitForPackets(1)
        #expect(packets.map(\.raw) == [custom])
        #expect(sink.malformed.map(\.event) == [.malformed(raw: Self.packet(3), reason: "8 byte(s) before a header byte")])
    }

    @Test("listens on IPv6 loopback")
    func ipv6() async throws {
        var options = SinkProcess.Options()
        options.host = "::1"
        let sink = try await SinkProcess.start(options)
        #expect(sink.address == "[::1]:\(sink.port)")
        #expect(sink.process.stderr.lines.contains("vkb-telemetry-sink: listening on [::1]:\(sink.port)"))
        let client = try TCPTestClient(host: "::1", port: sink.port)
        try client.send(Self.packet(2))
        try await sink.waitForState(ShiftState(shift: 2))
        #expect(sink.connects.map(\.event) == [.connect(peer: "[::1]:\(client.localPort)")])
    }

    @Test("bad arguments fail with a message naming what is wrong")
    func badArguments() async throws {
        let cases: [([String], String)] = [
            (["--listen", "nonsense"], "expected HOST:PORT"),
            (["--listen", "::1:80"], "brackets"),
            (["--listen", "127.0.0.1:70000"], "port '70000' is not a number from 0 to 65535"),
            (["--header", "0x100"], "expected a byte"),
            (["--close-after", "1", "--reset-after", "1"], "exclude each other"),
            (["--stall", "--close-after", "1"], "--stall"),
            (["--listen", "127.0.0.1:0", "--output", "/nonexistent/dir/out"], "cannot open output file '/nonexistent/dir/out'"),
        ]
        for (arguments, message) in cases {
            let child = try ChildProcess(executable: try TestBinaries.sink, arguments: arguments)
            let status = try await child.waitForExit()
            try await child.waitForOutputClosed()
            #expect(status != .exited(0), "\(arguments)")
            #expect(child.stderr.lines.contains { $0.contains(message) }, "\(arguments): \(child.report())")
        }
    }

    @Test("a port in use fails with the address and the errno text")
    func portInUse() async throws {
        let sink = try await SinkProcess.start()
        let second = try ChildProcess(executable: try TestBinaries.sink, arguments: ["--listen", sink.address])
        #expect(try await second.waitForExit() == .exited(1))
        try await second.waitForOutputClosed()
        #expect(second.stderr.lines.contains { $0.contains("cannot listen on \(sink.address): Address already in use") })
        #expect(sink.process.isRunning)
    }
}
