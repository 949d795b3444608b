import Foundation
import Testing
import VKBLoop

@testable import VKBInput

@Suite("ReplayDeviceWatcher")
struct ReplayDeviceWatcherTests {
    @Test func reportsEachSourceAndTheEndOfEnumerationAtStart() throws {
        let a = ReplayDeviceSource(recording: try Fixtures.parse(Fixtures.minimal(events: []), path: "a.evemu"))
        let b = ReplayDeviceSource(recording: try Fixtures.parse(Fixtures.minimal(events: []), path: "b.evemu"))
        let watcher = ReplayDeviceWatcher(sources: [a, b])
        let loop = try EpollLoop()
        var added: [String] = []
        let follower = try watcher.start(
            on: loop,
            events: { event in
                switch event {
                case .added(let source): added.append(source.device.path)
                case .removed(let path): added.append("removed \(path)")
                case .enumerated: added.append("enumerated")
                }
            },
            failed: { _ in Issue.record("no failure expected") })
        // Reported before `start` returns: nothing waits on the loop.
        #expect(added == ["a.evemu", "b.evemu", "enumerated"])
        follower.stop()
        follower.stop()  // idempotent
    }

    @Test func loadsEveryFileBeforeReplaying() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-watch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.evemu").path
        let bad = dir.appendingPathComponent("bad.evemu").path
        try Fixtures.minimal(events: ["E: 0.000001 0001 0120 1"]).write(toFile: good, atomically: true, encoding: .utf8)
        try Fixtures.minimal(events: ["E: 0.000001 0001 0120 1", "E: 0.1 01"]).write(toFile: bad, atomically: true, encoding: .utf8)

        let watcher = try ReplayDeviceWatcher(recordingPaths: [good], speed: 2, loop: true)
        let source = try #require(watcher.sources.first as? ReplayDeviceSource)
        #expect(source.device.path == good)
        #expect(source.speed == 2 && source.loop)

        #expect(
            throws: EvemuRecordingError.malformed(
                path: bad, line: 17, message: #"expected "E: <sec>.<usec> <type> <code> <value>", got "E: 0.1 01""#)
        ) {
            try ReplayDeviceWatcher(recordingPaths: [good, bad])
        }
    }
}
