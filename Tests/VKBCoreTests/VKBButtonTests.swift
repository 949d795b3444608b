import Testing

@testable import VKBCore

@Suite("VKBButton")
struct VKBButtonTests {
    @Test(arguments: [(1, 0x120), (16, 0x12F), (17, 0x2C0), (56, 0x2E7), (57, 0x2E8), (80, 0x2FF)] as [(Int, UInt16)])
    func buttonToCode(button: Int, code: UInt16) throws {
        #expect(try VKBButton.code(forButton: button).get() == code)
        #expect(VKBButton.button(forCode: code) == button)
    }

    @Test func buttons81To128AreReadFromHidrawAnd129IsNoButton() {
        #expect(VKBButton.code(forButton: 81) == .success(0x300))
        #expect(VKBButton.code(forButton: 128) == .success(0x32F))
        #expect(VKBButton.code(forButton: 129) == .failure(.aboveMaximum(129)))
        let text = VKBButton.Problem.aboveMaximum(129).description
        #expect(text.contains("button 129 is not a VKB button number"))
        #expect(text.contains("at most 128"))
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
        for code: UInt16 in [0, 0x11F, 0x130, 0x2BF, 0x330] {
            #expect(VKBButton.button(forCode: code) == nil)
        }
    }
}

@Suite struct HidrawCodeTests {
    @Test func buttons81To128GetCodesAboveTheKernels() {
        #expect(VKBButton.hidrawCode(forButton: 80) == nil)
        #expect(VKBButton.hidrawCode(forButton: 81) == 0x300)
        #expect(VKBButton.hidrawCode(forButton: 128) == 0x32F)
        #expect(VKBButton.hidrawCode(forButton: 129) == nil)
        for n in 81...128 {
            let code = VKBButton.hidrawCode(forButton: n)!
            #expect(KeyCode.isHidraw(code))
            #expect(VKBButton.button(forCode: code) == n)
        }
        #expect(!KeyCode.isHidraw(0x2FF))
    }

    @Test func aKeySetHoldsHidrawCodesBesideTheKernels() {
        var keys = KeySet([0x2FF])
        keys.insert(0x32F)
        keys.insert(0x330)  // beyond: ignored
        #expect(keys.codes == [0x2FF, 0x32F])
        #expect(keys.filter(KeyCode.isHidraw).codes == [0x32F])
        #expect(KeySet([0x120]).union(KeySet([0x300])).codes == [0x120, 0x300])
    }
}
