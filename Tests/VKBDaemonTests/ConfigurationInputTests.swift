import Testing
@testable import VKBDaemon

/// What a pilot's editor may save, and what a hostile file may hold: every refusal names
/// the file and line, fits on one line, and quotes little of the value.
@Suite struct ConfigurationInputTests {
    static func problems(_ bytes: [UInt8]) -> [String] {
        do {
            _ = try ConfigurationLoader.parse(try ConfigurationLoader.text(of: bytes, file: "c.toml"), file: "c.toml")
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    static func problems(_ text: String) -> [String] { problems(Array(text.utf8)) }

    @Test func crlfAndBomKeepTheLineNumbers() {
        let expected = ["c.toml:2: expected an integer for port, got \"x\"", "c.toml:4: unknown bit \"shift9\"; expected one of shift1, shift2, subshift1, subshift2, subshift3, subshift4, subshift5, subshift6, subshift7"]
        let lf = "[server]\nport = \"x\"\n[[binding]]\nbit = \"shift9\"\nbutton = 1\n"
        #expect(Self.problems(lf) == expected)
        #expect(Self.problems(lf.replacing("\n", with: "\r\n")) == expected)
        #expect(Self.problems([0xEF, 0xBB, 0xBF] + Array(lf.utf8)) == expected)
    }

    @Test func nulBytesAndNulEscapesAreRefused() {
        #expect(Self.problems(Array("[server]\nport = 50995".utf8) + [0] + Array("anything\n".utf8)) == ["c.toml:2: a NUL byte: a config is UTF-8 text"])
        #expect(Self.problems("[server]\nhost = \"a\\u0000b\"\n") == ["c.toml:2: invalid TOML: a string holds \\u0000 (a NUL character), which no setting can use"])
        #expect(Self.problems("[server]\nhost = \"a\\U00000000b\"\n").first?.hasPrefix("c.toml:2:") == true)
    }

    @Test func invalidUTF8IsRefusedWithItsLine() {
        let bytes = Array("[[device]]\nid = \"a\"\nname_contains = \"Glad".utf8) + [0xFF] + Array("iator\"\n".utf8)
        #expect(Self.problems(bytes) == ["c.toml:3: not UTF-8 (byte 0xff): save the config as UTF-8"])
    }

    @Test func quotedKeysSubTablesAndDottedKeysHaveTheirLines() {
        #expect(Self.problems("[server]\n'port' = 0\n").first?.hasPrefix("c.toml:2:") == true)
        #expect(Self.problems("[server]\nhost = \"h\"\n[server.extra]\nx = 1\n").first?.hasPrefix("c.toml:3: unknown key \"extra\"") == true)
        #expect(Self.problems("server.port = \"x\"\n").first?.hasPrefix("c.toml:1: expected an integer") == true)
        // A line inside a multi-line string that looks like the key is not the key.
        #expect(Self.problems("[server]\nhost = \"\"\"\nport = 1\n\"\"\"\nport = \"x\"\n").first?.hasPrefix("c.toml:5:") == true)
    }

    @Test func inlineArraysOfTablesHaveALinePerEntryAndKey() {
        let text = """
            device = [{ id = "stick", name_contains = "VKB" }]
            binding = [
              { bit = "shift1", button = 1 },   # a comment, { not = "a table" }

              { bit = "shift9", button = 2 },
              { bit = "shift2", button = 3, device = "nope" },
            ]
            """
        #expect(Self.problems(text) == [
            "c.toml:5: unknown bit \"shift9\"; expected one of shift1, shift2, subshift1, subshift2, subshift3, subshift4, subshift5, subshift6, subshift7",
            "c.toml:6: no [[device]] has id \"nope\" (defined ids: \"stick\")",
        ])
        // An inline table entry with a key missing: the entry's own line.
        #expect(Self.problems("binding = [\n  { bit = \"shift1\" },\n  {button = 2},\n]\n").first?.hasPrefix("c.toml:2: expected `button = N`") == true)
        // A `{` inside a string is no entry: the second entry is still #1.
        #expect(Self.problems("device = [{ id = \"a\", name_contains = \"{ x = 1 }\" },\n  { name_contains = \"b\" }]\n").first?.hasPrefix("c.toml:2: expected an `id") == true)
    }

    @Test func messagesAreOneLineAndQuoteLittle() {
        let long = String(repeating: "x", count: 1_000_000)
        let big = Self.problems("[[binding]]\nbit = \"\(long)\"\nbutton = 1\n")
        #expect(big.count == 1 && big[0].count < 400, "\(big.first?.prefix(300) ?? "")")
        #expect(big.first?.contains("(1000000 characters)") == true)
        let forged = Self.problems("[[binding]]\nbit = \"\"\"a\nc.toml:1: forged\"\"\"\nbutton = 1\n")
        #expect(forged.count == 1 && !forged[0].contains("\n"), "\(forged)")
    }

    @Test func thousandsOfErrorsAreCapped() {
        var text = ""
        for i in 0..<30 { text += "[[device]]\nid = \"device-\(i)-\(String(repeating: "y", count: 100))\"\n" }
        for _ in 0..<3000 { text += "[[binding]]\nbit = \"shift1\"\nbutton = 1\ndevice = \"nope\"\n" }
        let problems = Self.problems(text)
        #expect(problems.count == 101, "\(problems.count)")
        #expect(problems.last == "c.toml: 2900 more problem(s) not listed")
        #expect(problems.joined().utf8.count < 200_000)
        #expect(problems.first?.contains("and 20 more") == true)
    }
}
