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

    /// `value` for a one-line message, cut after `quotedCharacters` characters.
    static func escaped(_ value: String) -> String {
        LineEscaping.escaped(value, limit: quotedCharacters)
    }
}
