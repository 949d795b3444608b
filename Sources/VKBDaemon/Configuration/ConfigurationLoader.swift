import TOMLKit
import VKBCore
import VKBInput
import VKBSender
import VKBShift

/// Reads a TOML config into a `BridgeConfiguration`, collecting every problem with
/// its `file:line` instead of stopping at the first.
public enum ConfigurationLoader {
    /// The largest config file read (a real one is a few KB).
    public static let maxFileBytes = 1 << 20

    /// Loads and validates the file at `path` in this process (`ConfigurationChecker`
    /// parses it in a child first).
    public static func load(path: String) throws(ConfigurationError) -> BridgeConfiguration {
        try parse(try text(of: try bytes(atPath: path), file: path), file: path)
    }

    /// The file's bytes, at most `maxFileBytes`.
    public static func bytes(atPath path: String) throws(ConfigurationError) -> [UInt8] {
        do {
            return try FileContents.bytes(atPath: path, atMost: maxFileBytes)
        } catch {
            throw ConfigurationError([.init(file: path, line: nil, message: "cannot read the config: \(error)")])
        }
    }

    /// A config file's bytes as text: UTF-8, a leading BOM allowed (Notepad writes one),
    /// LF or CRLF line ends (the TOML parser reads both). A NUL byte or invalid UTF-8 is
    /// refused with its line: the parser would stop at the NUL without a word, and turn
    /// invalid bytes into U+FFFD, making a name that can never match.
    public static func text(of bytes: [UInt8], file: String) throws(ConfigurationError) -> String {
        var body = bytes[...]
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { body = body.dropFirst(3) }
        func line(_ index: Int) -> Int { body[..<index].count { $0 == 0x0A } + 1 }
        if let nul = body.firstIndex(of: 0) {
            throw ConfigurationError([.init(file: file, line: line(nul), message: "a NUL byte: a config is UTF-8 text")])
        }
        var parser = Unicode.UTF8.ForwardParser()
        var iterator = body.makeIterator()
        var offset = body.startIndex
        while true {
            switch parser.parseScalar(from: &iterator) {
            case .valid(let scalar):
                offset += scalar.count
            case .emptyInput:
                return String(decoding: body, as: UTF8.self)
            case .error:
                throw ConfigurationError([.init(
                    file: file, line: line(offset),
                    message: "not UTF-8 (byte 0x\(String(body[offset], radix: 16))): save the config as UTF-8")])
            }
        }
    }

    /// Parses and validates config text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> BridgeConfiguration {
        if let problem = TOMLPreflight.check(text) {
            throw ConfigurationError([.init(file: file, line: problem.line, message: "invalid TOML: \(problem.message)")])
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw ConfigurationError([.init(file: file, line: error.source.begin.line, message: "invalid TOML: \(error.description)")])
        } catch {
            throw ConfigurationError([.init(file: file, line: nil, message: "invalid TOML: \(error)")])
        }
        var reader = Reader(file: file, locator: TOMLLineLocator(text: text))
        let configuration = reader.read(table)
        guard reader.diagnostics.isEmpty else {
            let more = reader.unlisted > 0 ? [ConfigurationDiagnostic(file: file, line: nil, message: "\(reader.unlisted) more problem(s) not listed")] : []
            throw ConfigurationError(reader.diagnostics + more)
        }
        return configuration
    }
}

private typealias Q = ConfigurationDiagnostic

/// Walks the parsed TOML, converting values and recording problems.
private struct Reader {
    /// Problems listed at most: 3,000 bindings naming an unknown device must not print
    /// megabytes; the rest are counted.
    static let listedProblems = 100

    let file: String
    let locator: TOMLLineLocator
    var diagnostics: [ConfigurationDiagnostic] = []
    var unlisted = 0

    init(file: String, locator: TOMLLineLocator) {
        self.file = file
        self.locator = locator
    }

    mutating func problem(_ table: String, _ key: String?, _ message: String) {
        guard diagnostics.count < Self.listedProblems else {
            unlisted += 1
            return
        }
        diagnostics.append(.init(file: file, line: locator.line(table: table, key: key), message: message))
    }

