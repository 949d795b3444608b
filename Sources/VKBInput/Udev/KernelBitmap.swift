import VKBCore

/// Parses the bitmaps sysfs shows in `capabilities/*` (`drivers/input/input.c`,
/// `input_print_bitmap`): unsigned longs in hex, most significant first, separated
/// by spaces, leading zero words left out. `"ffff00000000 0 0 0 0"` on a 64-bit
/// kernel is codes 0x120…0x12F.
enum KernelBitmap {
    /// The set bit numbers, ascending, or nil when the text is not such a bitmap.
    /// `wordBits` is the kernel's `BITS_PER_LONG`; userland shares it except under compat.
    static func bits(_ text: String, wordBits: Int = Int.bitWidth) -> [Int]? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" })
        guard !words.isEmpty else { return nil }
        var result: [Int] = []
        // The last word printed is word 0.
        for (index, word) in words.reversed().enumerated() {
            guard word.count <= wordBits / 4, let value = UInt64(word, radix: 16) else { return nil }
            var remaining = value
            while remaining != 0 {
                let bit = remaining.trailingZeroBitCount
                result.append(index * wordBits + bit)
                remaining &= remaining - 1
            }
        }
        return result.sorted()
    }

    /// Key codes from a `capabilities/key` bitmap; codes above `KEY_MAX` are ignored.
    static func keys(_ text: String) -> KeySet? {
        bits(text).map { bits in KeySet(bits.lazy.filter { $0 <= Int(KeyCode.max) }.map { UInt16($0) }) }
    }
}
