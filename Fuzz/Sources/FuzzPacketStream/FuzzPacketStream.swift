import FuzzSupport
import VKBWire

/// The sink's stream decoder on arbitrary bytes, split into two reads at a point the
/// input chooses (its first byte): the packets must not depend on where a read ends.
@main enum FuzzPacketStream {
    static func main() {
        runFuzzer { data, size in
            let input = bytes(data, size)
            guard let first = input.first else { return 0 }
            let stream = Array(input.dropFirst())
            let cut = Int(first) % (stream.count + 1)
            var whole = PacketStreamDecoder()
            var split = PacketStreamDecoder()
            let once = whole.feed(stream) + [whole.finish()].compactMap { $0 }
            let twice = split.feed(Array(stream[..<cut])) + split.feed(Array(stream[cut...])) + [split.finish()].compactMap { $0 }
            func packets(_ items: [PacketStreamDecoder.Item]) -> [[UInt8]] {
                items.compactMap { if case .packet(_, let raw) = $0 { raw } else { nil } }
            }
            precondition(packets(once) == packets(twice), "the packets depend on where the read was split")
            return 0
        }
    }
}
