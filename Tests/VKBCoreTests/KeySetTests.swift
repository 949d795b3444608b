import Testing

@testable import VKBCore

@Suite("KeySet")
struct KeySetTests {
    @Test func insertRemoveContains() {
        var s = KeySet()
        #expect(s.isEmpty && s.count == 0)
        s.insert(0x120)
        s.insert(0x2FF)
        s.insert(0x2FF)
        #expect(s.contains(0x120) && s.contains(0x2FF) && !s.contains(0x121))
        #expect(s.count == 2)
        #expect(s.codes == [0x120, 0x2FF])
        s.remove(0x120)
        #expect(s.codes == [0x2FF])
        s.set(0x0, true)
        s.set(0x2FF, false)
        #expect(s.codes == [0])
    }

    @Test func codesAboveTheHidrawButtonsAreIgnored() {
        var s = KeySet([0x330, 0xFFFF])
        #expect(s.isEmpty)
        #expect(!s.contains(0x330))
        s.remove(0x330)
        #expect(s.isEmpty)
    }

    @Test func bitmapMatchesKernelLayout() {
        // bit i of byte j = code 8j+i; byte 95 bit 7 = 0x2FF; bytes past KEY_CNT ignored.
        var bytes = [UInt8](repeating: 0, count: 97)
        bytes[36] = 0x01  // 0x120
        bytes[36 + 1] = 0x80  // 0x12F
        bytes[95] = 0x80  // 0x2FF
        bytes[96] = 0xFF
        #expect(KeySet(bitmap: bytes).codes == [0x120, 0x12F, 0x2FF])
    }

    @Test func valueSemanticsAndEquality() {
        let a = KeySet([1, 2, 3])
        var b = a
        b.remove(2)
        #expect(a.count == 3 && b.count == 2)
        #expect(a != b)
        b.insert(2)
        #expect(a == b)
        #expect(Set([a, b]).count == 1)
        #expect(KeySet() == KeySet([]))
    }
}
