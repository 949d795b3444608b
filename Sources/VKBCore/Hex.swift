/// Hexadecimal text as every message and listing spells it.
public enum Hex {
    /// `0x2c6`; with `digits`, zero-padded: `0x0d`.
    public static func prefixed(_ value: some BinaryInteger, digits: Int = 0) -> String {
        "0x" + padded(value, digits: digits)
    }

    /// `231d`, `0200` (lower case, at least `digits` digits).
    public static func padded(_ value: some BinaryInteger, digits: Int) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
