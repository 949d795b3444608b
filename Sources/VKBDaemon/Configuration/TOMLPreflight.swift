/// Refuses, before toml++ sees the text, what our schema never needs and what makes the
/// toml++ bundled with TOMLKit 0.6.0 crash instead of report: a table header that does
/// not start with a key (`[[[binding]]`, a lone `[`, `[é]`, `[&`: an assertion, SIGABRT)
/// a `}` inside an array (another assertion, found by the fuzzer), and keys or values
/// nested tens of thousands deep (stack overflow, SIGSEGV). A crash
/// there would kill a running daemon on SIGHUP, so these are found here, with their line.
///
/// A small scanner, not a TOML parser: it knows strings (so brackets, dots and `#` inside
/// them count for nothing), comments, and whether a line-initial `[` opens a header or
/// sits inside a multi-line array. Everything else is left to toml++.
enum TOMLPreflight {
    /// Deepest key (`a.b.c` is 3) and value nesting (`[[1]]` is 2) accepted; our schema
    /// needs 2 and 1.
    static let maxKeyDepth = 16
    static let maxValueNesting = 32

    /// The first problem found, as (line, message), or nil.
    static func check(_ text: String) -> (line: Int, message: String)? {
        var scanner = Scanner(bytes: Array(text.utf8))
        return scanner.run()
    }

    private struct Scanner {
        let bytes: [UInt8]
        var i = 0
        var line = 1
        var lineStart = true  // only blanks so far on this line
        var openers: [UInt8] = []  // the [ and { open in values, innermost last
        var keyDots = 0  // dots in the current key
        var stringProblem: String?  // found inside a string by skipString

        init(bytes: [UInt8]) {
            self.bytes = bytes
        }

        func peek(_ offset: Int = 0) -> UInt8? {
            i + offset < bytes.count ? bytes[i + offset] : nil
        }

        static func isBareKeyStart(_ c: UInt8?) -> Bool {
            guard let c else { return false }
            return (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39)
                || c == 0x5F || c == 0x2D || c == 0x22 || c == 0x27  // _ - " '
        }

        mutating func run() -> (line: Int, message: String)? {
            while let c = peek() {
                switch c {
                case 0x0A:  // \n
                    line += 1
                    lineStart = true
                    keyDots = 0
                    i += 1
                case 0x20, 0x09, 0x0D:
                    i += 1
                case 0x23:  // # comment, to the end of the line
                    while let d = peek(), d != 0x0A { i += 1 }
                case 0x22, 0x27:  // " '
                    lineStart = false
                    let start = line
                    skipString(quote: c)
                    if let stringProblem { return (start, stringProblem) }
                case 0x5B where lineStart && openers.isEmpty:  // [ opening a table header
                    lineStart = false
                    if let problem = header() { return problem }
                default:
                    lineStart = false
                    switch c {
                    case 0x5B, 0x7B:  // [ {
                        openers.append(c)
                        keyDots = 0
                        if openers.count > TOMLPreflight.maxValueNesting {
                            return (line, "values nested more than \(TOMLPreflight.maxValueNesting) deep; a config needs 1")
                        }
                    case 0x5D, 0x7D:  // ] }
                        // A } where an array is open made toml++ assert (found by FuzzConfig);
                        // a mismatched bracket is never valid TOML.
                        if let open = openers.last, open != (c == 0x5D ? 0x5B : 0x7B) {
                            return (line, "a '\(c == 0x5D ? "]" : "}")' closes the '\(open == 0x5B ? "[" : "{")' opened before it")
                        }
                        _ = openers.popLast()
                        keyDots = 0
                    case 0x3D, 0x2C:  // = ,
                        keyDots = 0
                    case 0x2E:  // .
                        keyDots += 1
                        if keyDots >= TOMLPreflight.maxKeyDepth {
                            return (line, "a key nested more than \(TOMLPreflight.maxKeyDepth) deep; a config needs 2")
                        }
                    default:
                        break
                    }
                    i += 1
                }
            }
            return nil
        }

        /// At the `[` of a header: it must name a table, not too deep; skips to its end.
        mutating func header() -> (line: Int, message: String)? {
            i += 1
            if peek() == 0x5B { i += 1 }
            while let c = peek(), c == 0x20 || c == 0x09 { i += 1 }
            guard Self.isBareKeyStart(peek()) else {
                return (line, "a table header must start with a name, like [server], [[device]] or [[binding]]")
            }
            var dots = 0
            while let c = peek(), c != 0x0A {
                switch c {
                case 0x22, 0x27:
                    skipString(quote: c)
                    if let stringProblem { return (line, stringProblem) }
                    continue
                case 0x2E:
                    dots += 1
                    if dots >= TOMLPreflight.maxKeyDepth {
                        return (line, "a table name nested more than \(TOMLPreflight.maxKeyDepth) deep; a config needs 1")
                    }
                case 0x5D:  // ]: the rest of the line is toml++'s to judge
                    i += 1
                    return nil
                default:
                    break
                }
                i += 1
            }
            return nil
        }

        /// At a backslash: whether it escapes U+0000, which the parser turns into the end
        /// of the string (`"a\u0000b"` became `a`); sets `stringProblem` when it does.
        mutating func isNULEscape() -> Bool {
            let digits: Int
            switch peek(1) {
            case 0x75: digits = 4  // u
            case 0x55: digits = 8  // U
            default: return false
            }
            guard (0..<digits).allSatisfy({ peek(2 + $0) == 0x30 }) else { return false }
            stringProblem = "a string holds \\u0000 (a NUL character), which no setting can use"
            return true
        }

        /// At an opening quote: past the string (basic or literal, one line or three quotes).
        mutating func skipString(quote: UInt8) {
            let escapes = quote == 0x22
            if peek(1) == quote && peek(2) == quote {
                i += 3
                while let c = peek() {
                    if c == 0x0A { line += 1 }
                    if escapes && c == 0x5C {  // backslash: skip the escaped byte
                        if isNULEscape() { return }
                        if peek(1) == 0x0A { line += 1 }
                        i += 2
                        continue
                    }
                    if c == quote && peek(1) == quote && peek(2) == quote {
                        i += 3
                        // Up to two more quotes may belong to the string ("""a"""").
                        while peek() == quote { i += 1 }
                        return
                    }
                    i += 1
                }
                return
            }
            i += 1
            while let c = peek(), c != 0x0A {
                if escapes && c == 0x5C && peek(1) != 0x0A {
                    if isNULEscape() { return }
                    i += 2
                    continue
                }
                i += 1
                if c == quote { return }
            }
        }
    }
}
