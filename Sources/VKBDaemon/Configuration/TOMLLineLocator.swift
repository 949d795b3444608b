/// Finds the line of a table or key in a TOML text, so semantic errors can name
/// `file:line` (the TOML parser reports positions only for syntax errors).
///
/// Understands what the config uses: `[table]`, `[[array]]` headers and `key = …`
/// lines. Anything it cannot place falls back to the enclosing table's header line.
struct TOMLLineLocator: Sendable {
    /// "server" / "binding#2" (0-based entry of an array of tables) → header line.
    private var tables: [String: Int] = [:]
    /// "server.port" / "binding#2.button" → line.
    private var keys: [String: Int] = [:]

    init(text: String) {
        let continuation = TOMLPreflight.continuationLines(text)
        var arrayCounts: [String: Int] = [:]
        var currentTable = ""
        var lineNumber = 0
        // By scalars: "\r\n" is one Character, so a CRLF file has no "\n" Character at all.
        for scalars in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if continuation.contains(lineNumber) { continue }
            var rawLine = Substring(scalars)
            if rawLine.unicodeScalars.last == "\r" { rawLine = Substring(rawLine.unicodeScalars.dropLast()) }
            let line = rawLine.drop { $0 == " " || $0 == "\t" }
            if line.hasPrefix("[[") {
                let name = Self.headerName(line.dropFirst(2))
                let index = arrayCounts[name, default: 0]
                arrayCounts[name] = index + 1
                currentTable = "\(name)#\(index)"
                tables[currentTable] = lineNumber
            } else if line.hasPrefix("[") {
                currentTable = Self.headerName(line.dropFirst())
                tables[currentTable] = lineNumber
            } else if let eq = line.firstIndex(of: "="), !line.hasPrefix("#") {
                var key = String(line[..<eq])
                while key.last == " " || key.last == "\t" { key.removeLast() }
                if let quote = key.first, quote == "\"" || quote == "'", key.last == quote, key.count >= 2 {
                    key = String(key.dropFirst().dropLast())
                }
                let full = currentTable.isEmpty ? key : "\(currentTable).\(key)"
                if keys[full] == nil { keys[full] = lineNumber }
            }
        }
    }

    private static func headerName(_ rest: Substring) -> String {
        let name = rest.prefix { $0 != "]" }
        return name.split(separator: ".").map { $0.filter { $0 != " " && $0 != "\t" && $0 != "\"" && $0 != "'" } }.joined(separator: ".")
    }

    /// Line of `key` in `table` (e.g. table "binding#1", key "button"), else of the table.
    func line(table: String, key: String? = nil) -> Int? {
        let path = key.map { table.isEmpty ? $0 : "\(table).\(key!)" }
        // A key may be a sub-table of its own ([server.extra]).
        if let path, let line = keys[path] ?? tables[path] { return line }
        return tables[table]
    }
}