    mutating func read(_ root: TOMLTable) -> BridgeConfiguration {
        var config = BridgeConfiguration()
        checkKeys(root, table: "", allowed: ["server", "reconnect", "device", "binding"])

        if let server = table(root, "server", in: "") {
            let t = "server"
            checkKeys(server, table: t, allowed: [
                "host", "port", "header", "command", "clear_on_exit", "user_timeout_ms", "keepalive_idle_s",
                "keepalive_interval_s", "keepalive_count", "connect_timeout_ms", "queue_capacity",
                "refresh_interval_ms", "outage_reminder_s",
            ])
            var s = config.sender
            if let host = string(server, "host", in: t) {
                if host.isEmpty { problem(t, "host", "expected a host name or address, got an empty string") } else { s.host = host }
            }
            s.port = int(server, "port", in: t, range: 1...65535) ?? s.port
            s.header = int(server, "header", in: t, range: 0...255).map(UInt8.init) ?? s.header
            s.command = int(server, "command", in: t, range: 0...255).map(UInt8.init) ?? s.command
            config.clearOnExit = bool(server, "clear_on_exit", in: t) ?? false
            s.userTimeoutMilliseconds = int(server, "user_timeout_ms", in: t, range: 100...600_000) ?? s.userTimeoutMilliseconds
            s.keepaliveIdleSeconds = int(server, "keepalive_idle_s", in: t, range: 1...7200) ?? s.keepaliveIdleSeconds
            s.keepaliveIntervalSeconds = int(server, "keepalive_interval_s", in: t, range: 1...600) ?? s.keepaliveIntervalSeconds
            s.keepaliveCount = int(server, "keepalive_count", in: t, range: 1...100) ?? s.keepaliveCount
            s.connectTimeoutMilliseconds = int(server, "connect_timeout_ms", in: t, range: 10...60_000) ?? s.connectTimeoutMilliseconds
            s.queueCapacity = int(server, "queue_capacity", in: t, range: 1...1_000_000) ?? s.queueCapacity
            s.refreshIntervalMilliseconds = int(server, "refresh_interval_ms", in: t, range: 0...3_600_000) ?? s.refreshIntervalMilliseconds
            s.outageReminderSeconds = int(server, "outage_reminder_s", in: t, range: 1...86_400) ?? s.outageReminderSeconds
            config.sender = s
        }

        if let reconnect = table(root, "reconnect", in: "") {
            let t = "reconnect"
            checkKeys(reconnect, table: t, allowed: ["initial_delay_ms", "max_delay_ms", "restart_window_ms", "restart_max_delay_ms"])
            let defaults = config.sender.backoff
            let initial = int(reconnect, "initial_delay_ms", in: t, range: 1...60_000) ?? defaults.initialMilliseconds
            let maximum = int(reconnect, "max_delay_ms", in: t, range: 1...600_000) ?? max(initial, defaults.maxMilliseconds)
            if maximum < initial {
                problem(t, "max_delay_ms", "expected max_delay_ms (\(maximum)) to be at least initial_delay_ms (\(initial))")
            }
            let window = int(reconnect, "restart_window_ms", in: t, range: 0...3_600_000) ?? defaults.restartWindowMilliseconds
            let restartMax = int(reconnect, "restart_max_delay_ms", in: t, range: 1...600_000) ?? max(initial, defaults.restartMaxMilliseconds)
            if restartMax < initial {
                problem(t, "restart_max_delay_ms", "expected restart_max_delay_ms (\(restartMax)) to be at least initial_delay_ms (\(initial))")
            }
            config.sender.backoff = .init(
                initialMilliseconds: initial, maxMilliseconds: maximum,
                restartWindowMilliseconds: window, restartMaxMilliseconds: restartMax)
        }

        for (index, device) in tables(root, "device").enumerated() {
            if let rule = readDevice(device, table: "device#\(index)") {
                if config.devices.contains(where: { $0.id == rule.id }) {
                    problem("device#\(index)", "id", "device id \(Q.quoted(rule.id)) is used by an earlier [[device]]; ids must be unique")
                }
                config.devices.append(rule)
            }
        }

        let ids = Set(config.devices.map(\.id))
        for (index, entry) in tables(root, "binding").enumerated() {
            if let binding = readBinding(entry, table: "binding#\(index)", deviceIDs: ids) {
                config.bindings.append(binding)
            }
        }
        return config
    }

    mutating func readDevice(_ t: TOMLTable, table: String) -> DeviceRule? {
        checkKeys(t, table: table, allowed: ["id", "vendor", "product", "name_contains", "phys", "uniq", "path"])
        guard let id = string(t, "id", in: table) else {
            problem(table, nil, "expected an `id = \"…\"` in this [[device]] (bindings refer to it)")
            return nil
        }
        return DeviceRule(
            id: id,
            vendor: hex16(t, "vendor", in: table),
            product: hex16(t, "product", in: table),
            nameContains: string(t, "name_contains", in: table),
            phys: string(t, "phys", in: table),
            uniq: string(t, "uniq", in: table),
            path: string(t, "path", in: table)
        )
    }

