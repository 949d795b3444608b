import Testing
import VKBCore
@testable import VKBWire

@Suite("VKBShiftBitmapPacket")
struct VKBShiftBitmapPacketTests {
    @Test(
        "encodes the state into bytes 4 and 5",
        arguments: [
            (ShiftState.clear, [0xA5, 0x0D, 0, 4, 0x00, 0x00, 0, 0] as [UInt8]),
            (ShiftState(shift: 0x01), [0xA5, 0x0D, 0, 4, 0x01, 0x00, 0, 0]),
            (ShiftState(shift: 0x02), [0xA5, 0x0D, 0, 4, 0x02, 0x00, 0, 0]),
            (ShiftState(subshift: 0x01), [0xA5, 0x0D, 0, 4, 0x00, 0x01, 0, 0]),
            (ShiftState(subshift: 0x40), [0xA5, 0x0D, 0, 4, 0x00, 0x40, 0, 0]),
            (ShiftState(shift: 0x01, subshift: 0x04), [0xA5, 0x0D, 0, 4, 0x01, 0x04, 0, 0]),
            (ShiftState(shift: 0x03, subshift: 0x7F), [0xA5, 0x0D, 0, 4, 0x03, 0x7F, 0, 0]),
        ]
    )
    func encodes(state: ShiftState, expected: [UInt8]) throws {
        let packet = VKBShiftBitmapPacket(state: state)
        #expect(packet.bytes == expected)

        var buffer = [UInt8](repeating: 0xEE, count: 10)
        buffer.withUnsafeMutableBytes { packet.encode(into: $0) }
        #expect(Array(buffer[..<8]) == expected)
        #expect(Array(buffer[8...]) == [0xEE, 0xEE], "encode(into:) must not write past 8 bytes")

        #expect(try VKBShiftBitmapPacket(decoding: expected) == packet)
    }

    @Test("every ShiftBit lands on its wire bit")
    func everyBit() throws {
        for bit in ShiftBit.allCases {
            var state = ShiftState.clear
            state[bit] = true
            let bytes = VKBShiftBitmapPacket(state: state).bytes
            let expected: (shift: UInt8, subshift: UInt8) = bit.rawValue < 2
                ? (1 << UInt8(bit.rawValue), 0)
                : (0, 1 << UInt8(bit.rawValue - 2))
            #expect(bytes[4] == expected.shift && bytes[5] == expected.subshift, "\(bit)")
            #expect(try VKBShiftBitmapPacket(decoding: bytes).state[bit], "\(bit)")
        }
    }

    @Test("all nine bits set")
    func allBits() throws {
        var state = ShiftState.clear
        for bit in ShiftBit.allCases { state[bit] = true }
        #expect(state.bits == 0x1FF)
        #expect(VKBShiftBitmapPacket(state: state).bytes == [0xA5, 0x0D, 0, 4, 0x03, 0x7F, 0, 0])
        #expect(try VKBShiftBitmapPacket(decoding: [0xA5, 0x0D, 0, 4, 0x03, 0x7F, 0, 0]).state == state)
    }

    @Test("custom header and command are written and required when decoding")
    func customHeaderAndCommand() throws {
        let packet = VKBShiftBitmapPacket(state: ShiftState(shift: 2, subshift: 5), header: 0x5A, command: 0x21)
        #expect(packet.bytes == [0x5A, 0x21, 0, 4, 0x02, 0x05, 0, 0])
        #expect(try VKBShiftBitmapPacket(decoding: packet.bytes, header: 0x5A, command: 0x21) == packet)
        #expect(throws: VKBShiftBitmapPacket.DecodingError.badHeader(0x5A)) {
            try VKBShiftBitmapPacket(decoding: packet.bytes)
        }
        #expect(throws: VKBShiftBitmapPacket.DecodingError.badCommand(0x21)) {
            try VKBShiftBitmapPacket(decoding: packet.bytes, header: 0x5A)
        }
    }

    @Test(
        "decoding rejects every kind of bad packet",
        arguments: [
            ([] as [UInt8], VKBShiftBitmapPacket.DecodingError.tooShort(0)),
            ([0xA5, 0x0D, 0, 4, 0, 0, 0], .tooShort(7)),
            ([0xA4, 0x0D, 0, 4, 0, 0, 0, 0], .badHeader(0xA4)),
            ([0xA5, 0x0C, 0, 4, 0, 0, 0, 0], .badCommand(0x0C)),
            ([0xA5, 0x0D, 0, 5, 0, 0, 0, 0], .badLength(5)),
            ([0xA5, 0x0D, 0, 0, 0, 0, 0, 0], .badLength(0)),
            ([0xA5, 0x0D, 1, 4, 0, 0, 0, 0], .reservedNotZero),
            ([0xA5, 0x0D, 0, 4, 0, 0, 1, 0], .reservedNotZero),
            ([0xA5, 0x0D, 0, 4, 0, 0, 0, 0x80], .reservedNotZero),
            ([0xA5, 0x0D, 0, 4, 0x04, 0, 0, 0], .bitsOutsideMask(shift: 0x04, subshift: 0)),
            ([0xA5, 0x0D, 0, 4, 0, 0x80, 0, 0], .bitsOutsideMask(shift: 0, subshift: 0x80)),
            ([0xA5, 0x0D, 0, 4, 0xFF, 0xFF, 0, 0], .bitsOutsideMask(shift: 0xFF, subshift: 0xFF)),
        ]
    )
    func decodeErrors(bytes: [UInt8], expected: VKBShiftBitmapPacket.DecodingError) {
        #expect(throws: expected) { try VKBShiftBitmapPacket(decoding: bytes) }
    }

    @Test("decoding reads only the first 8 bytes")
    func decodesPrefix() throws {
        let packet = try VKBShiftBitmapPacket(decoding: [0xA5, 0x0D, 0, 4, 1, 2, 0, 0, 0xFF, 0xFF])
        #expect(packet.state == ShiftState(shift: 1, subshift: 2))
    }

    @Test("error descriptions say what was wrong")
    func errorDescriptions() {
        typealias E = VKBShiftBitmapPacket.DecodingError
        #expect(E.tooShort(3).description == "packet is 3 bytes, expected 8")
        #expect(E.badHeader(0xA4).description == "header byte is 0xa4")
        #expect(E.badCommand(0x0C).description == "command byte is 0xc")
        #expect(E.badLength(5).description == "data length byte is 5, expected 4")
        #expect(E.reservedNotZero.description == "reserved bytes are not zero")
        #expect(E.bitsOutsideMask(shift: 4, subshift: 0x80).description == "bits outside the masks (shift 0x4, subshift 0x80)")
    }
}
