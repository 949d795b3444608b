/// Text that must stay on one line of a log or a diagnostic, whatever a user or a device
/// put in it: quotes, backslashes and every control character escaped, so a value can
/// neither break the line nor forge another one, nor carry terminal escape sequences.
enum LineEscaping {
    /// `text` escaped; with `limit`, cut after that many characters (unicode scalars) and
    /// the full length said.
    static func escaped(_ text: String, limit: Int? = nil) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            if let limit, count == limit {
                return out + "… (\(text.unicodeScalars.count) characters)"
            }
            count += 1
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || (0x7F..<0xA0).contains(scalar.value)
                || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += "\\u{\(String(scalar.value, radix: 16))}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
