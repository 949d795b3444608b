/// A set of evdev key codes (0...KEY_MAX, as `EVIOCGKEY` returns them) and of
/// vkb-bridge's codes for buttons 81–128 read from hidraw (`KeyCode.hidrawBase`…), stored
/// as a fixed bitmap. Value type; cheap to copy and compare.
public struct KeySet: Sendable, Hashable {
    static let wordCount = (KeyCode.limit + 63) / 64
    private var words: [UInt64]

    public init() {
        words = Array(repeating: 0, count: Self.wordCount)
    }

    public init<S: Sequence>(_ codes: S) where S.Element == UInt16 {
        self.init()
        for code in codes { insert(code) }
    }

    /// Builds a set from a kernel-style little-endian bitmap (bit i of byte j = code 8j+i).
    public init(bitmap bytes: some Collection<UInt8>) {
        self.init()
        for (j, byte) in bytes.enumerated() where byte != 0 {
            for i in 0..<8 where byte & (1 << i) != 0 {
                let code = j * 8 + i
                if code < KeyCode.count { insert(UInt16(code)) }
            }
        }
    }

    public func contains(_ code: UInt16) -> Bool {
        let c = Int(code)
        guard c < KeyCode.limit else { return false }
        return words[c >> 6] & (1 << UInt64(c & 63)) != 0
    }

    public mutating func insert(_ code: UInt16) {
        let c = Int(code)
        guard c < KeyCode.limit else { return }
        words[c >> 6] |= 1 << UInt64(c & 63)
    }

    public mutating func remove(_ code: UInt16) {
        let c = Int(code)
        guard c < KeyCode.limit else { return }
        words[c >> 6] &= ~(1 << UInt64(c & 63))
    }

    public mutating func set(_ code: UInt16, _ present: Bool) {
        if present { insert(code) } else { remove(code) }
    }

    /// The codes of both sets.
    public func union(_ other: KeySet) -> KeySet {
        var result = self
        for i in result.words.indices { result.words[i] |= other.words[i] }
        return result
    }

    /// Only the codes `keep` accepts.
    public func filter(_ keep: (UInt16) -> Bool) -> KeySet {
        KeySet(codes.filter(keep))
    }

    public var isEmpty: Bool { words.allSatisfy { $0 == 0 } }

    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    /// The codes in ascending order.
    public var codes: [UInt16] {
        var result: [UInt16] = []
        for (w, word) in words.enumerated() where word != 0 {
            for b in 0..<64 where word & (1 << UInt64(b)) != 0 {
                result.append(UInt16(w * 64 + b))
            }
        }
        return result
    }
}
