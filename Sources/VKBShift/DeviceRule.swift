import VKBCore

/// A `[[device]]` entry: which input devices to read, and the label bindings use.
/// Every key that is set must match; an entry with no keys matches every device.
public struct DeviceRule: Sendable, Hashable {
    public var id: String
    public var vendor: UInt16?
    public var product: UInt16?
    /// Matched against the kernel name ignoring case and runs of white space, since
    /// VKB names carry double and trailing spaces.
    public var nameContains: String?
    /// Exact `phys`, to tell identical sticks apart.
    public var phys: String?
    public var uniq: String?
    /// Device node or one of its udev links (`/dev/input/by-path/…`).
    public var path: String?

    public init(
        id: String, vendor: UInt16? = nil, product: UInt16? = nil, nameContains: String? = nil,
        phys: String? = nil, uniq: String? = nil, path: String? = nil
    ) {
        self.id = id
        self.vendor = vendor
        self.product = product
        self.nameContains = nameContains
        self.phys = phys
        self.uniq = uniq
        self.path = path
    }

    public func matches(_ device: DeviceDescription) -> Bool {
        if let vendor, vendor != device.vendor { return false }
        if let product, product != device.product { return false }
        if let nameContains, !Self.normalised(device.name).contains(Self.normalised(nameContains)) { return false }
        if let phys, phys != device.phys { return false }
        if let uniq, uniq != device.uniq { return false }
        if let path, path != device.path && !device.links.contains(path) { return false }
        return true
    }

    /// Lower case, runs of white space folded to one space, trimmed.
    static func normalised(_ s: String) -> String {
        s.lowercased().split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }

    /// The id of the first rule that matches, if any.
    public static func firstMatch(in rules: [DeviceRule], for device: DeviceDescription) -> DeviceRule? {
        rules.first { $0.matches(device) }
    }
}
