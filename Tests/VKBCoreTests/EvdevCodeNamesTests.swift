import Testing

@testable import VKBCore

@Suite("EvdevCodeNames")
struct EvdevCodeNamesTests {
    @Test(arguments: [
        ("BTN_TRIGGER", 0x120), ("btn_trigger", 0x120), (" BTN_DEAD ", 0x12F), ("BTN_TRIGGER_HAPPY3", 0x2C2),
        ("BTN_TRIGGER_HAPPY40", 0x2E7), ("BTN_JOYSTICK", 0x120), ("BTN_A", 0x130),
        ("0x2c2", 0x2C2), ("0X2C2", 0x2C2), ("0x2ff", 0x2FF), ("706", 706), ("288", 0x120),
    ] as [(String, UInt16)])
    func keyCodeNamed(text: String, code: UInt16) {
        #expect(EvdevCodeNames.keyCode(named: text) == code)
    }

    @Test(arguments: ["", "BTN_NOPE", "0x", "0xzz", "-1", "65536", "0x10000", "2c2"])
    func unknownNames(text: String) {
        #expect(EvdevCodeNames.keyCode(named: text) == nil)
    }

    @Test func namesAndHex() {
        #expect(EvdevCodeNames.keyName(0x120) == "BTN_TRIGGER")
        #expect(EvdevCodeNames.keyName(0x2C0) == "BTN_TRIGGER_HAPPY1")
        #expect(EvdevCodeNames.keyName(0x2E8) == "0x2e8")  // unnamed in the kernel
        #expect(EvdevCodeNames.keyName(0x2FF) == "0x2ff")
        #expect(EvdevCodeNames.hex(0x2C2) == "0x2c2")
        #expect(EvdevCodeNames.absolute[0x06] == "ABS_THROTTLE")
        #expect(EvdevCodeNames.absolute[0x07] == "ABS_RUDDER")
    }

    @Test func everyNameRoundTrips() {
        for (code, name) in EvdevCodeNames.keys {
            #expect(EvdevCodeNames.keyCode(named: name) == code)
        }
    }
}
