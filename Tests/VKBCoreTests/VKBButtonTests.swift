import Testing

@testable import VKBCore

@Suite("VKBButton")
struct VKBButtonTests {
    @Test(arguments: [(1, 0x120), (16, 0x12F), (17, 0x2C0), (56, 0x2E7), (57, 0x2E8), (80, 0x2FF)] as [(Int, UInt16)])
    func buttonToCode(button: Int, code: UInt16) throws {
        #expect(try VKBButton.code(forButton: button).get() == code)
        #expect(VKBButton.button(forCode: code) == button)
    }

    @Test func button81IsAboveTheKernelLimit() {
        #expect(VKBButton.code(forButton: 81) == .failure(.aboveKernelLimit(81)))
        let text = VKBButton.Problem.aboveKernelLimit(81).description
        #expect(text.contains("button 81 cannot be read through evdev"))
        #expect(text.contains("KEY_MAX (0x2ff)"))
        #expect(text.contains("drops buttons above 80"))
        #expect(VKBButton.code(forButton: 128) == .failure(.aboveKernelLimit(128)))
        #expect(VKBButton.code(forButton: 0) == .failure(.notPositive(0)))
        #expect(VKBButton.Problem.notPositive(0).description.contains("start at 1"))
    }

    @Test func roundTripOverAllButtons() throws {
        for n in 1...VKBButton.maxDeliverable {
            let code = try VKBButton.code(forButton: n).get()
            #expect(code <= KeyCode.max)
            #expect(VKBButton.button(forCode: code) == n)
        }
        let codes = try (1...80).map { try VKBButton.code(forButton: $0).get() }
        #expect(Set(codes).count == 80)
    }

    @Test func codesOutsideTheButtonRangesAreNotButtons() {
        for code: UInt16 in [0, 0x11F, 0x130, 0x2BF, 0x300] {
            #expect(VKBButton.button(forCode: code) == nil)
        }
    }
}
