import Testing
import VKBCore
@testable import VKBShift

private let b20: UInt16 = 0x2C3  // VKB button 20
private let b21: UInt16 = 0x2C4  // VKB button 21
private let b5: UInt16 = 0x124   // VKB button 5

@Suite struct ShiftMapperTests {
    @Test func holdSetsTheBitOnlyWhileDown() {
        var m = ShiftMapper(bindings: [Binding(bit: .shift1, code: b20, mode: .hold)])
        m.attach(1, label: nil)
        #expect(m.apply(.keyState(KeySet()), from: 1) == .clear)
        #expect(m.apply(.key(code: b20, pressed: true), from: 1) == ShiftState(shift: 1))
        #expect(m.apply(.key(code: b20, pressed: false), from: 1) == .clear)
    }

    @Test func toggleFlipsOnEachPressNotOnRelease() {
        var m = ShiftMapper(bindings: [Binding(bit: .shift2, code: b21, mode: .toggle)])
        m.attach(1, label: nil)
        #expect(m.apply(.key(code: b21, pressed: true), from: 1) == ShiftState(shift: 2))
        #expect(m.apply(.key(code: b21, pressed: false), from: 1) == ShiftState(shift: 2))
        #expect(m.apply(.key(code: b21, pressed: true), from: 1) == .clear)
        #expect(m.apply(.key(code: b21, pressed: false), from: 1) == .clear)
    }

    @Test func severalBindingsOnOneBitAreORed() {
        var m = ShiftMapper(bindings: [
            Binding(bit: .subshift1, code: b5, mode: .hold),
            Binding(bit: .subshift1, code: b20, mode: .hold),
        ])
        m.attach(1, label: nil)
        m.apply(.key(code: b5, pressed: true), from: 1)
        m.apply(.key(code: b20, pressed: true), from: 1)
        #expect(m.state == ShiftState(subshift: 1))
        m.apply(.key(code: b5, pressed: false), from: 1)
        #expect(m.state == ShiftState(subshift: 1), "still held through button 20")
        m.apply(.key(code: b20, pressed: false), from: 1)
        #expect(m.state == .clear)
    }

    @Test func stateIsTheOROverDevicesAndDetachReleases() {
        var m = ShiftMapper(bindings: [Binding(bit: .shift1, code: b20)])
        m.attach(1, label: nil)
        m.attach(2, label: nil)
        m.apply(.key(code: b20, pressed: true), from: 1)
        m.apply(.key(code: b20, pressed: true), from: 2)
        m.apply(.key(code: b20, pressed: false), from: 1)
        #expect(m.state == ShiftState(shift: 1), "device 2 still holds it")
        #expect(m.detach(2) == .clear)
        #expect(m.attachedDevices == [1])
    }

    @Test func deviceLimitedBindingIgnoresOtherDevices() {
        var m = ShiftMapper(bindings: [Binding(bit: .shift1, code: b20, device: "right")])
        m.attach(1, label: "left")
        m.attach(2, label: "right")
        #expect(m.apply(.key(code: b20, pressed: true), from: 1) == .clear)
        #expect(m.apply(.key(code: b20, pressed: true), from: 2) == ShiftState(shift: 1))
    }

    @Test func keyStateAtOpenCountsAHeldButton() {
        var m = ShiftMapper(bindings: [Binding(bit: .subshift7, code: b20)])
        m.attach(1, label: nil)
        #expect(m.apply(.keyState(KeySet([b20])), from: 1) == ShiftState(subshift: 0x40))
        // A resync that no longer has it releases it.
        #expect(m.apply(.keyState(KeySet()), from: 1) == .clear)
    }

    @Test func unboundKeysAndUnknownDevicesChangeNothing() {
        var m = ShiftMapper(bindings: [Binding(bit: .shift1, code: b20)])
        m.attach(1, label: nil)
        #expect(m.apply(.key(code: 0x120, pressed: true), from: 1) == .clear)
        #expect(m.apply(.key(code: b20, pressed: true), from: 99) == .clear)
        #expect(m.apply(.ended, from: 1) == .clear)
    }

    @Test func reboundKeepsHeldButtonsAndUnchangedToggles() {
        let toggle = Binding(bit: .shift2, code: b21, mode: .toggle)
        var m = ShiftMapper(bindings: [toggle, Binding(bit: .shift1, code: b20)])
        m.attach(1, label: nil)
        m.apply(.key(code: b21, pressed: true), from: 1)
        m.apply(.key(code: b20, pressed: true), from: 1)
        #expect(m.state == ShiftState(shift: 3))
        // shift1 moves to subshift3; the toggle is unchanged and keeps its value.
        let next = m.rebound(
            to: [toggle, Binding(bit: .subshift3, code: b20)],
            devices: [(handle: 1, label: nil, keys: KeySet([b20, b21]))])
        #expect(next.state == ShiftState(shift: 2, subshift: 4))
    }

    @Test func shiftStateBitsAndNames() {
        var s = ShiftState.clear
        s[.shift2] = true
        s[.subshift7] = true
        #expect(s.shift == 0x02 && s.subshift == 0x40)
        #expect(s.description == "shift2+subshift7")
        #expect(ShiftState.clear.description == "none")
        #expect(ShiftState(shift: 0xFF, subshift: 0xFF) == ShiftState(shift: 3, subshift: 0x7F))
        #expect(ShiftBit(name: "SubShift4") == .subshift4)
        #expect(ShiftBit(name: "shift3") == nil)
    }
}

@Suite struct DeviceRuleTests {
    let gladiator = DeviceDescription(
        name: "VKB-Sim © Alex Oz 2021  VKBsim Gladiator EVO  R  ", vendor: 0x231d, product: 0x0200,
        phys: "usb-0000:00:14.0-2/input0", path: "/dev/input/event5", links: ["/dev/input/by-path/pci-0000:00:14.0-usb-0:2:1.0-event-joystick"])

    @Test func nameMatchingIgnoresCaseAndSpaceRuns() {
        #expect(DeviceRule(id: "r", nameContains: "vkbsim gladiator evo r").matches(gladiator))
        #expect(DeviceRule(id: "r", nameContains: "Gladiator  EVO   R").matches(gladiator))
        #expect(!DeviceRule(id: "r", nameContains: "Gunfighter").matches(gladiator))
    }

    @Test func everyGivenKeyMustMatch() {
        #expect(DeviceRule(id: "r", vendor: 0x231d, product: 0x0200).matches(gladiator))
        #expect(!DeviceRule(id: "r", vendor: 0x231d, product: 0x0201).matches(gladiator))
        #expect(DeviceRule(id: "r", phys: "usb-0000:00:14.0-2/input0").matches(gladiator))
        #expect(!DeviceRule(id: "r", phys: "usb-0000:00:14.0-3/input0").matches(gladiator))
        #expect(DeviceRule(id: "r", path: "/dev/input/by-path/pci-0000:00:14.0-usb-0:2:1.0-event-joystick").matches(gladiator))
        #expect(DeviceRule(id: "any").matches(gladiator))
    }
}
