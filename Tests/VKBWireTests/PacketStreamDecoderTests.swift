import Testing
import VKBCore
@testable import VKBWire

@Suite("PacketStreamDecoder")
struct PacketStreamDecoderTests {
    typealias Item = PacketStreamDecoder.Item

    static func packet(_ shift: UInt8, _ subshift: UInt8, header: UInt8 = 0xA5, command: UInt8 = 0x0D) -> [UInt8] {
        VKBShiftBitmapPacket(state: ShiftState(shift: shift, subshift: subshift), header: header, command: command).bytes
    }

    /// The packets' states, in order, ignoring malformed items.
    static func states(_ items: [Item]) -> [ShiftState] {
        items.compactMap { if case .packet(let p, _) = $0 { p.state } else { nil } }
    }

    @Test("whole packets in one feed come out in order, with their raw bytes")
    func wholePackets() {
        var decoder = PacketStreamDecoder()
        let a = Self.packet(1, 0), b = Self.packet(2, 0x7F), c = Self.packet(0, 0)
        let items = decoder.feed(a + b + c)
        #expect(items == [
            .packet(VKBShiftBitmapPacket(state: ShiftState(shift: 1)), raw: a),
            .packet(VKBShiftBitmapPacket(state: ShiftState(shift: 2, subshift: 0x7F)), raw: b),
            .packet(VKBShiftBitmapPacket(state: .clear), raw: c),
        ])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("packets split across feeds byte by byte")
    func byteByByte() {
        var decoder = PacketStreamDecoder()
        let stream = Self.packet(1, 2) + Self.packet(3, 4)
        var items: [Item] = []
        for (i, byte) in stream.enumerated() {
            let out = decoder.feed([byte])
            // A packet appears exactly when its 8th byte arrives, never earlier.
            #expect(out.count == ((i + 1) % 8 == 0 ? 1 : 0), "after byte \(i)")
            items += out
        }
        #expect(Self.states(items) == [ShiftState(shift: 1, subshift: 2), ShiftState(shift: 3, subshift: 4)])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("junk before and between packets is reported and skipped")
    func junk() {
        var decoder = PacketStreamDecoder()
        let items = decoder.feed([0x00, 0xFF] + Self.packet(1, 0) + Array("hello".utf8) + Self.packet(0, 1))
        guard items.count == 4 else {
            Issue.record("expected 4 items, got \(items)")
            return
        }
        #expect(items[0] == .malformed(raw: [0x00, 0xFF], reason: "2 byte(s) before a header byte"))
        #expect(items[1] == .packet(VKBShiftBitmapPacket(state: ShiftState(shift: 1)), raw: Self.packet(1, 0)))
        #expect(items[2] == .malformed(raw: Array("hello".utf8), reason: "5 byte(s) before a header byte"))
        #expect(Self.states([items[3]]) == [ShiftState(subshift: 1)])
    }

    @Test("junk split across feeds is reported per feed, then the packet")
    func junkAcrossFeeds() {
        var decoder = PacketStreamDecoder()
        var items = decoder.feed([0x01, 0x02])
        items += decoder.feed([0x03] + Array(Self.packet(2, 0).prefix(3)))
        items += decoder.feed(Self.packet(2, 0).dropFirst(3))
        let junk: [UInt8] = items.flatMap { item -> [UInt8] in
            if case .malformed(let raw, _) = item { raw } else { [] }
        }
        #expect(junk == [0x01, 0x02, 0x03])
        #expect(Self.states(items) == [ShiftState(shift: 2)])
    }

    @Test("a bad packet whose real packet starts inside it: only the bad part is skipped")
    func resyncInsideBadPacket() {
        var decoder = PacketStreamDecoder()
        // A header and a bad command, then a real packet starting at byte 2 of the "candidate".
        let good = Self.packet(1, 0x10)
        let items = decoder.feed([0xA5, 0x99] + good)
        #expect(items == [
            .malformed(raw: [0xA5, 0x99], reason: "command byte is 0x99"),
            .packet(VKBShiftBitmapPacket(state: ShiftState(shift: 1, subshift: 0x10)), raw: good),
        ])
    }

    @Test("a truncated packet followed by a real one: the real one survives")
    func truncatedThenReal() {
        var decoder = PacketStreamDecoder()
        let good = Self.packet(0, 0x20)
        // 3 bytes of a packet then a full packet: the candidate reads 0xA5 as its 4th byte.
        let items = decoder.feed([0xA5, 0x0D, 0x00] + good)
        #expect(Self.states(items) == [ShiftState(subshift: 0x20)])
        guard case .malformed(let raw, let reason)? = items.first else {
            Issue.record("expected a malformed item first, got \(items)")
            return
        }
        #expect(raw == [0xA5, 0x0D, 0x00])
        #expect(reason == "data length byte is 165, expected 4")
    }

    @Test("a bad packet split byte by byte resyncs the same way")
    func resyncByteByByte() {
        var decoder = PacketStreamDecoder()
        var items: [Item] = []
        for byte in [0xA5, 0x0D, 0x00, 0x04, 0x09] + Self.packet(2, 3) {
            items += decoder.feed([byte])
        }
        #expect(Self.states(items) == [ShiftState(shift: 2, subshift: 3)])
        let malformed = items.filter { if case .malformed = $0 { true } else { false } }
        #expect(malformed.count == 1)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("bits outside the masks make a packet malformed")
    func outsideMask() {
        var decoder = PacketStreamDecoder()
        let items = decoder.feed([0xA5, 0x0D, 0, 4, 0x04, 0, 0, 0] + Self.packet(1, 1))
        #expect(items.first == .malformed(
            raw: [0xA5, 0x0D, 0, 4, 0x04, 0, 0, 0],
            reason: "bits outside the masks (shift 0x4, subshift 0x0)"
        ))
        #expect(Self.states(items) == [ShiftState(shift: 1, subshift: 1)])
    }

    @Test("a trailing partial packet stays buffered until more bytes come")
    func trailingPartial() {
        var decoder = PacketStreamDecoder()
        let next = Self.packet(3, 0x7F)
        var items = decoder.feed(Self.packet(1, 0) + next.prefix(5))
        #expect(Self.states(items) == [ShiftState(shift: 1)])
        #expect(decoder.bufferedByteCount == 5)
        items = decoder.feed(next.dropFirst(5))
        #expect(Self.states(items) == [ShiftState(shift: 3, subshift: 0x7F)])
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test("finish reports a trailing partial packet and empties the buffer")
    func finish() {
        var decoder = PacketStreamDecoder()
        _ = decoder.feed(Self.packet(1, 0) + [0xA5, 0x0D, 0x00])
        #expect(decoder.finish() == .malformed(raw: [0xA5, 0x0D, 0x00], reason: "stream ended inside a packet (3 of 8 bytes)"))
        #expect(decoder.bufferedByteCount == 0)
        #expect(decoder.finish() == nil)
    }

    @Test("custom header and command: default packets become junk")
    func customHeader() {
        var decoder = PacketStreamDecoder(header: 0x5A, command: 0x21)
        let custom = Self.packet(1, 2, header: 0x5A, command: 0x21)
        let items = decoder.feed(Self.packet(1, 0) + custom)
        #expect(Self.states(items) == [ShiftState(shift: 1, subshift: 2)])
        guard case .malformed(let raw, _)? = items.first else {
            Issue.record("expected the default-header packet to be malformed, got \(items)")
            return
        }
        #expect(raw == Self.packet(1, 0))
    }

    @Test("the same packet twice gives two items (a state, not an event)")
    func duplicates() {
        var decoder = PacketStreamDecoder()
        let p = Self.packet(1, 1)
        #expect(Self.states(decoder.feed(p + p)) == [ShiftState(shift: 1, subshift: 1), ShiftState(shift: 1, subshift: 1)])
    }
}
