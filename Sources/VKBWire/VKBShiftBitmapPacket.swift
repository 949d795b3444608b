import VKBCore

/// The 8-byte `VKBShiftBitmap` packet VKB-Link takes (DESIGN §2):
/// header, command, 0, length 4, shift bitmap, subshift bitmap, 0, 0.
public struct VKBShiftBitmapPacket: Sendable, Hashable {
    public static let size = 8
    public static let defaultHeader: UInt8 = 0xA5
    public static let defaultCommand: UInt8 = 0x0D
    static let dataLength: UInt8 = 4

    public var state: ShiftState
    public var header: UInt8
    public var command: UInt8

    public init(state: ShiftState, header: UInt8 = defaultHeader, command: UInt8 = defaultCommand) {
        self.state = state
        self.header = header
        self.command = command
    }

    /// The wire bytes.
    public var bytes: [UInt8] {
        [header, command, 0, Self.dataLength, state.shift, state.subshift, 0, 0]
    }

    /// Writes the wire bytes into `buffer` (at least 8 bytes) without allocating.
    public func encode(into buffer: UnsafeMutableRawBufferPointer) {
        precondition(buffer.count >= Self.size)
        buffer[0] = header
        buffer[1] = command
        buffer[2] = 0
        buffer[3] = Self.dataLength
        buffer[4] = state.shift
        buffer[5] = state.subshift
        buffer[6] = 0
        buffer[7] = 0
    }

    /// Why 8 bytes are not a packet.
    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case tooShort(Int)
        case badHeader(UInt8)
        case badCommand(UInt8)
        case badLength(UInt8)
        case reservedNotZero
        case bitsOutsideMask(shift: UInt8, subshift: UInt8)

        public var description: String {
            switch self {
            case .tooShort(let n): return "packet is \(n) bytes, expected 8"
            case .badHeader(let b): return "header byte is \(Hex.prefixed(b))"
            case .badCommand(let b): return "command byte is \(Hex.prefixed(b))"
            case .badLength(let b): return "data length byte is \(b), expected 4"
            case .reservedNotZero: return "reserved bytes are not zero"
            case .bitsOutsideMask(let s, let ss): return "bits outside the masks (shift \(Hex.prefixed(s)), subshift \(Hex.prefixed(ss)))"
            }
        }
    }

    /// Decodes and validates exactly one packet.
    public init(decoding bytes: some Collection<UInt8>, header: UInt8 = defaultHeader, command: UInt8 = defaultCommand) throws(DecodingError) {
        let b = Array(bytes.prefix(Self.size))
        guard b.count == Self.size else { throw .tooShort(b.count) }
        guard b[0] == header else { throw .badHeader(b[0]) }
        guard b[1] == command else { throw .badCommand(b[1]) }
        guard b[3] == Self.dataLength else { throw .badLength(b[3]) }
        guard b[2] == 0, b[6] == 0, b[7] == 0 else { throw .reservedNotZero }
        guard b[4] & ~ShiftState.mask.shift == 0, b[5] & ~ShiftState.mask.subshift == 0 else {
            throw .bitsOutsideMask(shift: b[4], subshift: b[5])
        }
        self.init(state: ShiftState(shift: b[4], subshift: b[5]), header: header, command: command)
    }
}
