extension EvemuRecording {
    /// The whole file (no Foundation).
    static func readFile(_ path: String) throws(EvemuRecordingError) -> [UInt8] {
        do {
            return try FileContents.bytes(atPath: path)
        } catch {
            throw .unreadable(path: path, reason: error.reason)
        }
    }
}
