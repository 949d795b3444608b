/// Finds the line of a table or key in a TOML text, so semantic errors can name
/// `file:line` (the TOML parser reports positions only for syntax errors).
///
/// Runs on text toml++ has accepted. Reads `[table]` and `[[array]]` headers, `key = …`
/// lines (quoted and dotted keys too), and walks values: inline tables and arrays of
/// inline tables (`binding = [{ … }, { … }]`) get the line of each entry and key, and
/// multi-line strings are skipped whole. Anything it cannot place falls back to the
/// enclosing table's line.
struct TOMLLineLocator: Sendable {
    /// "server" / "binding#2" (0-based entry of an array of tables) → line.
    private var tables: [String: Int] = [:]
    /// "server.port" / "binding#2.button" → line.
    private var keys: [String: Int] = [:]

    init(text: String) {
        var walker = Walker(bytes: Array(text.utf8))
        walker.document()
        tables = walker.tables
        keys = walker.keys
    }

    /// Line of `key` in `table` (e.g. table "binding#1", key "button"), else of the table.
    func line(table: String, key: String? = nil) -> Int? {
        let path = key.map { table.isEmpty ? $0 : "\(table).\($0)" }
        // A key may be a sub-table of its own ([server.extra]).
        if let path, let line = keys[path] ?? tables[path] { return line }
        return tables[table]
    }

    /// A cursor over the bytes. Every step advances or stops, so no input can hang it.
    private struct Walker {
        let bytes: [UInt8]
        var i = 0
        var line = 1
        var tables: [String: Int] = [:]
        var keys: [String: Int] = [:]
        var arrayCounts: [String: Int] = [:]

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        var current: UInt8? { i < bytes.count ? bytes[i] : nil }

        mutating func advance() {
            if bytes[i] == UInt8(ascii: "\n") { line += 1 }
            i += 1
        }

        /// Blanks and, with `newlines`, line ends and comments.
        mutating func skipBlanks(newlines: Bool) {
            while let c = current {
                if c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") || c == UInt8(ascii: "\r") {
                    advance()
                } else if newlines && c == UInt8(ascii: "\n") {
                    advance()
                } else if newlines && c == UInt8(ascii: "#") {
                    skipToLineEnd()
                } else {
                    return
                }
            }
        }

        mutating func skipToLineEnd() {
            while let c = current, c != UInt8(ascii: "\n") { advance() }
        }

        mutating func document() {
            var table = ""
            while current != nil {
                skipBlanks(newlines: true)
                guard let c = current else { return }
                if c == UInt8(ascii: "[") {
                    let isArray = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "[")
                    let headerLine = line
                    advance()
                    if isArray { advance() }
                    let name = keyPath(until: UInt8(ascii: "]"))
                    if isArray {
                        let index = arrayCounts[name, default: 0]
                        arrayCounts[name] = index + 1
                        table = "\(name)#\(index)"
                    } else {
                        table = name
                    }
                    if tables[table] == nil { tables[table] = headerLine }
                    skipToLineEnd()
                } else {
                    keyValue(in: table)
                    skipToLineEnd()
                }
            }
        }

        /// `key = value` inside `table` (or an inline table's path).
        mutating func keyValue(in table: String) {
            let keyLine = line
            let key = keyPath(until: UInt8(ascii: "="))
            guard current == UInt8(ascii: "=") else { return }
            advance()
            let path = table.isEmpty ? key : "\(table).\(key)"
            if keys[path] == nil { keys[path] = keyLine }
            skipBlanks(newlines: false)
            value(path: path)
        }

        /// A dotted key up to `end` (not consumed): segments joined by ".", quotes and
        /// blanks around the dots removed.
        mutating func keyPath(until end: UInt8) -> String {
            var segments: [String] = []
            var segment: [UInt8] = []
            while let c = current, c != end, c != UInt8(ascii: "\n") {
                if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    segment += quotedKey(quote: c)
                } else if c == UInt8(ascii: ".") {
                    segments.append(String(decoding: segment, as: UTF8.self))
                    segment = []
                    advance()
                } else {
                    if c != UInt8(ascii: " ") && c != UInt8(ascii: "\t") { segment.append(c) }
                    advance()
                }
            }
            segments.append(String(decoding: segment, as: UTF8.self))
            return segments.joined(separator: ".")
        }

        /// A quoted key's text (escapes kept as written: keys in this schema have none).
        mutating func quotedKey(quote: UInt8) -> [UInt8] {
            advance()
            var text: [UInt8] = []
            while let c = current, c != quote, c != UInt8(ascii: "\n") {
                if quote == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") && i + 1 < bytes.count {
                    text.append(c)
                    advance()
                }
                text.append(bytes[i])
                advance()
            }
            if current == quote { advance() }
            return text
        }

        /// One value; records the entries and keys of inline tables and arrays under `path`.
        mutating func value(path: String) {
            guard let c = current else { return }
            switch c {
            case UInt8(ascii: "["):
                advance()
                var index = 0
                while true {
                    skipBlanks(newlines: true)
                    guard let d = current else { return }
                    if d == UInt8(ascii: "]") { advance(); return }
                    if d == UInt8(ascii: ",") { advance(); continue }
                    let entry = "\(path)#\(index)"
                    if tables[entry] == nil { tables[entry] = line }
                    let before = i
                    value(path: entry)
                    index += 1
                    if i == before { advance() }
                }
            case UInt8(ascii: "{"):
                if tables[path] == nil { tables[path] = line }
                advance()
                while true {
                    skipBlanks(newlines: true)
                    guard let d = current else { return }
                    if d == UInt8(ascii: "}") { advance(); return }
                    if d == UInt8(ascii: ",") { advance(); continue }
                    let before = i
                    keyValue(in: path)
                    if i == before { advance() }
                }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                string(quote: c)
            default:
                // A number, boolean or date: up to the next separator.
                while let d = current, ![UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"),
                                         UInt8(ascii: "\n"), UInt8(ascii: "#")].contains(d) {
                    advance()
                }
            }
        }

        /// A basic or literal string, one-line or multi-line (`"""`, `'''`).
        mutating func string(quote: UInt8) {
            let multiLine = i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote
            let escapes = quote == UInt8(ascii: "\"")
            if multiLine {
                advance(); advance(); advance()
                while let c = current {
                    if escapes && c == UInt8(ascii: "\\") && i + 1 < bytes.count {
                        advance(); advance()
                    } else if c == quote && i + 2 < bytes.count && bytes[i + 1] == quote && bytes[i + 2] == quote {
                        advance(); advance(); advance()
                        // Up to two more quotes belong to the content (`""""` ends with one).
                        while current == quote { advance() }
                        return
                    } else {
                        advance()
                    }
                }
            } else {
                advance()
                while let c = current, c != UInt8(ascii: "\n") {
                    if escapes && c == UInt8(ascii: "\\") && i + 1 < bytes.count {
                        advance(); advance()
                    } else if c == quote {
                        advance()
                        return
                    } else {
                        advance()
                    }
                }
            }
        }
    }
}
