import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

@testable import VKBDaemon

@Suite struct JournalLogHandlerTests {
    /// Collects what a handler writes.
    final class Lines: Sendable {
        private let box = NIOLockedValueBox<[String]>([])
        var all: [String] { box.withLockedValue { $0 } }
        func append(_ text: String) { box.withLockedValue { $0.append(text) } }
    }

    /// 2026-11-21 16:20:00.123456789 UTC.
    static let fixedTime = timespec(tv_sec: 1_795_278_000, tv_nsec: 123_456_789)

    func logger(_ style: JournalLogHandler.Style, level: Logger.Level = .trace, into lines: Lines) -> Logger {
        Logger(label: "sender") { label in
            JournalLogHandler(label: label, style: style, logLevel: level, clock: { Self.fixedTime }) {
                lines.append($0)
            }
        }
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func journalLinesCarryTheSyslogPriority(level: Logger.Level, priority: Int) {
        let lines = Lines()
        logger(.journal, into: lines).log(level: level, "server reachable")
        #expect(lines.all == ["<\(priority)>sender: server reachable\n"])
    }

    @Test func journalStyleHasNoTimestampAndPrefixesEveryLine() {
        let lines = Lines()
        logger(.journal, into: lines).error("bad config\n  line 3: expected a table\n")
        #expect(lines.all == ["<3>sender: bad config\n<3>  line 3: expected a table\n"])
    }

    @Test func metadataIsSortedKeyValueAndQuotedOnlyWhenNeeded() {
        let lines = Lines()
        var log = logger(.journal, into: lines)
        log[metadataKey: "endpoint"] = "127.0.0.1:50995"
        log.warning(
            "connection lost",
            metadata: [
                "reason": "connection reset by peer",
                "attempt": .stringConvertible(3),
                "bits": ["shift1", "subshift3"],
                "device": ["id": "right", "name": "VKBsim Gladiator EVO  R  "],
                "empty": "",
                "quote": "say \"hi\"\tnow",
            ])
        #expect(
            lines.all == [
                "<4>sender: connection lost attempt=3 bits=[shift1,subshift3] "
                    + #"device={id=right,name="VKBsim Gladiator EVO  R  "} empty="" endpoint=127.0.0.1:50995 "#
                    + #"quote="say \"hi\"\tnow" reason="connection reset by peer""# + "\n"
            ])
    }

    @Test func eventMetadataOverridesHandlerMetadataAndProviderAddsItsOwn() {
        let lines = Lines()
        let provider = Logger.MetadataProvider { ["task": "reload"] }
        var log = Logger(label: "daemon") { label in
            JournalLogHandler(label: label, style: .journal, metadataProvider: provider) { lines.append($0) }
        }
        log[metadataKey: "device"] = "left"
        log.info("attached", metadata: ["device": "right"])
        #expect(lines.all == ["<6>daemon: attached device=right task=reload\n"])
    }

    @Test func theProgramsOwnNameIsNotRepeatedAsLabel() {
        let lines = Lines()
        let log = Logger(label: "vkb-bridge") { label in
            JournalLogHandler(label: label, style: .journal, programName: "vkb-bridge") { lines.append($0) }
        }
        log.notice("connected to 127.0.0.1:50995")
        #expect(lines.all == ["<5>connected to 127.0.0.1:50995\n"])
    }

    @Test func levelBelowTheHandlersIsDropped() {
        let lines = Lines()
        let log = logger(.journal, level: .notice, into: lines)
        log.info("retrying")
        log.notice("connected")
        #expect(lines.all == ["<5>sender: connected\n"])
    }

    @Test func terminalLinesCarryTimeAndLevel() {
        let line = JournalLogHandler.format(
            style: .terminal, level: .warning, label: "sender", message: "connection lost",
            metadata: ["endpoint": "127.0.0.1:50995"], time: Self.fixedTime, utc: true)
        #expect(line == "2026-11-21 16:20:00.123 warning sender: connection lost endpoint=127.0.0.1:50995\n")
    }

    @Test func terminalStyleUsesTheInjectedClock() throws {
        let lines = Lines()
        logger(.terminal, into: lines).notice("ready")
        let line = try #require(lines.all.first)
        let expectedStamp = JournalLogHandler.timestamp(Self.fixedTime, utc: false)
        #expect(line == "\(expectedStamp) notice sender: ready\n")
        #expect(line.firstMatch(of: #/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.123 /#) != nil)
    }

    @Test func journalStreamMustNameTheDescriptorsFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-journal-\(UUID().uuidString)")
        #expect(FileManager.default.createFile(atPath: url.path, contents: nil))
        defer { try? FileManager.default.removeItem(at: url) }
        let fd = open(url.path, O_RDONLY | O_CLOEXEC)
        try #require(fd >= 0)
        defer { close(fd) }
        var info = stat()
        try #require(fstat(fd, &info) == 0)

        #expect(JournalLogHandler.isJournalStream("\(info.st_dev):\(info.st_ino)", fileDescriptor: fd))
        #expect(!JournalLogHandler.isJournalStream("\(info.st_dev):\(info.st_ino + 1)", fileDescriptor: fd))
        #expect(!JournalLogHandler.isJournalStream(nil, fileDescriptor: fd))
        #expect(!JournalLogHandler.isJournalStream("garbage", fileDescriptor: fd))
        #expect(!JournalLogHandler.isJournalStream("\(info.st_dev):\(info.st_ino)", fileDescriptor: -1))
    }
}
