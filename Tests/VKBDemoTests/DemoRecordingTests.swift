import Testing
import VKBCore
import VKBDemo
import VKBInput
import VKBLoop

/// The shipped demo recording, as embedded in the binary, must match what its header
/// promises the demo config.
@Suite("demo.evemu")
struct DemoRecordingTests {
    static func recording() throws -> EvemuRecording {
        try EvemuRecording(parsing: DemoRecording.text, path: "demo.evemu")
    }

    static let shift1: UInt16 = 0x2C3  // button 20, hold
    static let shift2: UInt16 = 0x2C4  // button 21, toggle
    static let subshift1: UInt16 = 0x124  // button 5, hold
    static let subshift2: UInt16 = 0x125  // button 6, hold

    @Test func describesAGladiatorEvoR() throws {
        let r = try Self.recording()
        #expect(r.formatVersion == .init(major: 1, minor: 3))
        #expect(r.device.name == "VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  ")
        #expect(r.device.usbID == "231d:0200")
        #expect(r.device.bus == 3)
        #expect(r.device.vkbButtons == Array(1...80))
        #expect(r.device.absoluteAxes == [0, 1, 2, 3, 4, 5, 6, 7, 0x10, 0x11])
        #expect(r.durationMicroseconds > 7_500_000 && r.durationMicroseconds < 8_500_000)
        #expect(try VKBButton.code(forButton: 20).get() == Self.shift1)
        #expect(try VKBButton.code(forButton: 21).get() == Self.shift2)
        #expect(try VKBButton.code(forButton: 5).get() == Self.subshift1)
        #expect(try VKBButton.code(forButton: 6).get() == Self.subshift2)
    }

    @Test func eachButtonEventFollowsItsScanCode() throws {
        let events = try Self.recording().events
        var keys = 0
        for (i, e) in events.enumerated() where e.type == EventType.key {
            keys += 1
            let scan = events[i - 1]
            #expect(scan.type == EventType.msc && scan.code == 4)
            #expect(scan.value == Int32(0x90000 + VKBButton.button(forCode: e.code)!))
        }
        #expect(keys == 26)
        // Axis motion at roughly 100-250 reports per second.
        let reports = events.count(where: { $0.type == EventType.syn })
        #expect(reports > 800 && reports < 2000)
    }

    /// Replays the demo with the documented bindings and checks the documented timeline.
    @Test func finalStateIsAsDocumented() throws {
        let text = DemoRecording.text
        #expect(text.contains("shift2    <- button 21 (BTN_TRIGGER_HAPPY5, 0x2c4)  toggle"))
        #expect(text.contains("VKBShiftBitmap packet: a5 0d 00 04 02 00 00 00"))

        let source = ReplayDeviceSource(recording: try Self.recording(), speed: 0)
        let loop = try EpollLoop()
        var events: [DeviceSourceEvent] = []
        let reader = source.open(
            on: loop,
            events: { event in
                events.append(event)
                if event == .ended { loop.stop() }
            },
            failed: { _ in loop.stop() })
        loop.run()
        reader.stop()
        #expect(events.first == .keyState(KeySet()))
        #expect(events.last == .ended)

        var held = KeySet()
        var shift2 = false
        var states: [String] = []
        func state() -> String {
            let shift = (held.contains(Self.shift1) ? 1 : 0) | (shift2 ? 2 : 0)
            let sub = (held.contains(Self.subshift1) ? 1 : 0) | (held.contains(Self.subshift2) ? 2 : 0)
            return "\(shift)/\(sub)"
        }
        states.append(state())
        for case .key(let code, let pressed) in events {
            if pressed && code == Self.shift2 { shift2.toggle() }
            held.set(code, pressed)
            if state() != states.last { states.append(state()) }
        }
        #expect(held.isEmpty, "every button ends released")
        #expect(states == ["0/0", "1/0", "0/0", "2/0", "2/1", "2/0", "0/0", "0/2", "1/2", "1/0", "0/0", "2/0"])
        #expect(states.last == "2/0")  // shift bitmap 0x02, subshift bitmap 0x00
    }
}
