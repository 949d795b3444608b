/// What is known about an input device before reading it: identity for matching,
/// and its capabilities. Filled from libevdev/udev for real devices and from the
/// recording's header for replayed ones, so matching treats both alike.
public struct DeviceDescription: Sendable, Hashable {
    /// The kernel name, untrimmed (VKB names carry double and trailing spaces).
    public var name: String
    public var bus: UInt16
    public var vendor: UInt16
    public var product: UInt16
    public var version: UInt16
    /// Physical path (`usb-0000:00:14.0-2/input0`): tells identical sticks apart.
    public var phys: String
    /// Unique id; VKB sticks have none.
    public var uniq: String
    /// Device node (`/dev/input/event5`) or the recording's file path.
    public var path: String
    /// Stable links (`/dev/input/by-path/…`, `/dev/input/by-id/…`), when udev gives them.
    public var links: [String]
    /// Key codes the device declares.
    public var keys: KeySet
    /// Absolute axes the device declares.
    public var absoluteAxes: [UInt16]
    /// The `/dev/hidrawN` of the same HID device, where buttons above 80 are read; nil
    /// for recordings and devices that are not HID.
    public var hidraw: String?

    public init(
        name: String, bus: UInt16 = 0, vendor: UInt16 = 0, product: UInt16 = 0, version: UInt16 = 0,
        phys: String = "", uniq: String = "", path: String = "", links: [String] = [],
        keys: KeySet = KeySet(), absoluteAxes: [UInt16] = [], hidraw: String? = nil
    ) {
        self.name = name
        self.bus = bus
        self.vendor = vendor
        self.product = product
        self.version = version
        self.phys = phys
        self.uniq = uniq
        self.path = path
        self.links = links
        self.keys = keys
        self.absoluteAxes = absoluteAxes
        self.hidraw = hidraw
    }

    /// `231d:0200`.
    public var usbID: String {
        "\(Hex.padded(vendor, digits: 4)):\(Hex.padded(product, digits: 4))"
    }

    /// VKB button numbers (1…80) this device exposes, ascending.
    public var vkbButtons: [Int] {
        keys.codes.compactMap(VKBButton.button(forCode:)).sorted()
    }
}
