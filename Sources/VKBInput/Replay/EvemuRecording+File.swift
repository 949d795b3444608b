extension EvemuRecording {
    /// The largest recording read: about a quarter of an hour of a stick with every axis
    /// moving at 1 kHz.
    public static let maxFileBytes = 256 << 20

    /// The whole file (no Foundation).
    static func readFile(_ path: String) throws(EvemuRecordingError) -> [UInt8] {
        do {
            return try FileContents.bytes(atPath: path, atMost: maxFileBytes)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
    }
}
