import FoundationEssentials
import VKBCore
import VKBInput
import VKBShift

/// What `vkb-bridge devices` prints about each input device.
struct DeviceListing: Encodable {
    var node: String
    var vendor: String
    var product: String
    var name: String
    var phys: String
    var uniq: String
    var links: [String]
    /// VKB button numbers the event node exposes.
    var buttons: [Int]
    /// Key codes the node declares (buttons and any others).
    var buttonCount: Int
    /// The `[[device]]` id that matches; nil without config or without match.
    var matches: String?
    var joystick: Bool
    var initialized: Bool
    var hidButtons: Int?
    /// The stick's hidraw node (buttons above 80), when it has one.
    var hidraw: String?

    /// `rules` nil: no config was given, matching is not applicable.
    init(_ info: InputDeviceInfo, rules: [DeviceRule]?) {
        let d = info.device
        node = d.path
        vendor = Hex.padded(d.vendor, digits: 4)
        product = Hex.padded(d.product, digits: 4)
        name = d.name
        phys = d.phys
        uniq = d.uniq
        links = d.links
        buttons = d.vkbButtons
        buttonCount = d.keys.count
        matches = rules.flatMap { DeviceRule.firstMatch(in: $0, for: d)?.id }
        joystick = info.isJoystick
        initialized = info.isInitialized
        hidButtons = info.hidButtons
        hidraw = d.hidraw
    }

    private enum CodingKeys: String, CodingKey {
        case node, vendor, product, name, phys, uniq, links, buttons, buttonCount, matches, joystick, initialized, hidButtons, hidraw
    }

    /// Explicit so that absent values are `null`, not missing keys.
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(node, forKey: .node)
        try c.encode(vendor, forKey: .vendor)
        try c.encode(product, forKey: .product)
        try c.encode(name, forKey: .name)
        try c.encode(phys, forKey: .phys)
        try c.encode(uniq, forKey: .uniq)
        try c.encode(links, forKey: .links)
        try c.encode(buttons, forKey: .buttons)
        try c.encode(buttonCount, forKey: .buttonCount)
        try c.encode(matches, forKey: .matches)
        try c.encode(joystick, forKey: .joystick)
        try c.encode(initialized, forKey: .initialized)
        try c.encode(hidButtons, forKey: .hidButtons)
        try c.encode(hidraw, forKey: .hidraw)
    }

    /// A note when the HID descriptor declares buttons evdev cannot deliver.
    var hiddenButtonsNote: String? {
        guard let hidButtons, hidButtons > VKBButton.maxDeliverable else { return nil }
        let high = "\(VKBButton.maxDeliverable + 1)-\(min(hidButtons, VKBButton.maxButton))"
        guard let hidraw else {
            return "its HID descriptor declares \(hidButtons) buttons; evdev delivers 1-\(VKBButton.maxDeliverable), and no hidraw node was found for \(high)"
        }
        return "its HID descriptor declares \(hidButtons) buttons: 1-\(VKBButton.maxDeliverable) through evdev, \(high) through \(hidraw) "
            + "(opened only when a binding names one; it needs read access: the udev rule gives it)"
    }

    /// The human-readable block for one device.
    func text(configGiven: Bool) -> String {
        var lines = ["\(node)  \(vendor):\(product)  \"\(name)\""]
        func field(_ label: String, _ value: String) {
            lines.append("    " + (label + ":").padding(to: 10) + value)
        }
        field("phys", phys.isEmpty ? "-" : phys)
        field("uniq", uniq.isEmpty ? "-" : uniq)
        if links.isEmpty {
            field("links", "-")
        } else {
            for (i, link) in links.enumerated() { i == 0 ? field("links", link) : lines.append(String(repeating: " ", count: 14) + link) }
        }
        let vkb = buttons.isEmpty ? "" : " (VKB buttons \(Self.ranges(buttons)))"
        field("buttons", "\(buttons.count)\(vkb)")
        if buttonCount != buttons.count { field("keys", "\(buttonCount) key codes in all") }
        if let hidraw { field("hidraw", hidraw) }
        field("matches", configGiven ? (matches ?? "no [[device]] matches") : "n/a (no --config)")
        if !initialized { field("note", "udev has not initialised this device; the bridge waits until it does") }
        if let hiddenButtonsNote { field("note", hiddenButtonsNote) }
        return lines.joined(separator: "\n")
    }

    /// `[1, 2, 3, 5]` → `1-3, 5`.
    static func ranges(_ numbers: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        let sorted = numbers.sorted()
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count, sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ", ")
    }

    static func json(_ listings: [DeviceListing]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(listings), as: UTF8.self)
    }
}

extension String {
    fileprivate func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
