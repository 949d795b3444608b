import Logging
import VKBCore
import VKBLoop

/// Reads HID input reports, exactly as a stick's `/dev/hidrawN` delivers them, back to back
/// from a FIFO, pipe or file, given the stick's report descriptor (the bytes of
/// `/sys/class/hidraw/hidrawN/device/report_descriptor`). It is how `make bench` gives the
/// bridge and its C baseline the same hidraw flood, and a way for another program to feed
/// the bridge buttons 81–128.
///
/// A stream keeps no report boundaries, so reports are split by the lengths the descriptor
/// declares (a report ID the descriptor does not declare fails the device: the stream is
/// out of step). The device reports `.keyState` with nothing held first, then changes of
/// the wanted buttons 81–128 (with vkb-bridge's hidraw codes, as from a stick's hidraw
/// node), and `.ended` at end of file, keeping its last state. Buttons 1–80 come through
/// evdev on a stick; give them to the bridge with an `InputEventStreamSource`.
///
/// Open a FIFO's write end before the reader opens it, or it sees end of file at once.
public final class HIDReportStreamSource: DeviceSource {
    public let device: DeviceDescription
    private let descriptor: HIDReportDescriptor
    private let logger: Logger

    /// A source for the stream at `path`, described as `device` (by default a device named
    /// "HID report stream" whose `path` is `path`). Opens nothing yet.
    public init(
        path: String, descriptor: HIDReportDescriptor, device: DeviceDescription? = nil,
        logger: Logger = Logger(label: "vkb-bridge.hidraw")
    ) {
        var description = device ?? DeviceDescription(name: "HID report stream")
        description.path = path
        self.device = description
        self.descriptor = descriptor
        self.logger = logger
    }

    public func open(
        on loop: EpollLoop, wanting wanted: KeySet, events: @escaping DeviceEventHandler,
        failed: @escaping DeviceFailureHandler
    ) -> any DeviceReader {
        let buttons = wanted.filter(KeyCode.isHidraw).codes.compactMap(VKBButton.button(forCode:))
        let reader = HidrawReader(
            path: device.path, wanted: buttons, descriptor: descriptor, framing: .stream, loop: loop, logger: logger,
            events: events, failed: failed)
        reader.open()
        return reader
    }
}
