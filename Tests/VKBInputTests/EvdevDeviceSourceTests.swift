import Foundation
import Testing
import VKBCore
import VKBLoop

@testable import VKBInput

/// What can be checked without an input device. The device paths (key state at open,
/// SYN_DROPPED, hotplug) run against umockdev in IntegrationTests/UmockdevTests.
struct EvdevDeviceSourceTests {
    static func read(_ path: String, permissionRetry: Duration = .seconds(5)) throws -> LoopReading {
        try LoopReading.read(EvdevDeviceSource(device: DeviceDescription(name: "x", path: path), permissionRetry: permissionRetry))
    }

    @Test func missingNodeFailsAsGone() throws {
        let reading = try Self.read("/dev/input/event-none")
        #expect(reading.error as? EvdevSourceError == .gone(path: "/dev/input/event-none"))
        #expect(reading.events.isEmpty)
    }

    @Test func aNodeThatIsNotEvdevFailsLibevdevInit() throws {
        let reading = try Self.read("/dev/null")
        #expect(reading.error as? EvdevSourceError == .initFailed(path: "/dev/null", errno: ENOTTY))
    }

    @Test func aFailureIsNeverReportedInsideOpen() throws {
        let loop = try EpollLoop()
        var failedDuringOpen = false
        var opening = true
        let reader = EvdevDeviceSource(device: DeviceDescription(name: "x", path: "/dev/null")).open(
            on: loop, events: { _ in }, failed: { _ in
                failedDuringOpen = opening
                loop.stop()
            })
        opening = false
        loop.run()
        reader.stop()
        #expect(!failedDuringOpen)
    }

    @Test func permissionErrorNamesTheUdevRule() {
        let message = EvdevSourceError.permissionDenied(path: "/dev/input/event5", waited: .seconds(5)).description
        #expect(message.contains("/dev/input/event5"))
        #expect(message.contains("permission denied"))
        #expect(message.contains("udev-rules/70-vkb-bridge.rules"))
    }

    @Test(.enabled(if: geteuid() != 0, "root opens any file, so EACCES cannot be provoked"))
    func permissionDeniedIsRetriedUntilTheDeadline() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-eacces-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let started = ContinuousClock.now
        let reading = try Self.read(path, permissionRetry: .milliseconds(300))
        #expect(reading.error as? EvdevSourceError == .permissionDenied(path: path, waited: .milliseconds(300)))
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }

    @Test(.enabled(if: geteuid() != 0, "root opens any file, so EACCES cannot be provoked"))
    func stopEndsThePermissionRetryAtOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-eacces-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let loop = try EpollLoop()
        let reader = EvdevDeviceSource(device: DeviceDescription(name: "x", path: path), permissionRetry: .seconds(30)).open(
            on: loop, events: { _ in }, failed: { _ in Issue.record("stopped readers report nothing") })
        loop.schedule(in: .milliseconds(250)) { reader.stop() }
        // Nothing is left on the loop once the reader stopped: a retry would fire first.
        loop.schedule(in: .milliseconds(600)) { loop.stop() }
        loop.run()
    }
}

struct UdevDeviceWatcherTests {
    @Test func defaultFilterKeepsDevicesWithJoystickButtons() {
        let stick = DeviceDescription(name: "stick", keys: KeySet([0x2FF]))
        let keyboard = DeviceDescription(name: "kbd", keys: KeySet([0x1E, 0x1F]))
        #expect(UdevDeviceWatcher.hasJoystickButtons(stick))
        #expect(!UdevDeviceWatcher.hasJoystickButtons(keyboard))
    }
}
