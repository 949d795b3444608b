import CUdev

#if canImport(Glibc)
import Glibc
#endif
import VKBCore

/// A view of one udev `input` event device (`/sys/…/inputN/eventM`). Borrows the
/// `udev_device` pointer: the caller keeps it alive, on its own thread.
struct UdevInputDevice {
    let handle: OpaquePointer

    var sysPath: String { string(udev_device_get_syspath(handle)) ?? "" }
    var sysName: String { string(udev_device_get_sysname(handle)) ?? "" }
    var devNode: String? { string(udev_device_get_devnode(handle)) ?? property("DEVNAME") }
    var action: String? { string(udev_device_get_action(handle)) }
    /// udev has processed the device (it has a udev database entry).
    var isInitialized: Bool { udev_device_get_is_initialized(handle) > 0 }
    var isEventNode: Bool { sysName.hasPrefix("event") }

    func property(_ key: String) -> String? {
        string(udev_device_get_property_value(handle, key))
    }

    /// The `inputN` device that carries name, ids and capabilities. Owned by `handle`.
    private var inputParent: OpaquePointer? {
        udev_device_get_parent_with_subsystem_devtype(handle, "input", nil)
    }

    private func attribute(_ name: String, of device: OpaquePointer?) -> String? {
        guard let device else { return nil }
        return string(udev_device_get_sysattr_value(device, name))
    }

    private func hexAttribute(_ name: String, of device: OpaquePointer?) -> UInt16? {
        attribute(name, of: device).flatMap { UInt16($0.trimmingCharacters(), radix: 16) }
    }

    /// Identity and capabilities, from the parent `inputN` attributes (the kernel's
    /// view) with the event node's udev properties as fallback.
    func description() -> DeviceDescription? {
        guard let node = devNode else { return nil }
        let parent = inputParent
        // PRODUCT=bus/vendor/product/version in hex, as the kernel puts it in the uevent.
        let product = (property("PRODUCT") ?? string(parent.flatMap { udev_device_get_property_value($0, "PRODUCT") }) ?? "")
            .split(separator: "/").map { UInt16($0, radix: 16) }
        func fromProduct(_ i: Int) -> UInt16 { i < product.count ? product[i] ?? 0 : 0 }

        let keys = attribute("capabilities/key", of: parent).flatMap(KernelBitmap.keys) ?? KeySet()
        let axes = attribute("capabilities/abs", of: parent).flatMap { KernelBitmap.bits($0) } ?? []
        return DeviceDescription(
            // Untrimmed: VKB names end in spaces. libudev only drops the trailing newline.
            name: attribute("name", of: parent) ?? unquoted(property("NAME")) ?? "",
            bus: hexAttribute("id/bustype", of: parent) ?? fromProduct(0),
            vendor: hexAttribute("id/vendor", of: parent) ?? fromProduct(1),
            product: hexAttribute("id/product", of: parent) ?? fromProduct(2),
            version: hexAttribute("id/version", of: parent) ?? fromProduct(3),
            phys: attribute("phys", of: parent) ?? unquoted(property("PHYS")) ?? "",
            uniq: attribute("uniq", of: parent) ?? unquoted(property("UNIQ")) ?? "",
            path: node,
            links: links,
            keys: keys,
            absoluteAxes: axes.filter { $0 <= Int(UInt16.max) }.map { UInt16($0) },
            hidraw: hidrawNode
        )
    }

    /// The `hid` device above this node (USB and Bluetooth HID sticks). Owned by `handle`.
    private var hidParent: OpaquePointer? {
        udev_device_get_parent_with_subsystem_devtype(handle, "hid", nil)
    }

    /// The hidraw node of the same HID device: the sibling of this event node
    /// (`…/0003:231D:0200.000N/hidraw/hidrawN`).
    var hidrawNode: String? {
        guard let hid = hidParent, let enumerator = udev_enumerate_new(udev_device_get_udev(handle)) else { return nil }
        defer { udev_enumerate_unref(enumerator) }
        _ = udev_enumerate_add_match_parent(enumerator, hid)
        _ = udev_enumerate_add_match_subsystem(enumerator, "hidraw")
        guard udev_enumerate_scan_devices(enumerator) >= 0 else { return nil }
        var entry = udev_enumerate_get_list_entry(enumerator)
        while let current = entry {
            defer { entry = udev_list_entry_get_next(current) }
            guard let path = udev_list_entry_get_name(current),
                  let device = udev_device_new_from_syspath(udev_device_get_udev(handle), path)
            else { continue }
            defer { udev_device_unref(device) }
            if let node = string(udev_device_get_devnode(device)) { return node }
        }
        return nil
    }

    /// `/dev/input/by-path/…` and `/dev/input/by-id/…`: udev's link list, or the
    /// `DEVLINKS` property where the database is not available.
    var links: [String] {
        var result = Set<String>()
        var entry = udev_device_get_devlinks_list_entry(handle)
        while let current = entry {
            if let name = string(udev_list_entry_get_name(current)) { result.insert(name) }
            entry = udev_list_entry_get_next(current)
        }
        for link in (property("DEVLINKS") ?? "").split(separator: " ") { result.insert(String(link)) }
        return result.sorted()
    }

    /// udev tagged it a joystick, or it declares joystick buttons.
    func isJoystick(_ description: DeviceDescription) -> Bool {
        property("ID_INPUT_JOYSTICK") == "1" || !description.vkbButtons.isEmpty
    }

    /// The highest button number in the HID report descriptor of the `hid` device
    /// above this node, when there is one (USB and Bluetooth HID sticks).
    var hidHighestButton: Int? {
        guard let hid = hidParent, let path = string(udev_device_get_syspath(hid))
        else { return nil }
        guard let bytes = try? FileContents.bytes(atPath: path + "/report_descriptor", limit: 65536) else { return nil }
        return HIDReportDescriptor.highestButton(in: bytes)
    }

    private func string(_ pointer: UnsafePointer<CChar>?) -> String? {
        pointer.map { String(cString: $0) }
    }

    /// `NAME="…"` in a uevent carries quotes.
    private func unquoted(_ value: String?) -> String? {
        guard var value else { return nil }
        if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") {
            value = String(value.dropFirst().dropLast())
        }
        return value
    }
}

/// A libudev call failed.
public struct UdevError: Error, CustomStringConvertible, Equatable {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}
