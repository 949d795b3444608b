import TOMLKit

extension ConfigurationDiagnostic {
    /// The most characters of a user's value a message quotes: a 1 MB string must not make
    /// a 1 MB error line.
    static let quotedCharacters = 120
    /// The most ids a message lists.
    static let listedValues = 10

    /// `value` in double quotes, escaped and cut (see `escaped`).
    static func quoted(_ value: String) -> String {
        "\"" + escaped(value) + "\""
    }

    /// A parsed TOML value as the user wrote it: strings quoted, others as TOML, both cut.
    static func describe(_ value: TOMLValueConvertible) -> String {
        if let string = value.string { return quoted(string) }
        return escaped(value.debugDescription)
    }

    /// `values` quoted, at most `listedValues` of them.
    static func list(_ values: [String]) -> String {
        let shown = values.prefix(listedValues).map(quoted).joined(separator: ", ")
        return values.count > listedValues ? "\(shown) and \(values.count - listedValues) more" : shown
    }

    /// `value` for a one-line message: control characters, quotes and backslashes escaped
    /// (a newline in a value must not start a line that looks like a diagnostic), cut after
    /// `quotedCharacters` characters with the full length said.
    static func escaped(_ value: String) -> String {
        var out = ""
        var count = 0
        for scalar in value.unicodeScalars {
            if count == quotedCharacters {
                return out + "… (\(value.unicodeScalars.count) characters)"
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
