import Testing
import VKBCore
import VKBShift
@testable import VKBDaemon

@Suite struct ConfigurationLoaderTests {
    @Test func fullExampleParses() throws {
        let text = """
            [server]
            host = "::1"
            port = 50996
            header = 0xA6
            command = 14
            clear_on_exit = true

            [reconnect]
            initial_delay_ms = 20
            max_delay_ms = 500

            [[device]]
            id = "right"
            vendor = 0x231d
            product = "0200"
            name_contains = "Gladiator"

            [[binding]]
            bit = "shift1"
            button = 20
            mode = "hold"
            device = "right"

            [[binding]]
            bit = "subshift7"
            code = "BTN_TRIGGER_HAPPY4"
            mode = "toggle"

            [[binding]]
            bit = "shift2"
            code = 0x2c2
            """
        let c = try ConfigurationLoader.parse(text, file: "t.toml")
        #expect(c.sender.host == "::1" && c.sender.port == 50996)
        #expect(c.sender.header == 0xA6 && c.sender.command == 14)
        #expect(c.clearOnExit)
        #expect(c.sender.backoff == .init(initialMilliseconds: 20, maxMilliseconds: 500))
        #expect(c.devices == [DeviceRule(id: "right", vendor: 0x231d, product: 0x0200, nameContains: "Gladiator")])
        #expect(c.bindings == [
            Binding(bit: .shift1, code: 0x2C3, mode: .hold, device: "right"),
            Binding(bit: .subshift7, code: 0x2C3, mode: .toggle),
            Binding(bit: .shift2, code: 0x2C2, mode: .hold),
        ])
        #expect(c.sender.endpointDescription == "[::1]:50996")
    }

    @Test func defaultsWhenSectionsAreMissing() throws {
        let c = try ConfigurationLoader.parse("", file: "empty.toml")
        #expect(c.sender.host == "127.0.0.1" && c.sender.port == 50995)
        #expect(c.sender.header == 0xA5 && c.sender.command == 13)
        #expect(c.sender.backoff == .init(initialMilliseconds: 50, maxMilliseconds: 1000, restartWindowMilliseconds: 10_000, restartMaxMilliseconds: 70))
        #expect(c.bindings.isEmpty && c.devices.isEmpty && !c.clearOnExit)
    }

    @Test func buttons1To128AreAcceptedAnd129Refused() throws {
        let evdev = try ConfigurationLoader.parse("[[binding]]\nbit = \"shift1\"\nbutton = 80\n", file: "c.toml")
        #expect(evdev.bindings.first?.code == 0x2FF)
        let hidraw = try ConfigurationLoader.parse("[[binding]]\nbit = \"shift1\"\nbutton = 128\n", file: "c.toml")
        #expect(hidraw.bindings.first?.code == VKBButton.hidrawCode(forButton: 128))
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("[[binding]]\nbit = \"shift1\"\nbutton = 129\n", file: "c.toml")
        }
        let d = try #require(error?.diagnostics.first)
        #expect(d.line == 3)
        #expect(d.description.hasPrefix("c.toml:3: button 129 is not a VKB button number"))
        #expect(d.message.contains("at most 128"))
    }

    @Test func everyErrorIsReportedWithItsLine() throws {
        let text = """
            [server]
            port = 70000
            hots = "x"

            [[device]]
            vendor = 0x231d

            [[binding]]
            bit = "shift3"
            button = 3

            [[binding]]
            bit = "shift1"
            mode = "latch"
            button = 0
            device = "left"
            """
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.parse(text, file: "bad.toml") }
        let lines = try #require(error).diagnostics.map { "\($0.line ?? -1): \($0.message)" }
        #expect(lines.contains { $0.hasPrefix("2: expected port in 1...65535, got 70000") })
        #expect(lines.contains { $0.hasPrefix("3: unknown key \"hots\"") })
        #expect(lines.contains { $0.hasPrefix("5: expected an `id") })
        #expect(lines.contains { $0.hasPrefix("9: unknown bit \"shift3\"") })
        #expect(lines.contains { $0.hasPrefix("14: unknown mode \"latch\"") })
        #expect(lines.contains { $0.hasPrefix("15: button 0 is not a VKB button") })
        #expect(lines.contains { $0.hasPrefix("16: no [[device]] has id \"left\"") })
        #expect(lines.count == 7)
    }

    @Test func tomlSyntaxErrorNamesTheLine() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("[server]\nport = \n", file: "syntax.toml")
        }
        let d = try #require(error?.diagnostics.first)
        #expect(d.line == 2)
        #expect(d.description.hasPrefix("syntax.toml:2: invalid TOML"))
    }

    @Test func missingFileIsAClearError() throws {
        let error = #expect(throws: ConfigurationError.self) { try ConfigurationLoader.load(path: "/nonexistent/vkb.toml") }
        #expect(error?.description == "/nonexistent/vkb.toml: cannot read the config: No such file or directory")
    }

    @Test func buttonAndCodeTogetherAreRefused() throws {
        let error = #expect(throws: ConfigurationError.self) {
            try ConfigurationLoader.parse("[[binding]]\nbit = \"shift1\"\nbutton = 3\ncode = \"BTN_TOP\"\n", file: "c.toml")
        }
        #expect(error?.diagnostics.first?.line == 4)
    }
}

@Suite struct ConfigurationSummaryTests {
    @Test func bindingsAbove80SayWhatTheyNeed() throws {
        let c = try ConfigurationLoader.parse(
            "[[binding]]\nbit = \"shift1\"\nbutton = 97\n[[binding]]\nbit = \"shift2\"\nbutton = 12\n", file: "c.toml")
        let text = ConfigurationSummary(c).text(file: "c.toml")
        #expect(text.contains("shift1 ← VKB button 97 (hidraw button 97), hold"))
        #expect(text.contains("hidraw: buttons 97 are read from each matched stick's /dev/hidrawN"))
        #expect(text.contains("70-vkb-bridge.rules"))
        let low = try ConfigurationLoader.parse("[[binding]]\nbit = \"shift1\"\nbutton = 12\n", file: "c.toml")
        #expect(!ConfigurationSummary(low).text(file: "c.toml").contains("hidraw"))
    }
}