    mutating func readBinding(_ t: TOMLTable, table: String, deviceIDs: Set<String>) -> Binding? {
        checkKeys(t, table: table, allowed: ["bit", "button", "code", "mode", "device"])
        var bit: ShiftBit?
        if let name = string(t, "bit", in: table) {
            bit = ShiftBit(name: name)
            if bit == nil {
                let names = ShiftBit.allCases.map(\.description).joined(separator: ", ")
                problem(table, "bit", "unknown bit \(Q.quoted(name)); expected one of \(names)")
            }
        } else if t["bit"] == nil {
            problem(table, nil, "expected `bit = \"shift1\"` (or shift2, subshift1…subshift7) in this [[binding]]")
        }

        var code: UInt16?
        switch (t["button"], t["code"]) {
        case (nil, nil):
            problem(table, nil, "expected `button = N` (VKB button 1-128) or `code = \"BTN_…\"` in this [[binding]]")
        case (.some, .some):
            problem(table, "code", "give either `button` or `code`, not both")
        case (.some(let value), nil):
            if let n = value.int {
                switch VKBButton.code(forButton: n) {
                case .success(let c): code = c
                case .failure(let why): problem(table, "button", why.description)
                }
            } else {
                problem(table, "button", "expected a VKB button number (1-128), got \(Q.describe(value))")
            }
        case (nil, .some(let value)):
            let parsed = value.int.flatMap { UInt16(exactly: $0) } ?? value.string.flatMap(EvdevCodeNames.keyCode(named:))
            if let parsed, parsed <= KeyCode.max {
                code = parsed
            } else if let parsed {
                problem(table, "code", "key code \(EvdevCodeNames.hex(parsed)) is above KEY_MAX (0x2ff): the kernel never delivers it")
            } else {
                problem(table, "code", "expected an evdev key name (BTN_TRIGGER_HAPPY3) or number (0x2c2), got \(Q.describe(value))")
            }
        }

        var mode = BindingMode.hold
        if let name = string(t, "mode", in: table) {
            if let m = BindingMode(rawValue: name.lowercased()) { mode = m } else {
                problem(table, "mode", "unknown mode \(Q.quoted(name)); expected hold or toggle")
            }
        }

        let device = string(t, "device", in: table)
        if let device, !deviceIDs.contains(device) {
            let known = deviceIDs.isEmpty ? "no [[device]] is defined" : "defined ids: \(Q.list(deviceIDs.sorted()))"
            problem(table, "device", "no [[device]] has id \(Q.quoted(device)) (\(known))")
        }
        guard let bit, let code else { return nil }
        return Binding(bit: bit, code: code, mode: mode, device: device)
    }

    // MARK: - Typed access

    mutating func checkKeys(_ t: TOMLTable, table: String, allowed: Set<String>) {
        for key in t.keys where !allowed.contains(key) {
            let place = table.isEmpty ? "at the top level" : "in [\(Self.display(table))]"
            problem(table, key, "unknown key \(Q.quoted(key)) \(place); expected one of \(allowed.sorted().joined(separator: ", "))")
        }
    }

    static func display(_ table: String) -> String {
        table.split(separator: "#").first.map(String.init) ?? table
    }

    mutating func table(_ t: TOMLTable, _ key: String, in parent: String) -> TOMLTable? {
        guard let value = t[key] else { return nil }
        if let table = value.table { return table }
        problem(parent, key, "expected a table [\(key)], got \(value.type)")
        return nil
    }

    mutating func tables(_ t: TOMLTable, _ key: String) -> [TOMLTable] {
        guard let value = t[key] else { return [] }
        guard let array = value.array else {
            problem("", key, "expected an array of tables [[\(key)]], got \(value.type)")
            return []
        }
        var result: [TOMLTable] = []
        for (i, element) in array.enumerated() {
            if let table = element.table { result.append(table) } else {
                problem("\(key)#\(i)", nil, "expected [[\(key)]] entries to be tables")
            }
        }
        return result
    }

    mutating func string(_ t: TOMLTable, _ key: String, in table: String) -> String? {
        guard let value = t[key] else { return nil }
        if let s = value.string { return s }
        problem(table, key, "expected a string for \(key), got \(Q.describe(value))")
        return nil
    }

    mutating func bool(_ t: TOMLTable, _ key: String, in table: String) -> Bool? {
        guard let value = t[key] else { return nil }
        if let b = value.bool { return b }
        problem(table, key, "expected true or false for \(key), got \(Q.describe(value))")
        return nil
    }

    mutating func int(_ t: TOMLTable, _ key: String, in table: String, range: ClosedRange<Int>) -> Int? {
        guard let value = t[key] else { return nil }
        guard let n = value.int else {
            problem(table, key, "expected an integer for \(key), got \(Q.describe(value))")
            return nil
        }
        guard range.contains(n) else {
            problem(table, key, "expected \(key) in \(range.lowerBound)...\(range.upperBound), got \(n)")
            return nil
        }
        return n
    }

    /// A USB id: an integer (`0x231d`) or a hex string (`"231d"`, `"0x231d"`).
    mutating func hex16(_ t: TOMLTable, _ key: String, in table: String) -> UInt16? {
        guard let value = t[key] else { return nil }
        if let n = value.int, let v = UInt16(exactly: n) { return v }
        if let s = value.string {
            let digits = s.lowercased().hasPrefix("0x") ? String(s.dropFirst(2)) : s
            if let v = UInt16(digits, radix: 16) { return v }
        }
        problem(table, key, "expected a 16-bit USB id for \(key), like 0x231d or \"231d\", got \(Q.describe(value))")
        return nil
    }
}
