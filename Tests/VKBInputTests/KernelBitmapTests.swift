import Testing
import VKBCore
@testable import VKBInput

struct KernelBitmapTests {
    @Test func vkbKeyCapabilitiesParseToButtons1Through80() throws {
        // capabilities/key of an 80-button VKB stick on a 64-bit kernel.
        let keys = try #require(KernelBitmap.keys("ffffffffffffffff 0 0 0 0 0 0 ffff00000000 0 0 0 0\n"))
        #expect(keys.count == 80)
        #expect(keys.codes == Array(0x120...0x12F) + Array(0x2C0...0x2FF))
        #expect(keys.contains(KeyCode.max))
    }

    @Test func leadingZeroWordsAreLeftOutAndWord0IsLast() {
        #expect(KernelBitmap.bits("300ff") == [0, 1, 2, 3, 4, 5, 6, 7, 16, 17])
        #expect(KernelBitmap.bits("1 0") == [64])
        #expect(KernelBitmap.bits("0") == [])
    }

    @Test func thirtyTwoBitKernelsUseShorterWords() {
        #expect(KernelBitmap.bits("ffff 0", wordBits: 32) == Array(32...47))
    }

    @Test func malformedTextIsRejected() {
        #expect(KernelBitmap.bits("") == nil)
        #expect(KernelBitmap.bits("xyz") == nil)
        #expect(KernelBitmap.bits("1ffffffffffffffff") == nil, "wider than a word")
    }

    @Test func codesAboveKeyMaxAreIgnored() throws {
        // Word 12 bit 0 is code 768, KEY_MAX + 1; word 11 bit 63 is KEY_MAX.
        let keys = try #require(KernelBitmap.keys("1 8000000000000000 0 0 0 0 0 0 0 0 0 0 0"))
        #expect(keys.codes == [0x2FF])
    }
}
