extension HIDReportDescriptor {
    /// The descriptor in the file at `path` (raw bytes, as sysfs' `report_descriptor`).
    /// Throws one line naming the file and what is wrong.
    public init(contentsOfFile path: String) throws(HIDDescriptorFileError) {
        let bytes: [UInt8]
        do {
            bytes = try FileContents.bytes(atPath: path, atMost: Self.maxBytes)
        } catch {
            throw HIDDescriptorFileError(path: path, message: "\(error)")
        }
        do {
            try self.init(parsing: bytes)
        } catch {
            throw HIDDescriptorFileError(path: path, message: "\(error)")
        }
    }
}

/// Why a report descriptor file cannot be used: `path: reason`, on one line.
public struct HIDDescriptorFileError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String
    public var description: String { "\(path): \(message)" }
}
