import Testing
@testable import VKBDaemon

/// Text that made the TOML parser bundled with TOMLKit abort or overflow its stack is
/// refused with its line before the parser sees it; valid TOML that merely looks similar
/// passes through.
@Suite struct TOMLPreflightTests {
    @Test(arguments: [
        ("[[[binding]]", 1), ("[", 1), ("[é]", 1), ("[&", 1), ("[=", 1), ("[ &x]", 1),
        ("[server]\nport = 1\n[.x]", 3), ("[[ ]]", 1),
        ("x = \"\"\"\n[a]\n\"\"\"\n[#]", 4),
    ])
    func headersThatDoNotStartWithANameAreRefused(text: String, line: Int) {
        let problem = TOMLPreflight.check(text)
        #expect(problem?.line == line, "\(String(describing: problem))")
        #expect(problem?.message.contains("table header must start with a name") == true)
    }

    @Test func deepKeysAndValuesAreRefused() {
        let deepHeader = "[" + String(repeating: "a.", count: 130_000) + "a]"
        let deepKey = "\n" + String(repeating: "a.", count: 60_000) + "a = 1"
        let deepArray = "x = " + String(repeating: "[", count: 100_000)
        let deepInline = "x = " + String(repeating: "{a=", count: 100_000)
        #expect(TOMLPreflight.check(deepHeader)?.message.contains("nested more than 16 deep") == true)
        #expect(TOMLPreflight.check(deepKey)?.line == 2)
        #expect(TOMLPreflight.check(deepArray)?.message.contains("values nested more than 32 deep") == true)
        #expect(TOMLPreflight.check(deepInline)?.message.contains("values nested more than 32 deep") == true)
    }

    /// Found by FuzzConfig (Fuzz/corpus/FuzzConfig/crash-brace-in-array.toml): a `}` where an
    /// array is open made toml++ assert in parse_value.
    @Test(arguments: [("x = [}", "'}' closes the '['"), ("x = [1, }", "'}' closes the '['"),
                      ("x = {a = [}]}", "'}' closes the '['"), ("x = {a = ]}", "']' closes the '{'")])
    func mismatchedBracketsAreRefused(text: String, message: String) {
        #expect(TOMLPreflight.check(text)?.message.contains(message) == true, "\(text)")
    }

    @Test(arguments: [
        "[server]\nport = 1\n\n[[binding]]\nbit = \"shift1\"\nbutton = 20\n",
        "[ \"quoted\" ]\n['lit'.b]\n[a . b]\n[a-b_c]\n",
        "x = [\n  [1, 2],\n  [3],\n]\n",  // a line-initial [ inside an array is no header
        "x = \"\"\"\n[&\n\"\"\"\ny = '''\n[=\n'''\n",  // nor inside a multi-line string
        "x = \"[&\" # [=\ny = '[' \n# [&\n",
        "x = 1.5\ny = \"a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r\"\n",
        "a.b.c = 1\n[t]\nx = { a.b = 1, c = [[1]] }\n",
        "s = \"\"\"a\\\"\"\"b\"\"\"\n[ok]\n",  // an escaped quote inside a multi-line string
    ])
    func validTOMLPasses(text: String) {
        #expect(TOMLPreflight.check(text) == nil, "\(text)")
    }

    @Test func theLoaderReportsItWithFileAndLine() {
        #expect {
            try ConfigurationLoader.parse("[server]\nport = 1\n[[[binding]]\n", file: "c.toml")
        } throws: { error in
            (error as? ConfigurationError)?.description == "c.toml:3: invalid TOML: a table header must start with a name, like [server], [[device]] or [[binding]]"
        }
    }
}
