
/// Splits a TCP byte stream into `VKBShiftBitmap` packets. Bytes that do not form a
/// valid packet are reported and skipped up to the next header byte, so one bad
/// byte never desynchronises the rest of the stream.
public struct PacketStreamDecoder: Sendable {
    /// One thing found in the stream.
    public enum Item: Sendable, Equatable {
        case packet(VKBShiftBitmapPacket, raw: [UInt8])
        /// Bytes skipped while resynchronising, and why.
        case malformed(raw: [UInt8], reason: String)
    }

    public let header: UInt8
    public let command: UInt8
    private var pending: [UInt8] = []

    public init(header: UInt8 = VKBShiftBitmapPacket.defaultHeader, command: UInt8 = VKBShiftBitmapPacket.defaultCommand) {
        self.header = header
        self.command = command
    }

    /// Bytes received but not yet forming a whole packet.
    public var bufferedByteCount: Int { pending.count }

    /// Feeds received bytes; returns every complete item, in stream order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Item] {
        pending.append(contentsOf: bytes)
        var items: [Item] = []
        var start = 0
        while start < pending.count {
            if pending[start] != header {
                var end = start + 1
                while end < pending.count, pending[end] != header { end += 1 }
                let junk = Array(pending[start..<end])
                items.append(.malformed(raw: junk, reason: "\(junk.count) byte(s) before a header byte"))
                start = end
                continue
            }
            guard pending.count - start >= VKBShiftBitmapPacket.size else { break }
            let candidate = Array(pending[start..<(start + VKBShiftBitmapPacket.size)])
            do {
                let packet = try VKBShiftBitmapPacket(decoding: candidate, header: header, command: command)
                items.append(.packet(packet, raw: candidate))
                start += VKBShiftBitmapPacket.size
            } catch {
                // Skip only the header byte: the real packet may start inside the candidate.
                var end = start + 1
                while end < pending.count, pending[end] != header { end += 1 }
                items.append(.malformed(raw: Array(pending[start..<end]), reason: error.description))
                start = end
            }
        }
        pending.removeFirst(start)
        return items
    }

    /// Ends the stream: returns the bytes of an unfinished packet, if any, as malformed,
    /// and empties the buffer. Call it when the peer closes the connection.
    public mutating func finish() -> Item? {
        guard !pending.isEmpty else { return nil }
        defer { pending.removeAll() }
        return .malformed(
            raw: pending,
            reason: "stream ended inside a packet (\(pending.count) of \(VKBShiftBitmapPacket.size) bytes)"
        )
    }
}
