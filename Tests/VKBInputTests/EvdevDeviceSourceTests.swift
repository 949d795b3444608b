import Foundation
import NIOConcurrencyHelpers
import Testing
import VKBCore
@testable import VKBInput

/// What can be checked without an input device. The device paths (key state at open,
/// SYN_DROPPED, hotplug) run against umockdev in IntegrationTests/UmockdevTests.
struct EvdevDeviceSourceTests {
    final class Collected: Sendable {
        let events = NIOLockedValueBox<[DeviceSourceEvent]>([])
    }

    @Test func missingNodeEndsRunAsGone() throws {
        let source = try EvdevDeviceSource(device: DeviceDescription(name: "x", path: "/dev/input/event-none"))
        #expect(throws: EvdevSourceError.gone(path: "/dev/input/event-none")) {
            try source.run { _ in }
        }
    }

    @Test func aNodeThatIsNotEvdevFailsLibevdevInit() throws {
        let source = try EvdevDeviceSource(device: DeviceDescription(name: "x", path: "/dev/null"))
        #expect(throws: EvdevSourceError.initFailed(path: "/dev/null", errno: ENOTTY)) {
            try source.run { _ in }
        }
    }

    @Test func stopBeforeRunReturnsWithoutEvents() throws {
        let source = try EvdevDeviceSource(device: DeviceDescription(name: "x", path: "/dev/null"))
        source.stop()
        source.stop()  // idempotent
        let collected = Collected()
        try source.run { event in collected.events.withLockedValue { $0.append(event) } }
        #expect(collected.events.withLockedValue { $0 }.isEmpty)
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
        let source = try EvdevDeviceSource(device: DeviceDescription(name: "x", path: path), permissionRetry: .milliseconds(300))
        let started = ContinuousClock.now
        #expect(throws: EvdevSourceError.permissionDenied(path: path, waited: .milliseconds(300))) {
            try source.run { _ in }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(300))
    }

    @Test(.enabled(if: geteuid() != 0, "root opens any file, so EACCES cannot be provoked"))
    func stopEndsThePermissionRetryAtOnce() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("vkb-eacces-\(UUID().uuidString)").path
        #expect(FileManager.default.createFile(atPath: path, contents: Data(), attributes: [.posixPermissions: 0]))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let source = try EvdevDeviceSource(device: DeviceDescription(name: "x", path: path), permissionRetry: .seconds(30))
        let thread = try BlockingThread { source.stop() }  // whenever it lands: before or during the retries
        let started = ContinuousClock.now
        try source.run { _ in }
        thread.join()
        #expect(ContinuousClock.now - started < .seconds(10))
    }
}

struct UdevDeviceWatcherTests {
    @Test func stopBeforeRunReturnsAtOnce() throws {
        let watcher = try UdevDeviceWatcher()
        watcher.stop()
        try watcher.run { _ in Issue.record("no events expected") }
    }

    @Test func defaultFilterKeepsDevicesWithJoystickButtons() {
        let stick = DeviceDescription(name: "stick", keys: KeySet([0x2FF]))
        let keyboard = DeviceDescription(name: "kbd", keys: KeySet([0x1E, 0x1F]))
        #expect(UdevDeviceWatcher.hasJoystickButtons(stick))
        #expect(!UdevDeviceWatcher.hasJoystickButtons(keyboard))
    }
}
