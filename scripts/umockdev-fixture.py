#!/usr/bin/env python3
"""Generate umockdev fixtures (.umockdev + .ioctl) for a VKB-like stick from a compact
description (Tests/Fixtures/devices/*.toml).

The output mirrors what Linux builds for a USB HID joystick:

    usb device 1-P  ->  interface 1-P:1.0  ->  hid 0003:VVVV:PPPP.NNNN (report_descriptor)
        ->  input/inputI (name, phys, id/*, capabilities/*)  ->  eventE (/dev/input/eventE)

and answers the evdev ioctls libevdev 1.13 sends at open with the sizes it asks for
(EVIOCGBIT(0) 8, EVIOCGNAME/PHYS/UNIQ 255, EVIOCGBIT(EV_KEY)/EVIOCGKEY 96, EVIOCGBIT(EV_FF)
16, the other bitmaps 8, EVIOCGABS 24). EVIOCGKEY reports the keys held at open.

Usable as a module (the umockdev test driver imports it) or from the command line:

    scripts/umockdev-fixture.py Tests/Fixtures/devices/gladiator-nxt-evo-r.toml \\
        --event 5 --input 12 --port 2 --held-button 3 --out-dir /tmp/fx
    umockdev-run -d /tmp/fx/gladiator-nxt-evo-r.umockdev \\
        -i /dev/input/event5=/tmp/fx/gladiator-nxt-evo-r.ioctl -- vkb-bridge devices
"""

import argparse
import os
import re
import struct
import sys
import tomllib

EV_SYN, EV_KEY, EV_ABS, EV_MSC = 0x00, 0x01, 0x03, 0x04
MSC_SCAN = 0x04
KEY_MAX = 0x2FF
KEY_BYTES = (KEY_MAX + 1) // 8  # 96
INPUT_MAJOR = 13
EVDEV_MINOR_BASE = 64
BUS_USB = 0x03

ABS_CODES = {
    "ABS_X": 0x00, "ABS_Y": 0x01, "ABS_Z": 0x02, "ABS_RX": 0x03, "ABS_RY": 0x04,
    "ABS_RZ": 0x05, "ABS_THROTTLE": 0x06, "ABS_RUDDER": 0x07, "ABS_WHEEL": 0x08,
    "ABS_HAT0X": 0x10, "ABS_HAT0Y": 0x11,
}
# HID Generic Desktop usages that hid-input maps to these axes.
HID_USAGE_FOR_ABS = {0x00: 0x30, 0x01: 0x31, 0x02: 0x32, 0x03: 0x33, 0x04: 0x34, 0x05: 0x35,
                     0x06: 0x36, 0x07: 0x37, 0x08: 0x38}
PCI_ROOT = "/devices/pci0000:00/0000:00:14.0/usb1"
PCI_ID = "0000:00:14.0"


def button_code(n):
    """evdev key code for HID button n (drivers/hid/hid-input.c), None above 80."""
    if 1 <= n <= 16:
        return 0x120 + n - 1
    if 17 <= n <= 80:
        return 0x2C0 + n - 17
    return None


class Description:
    """A stick model: identity, buttons, axes."""

    def __init__(self, data, source="<dict>"):
        def need(key, kind):
            if key not in data:
                sys.exit(f"{source}: missing key '{key}'")
            if not isinstance(data[key], kind):
                sys.exit(f"{source}: '{key}' must be {kind.__name__}")
            return data[key]

        self.source = source
        self.slug = os.path.splitext(os.path.basename(source))[0]
        self.name = need("name", str)
        self.vendor = need("vendor", int)
        self.product = need("product", int)
        self.version = data.get("version", 0x0111)
        self.hid_buttons = need("hid_buttons", int)
        self.hat = bool(data.get("hat", False))
        self.axes = []
        for i, axis in enumerate(data.get("axis", [])):
            code = axis.get("code")
            if code not in ABS_CODES:
                sys.exit(f"{source}: axis {i + 1}: unknown code {code!r}, expected one of {sorted(ABS_CODES)}")
            lo, hi = axis.get("min", 0), axis["max"]
            self.axes.append((ABS_CODES[code], lo, hi))
        if self.hat:
            self.axes += [(ABS_CODES["ABS_HAT0X"], -1, 1), (ABS_CODES["ABS_HAT0Y"], -1, 1)]

    @classmethod
    def load(cls, path):
        with open(path, "rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as e:
                sys.exit(f"{path}: {e}")
        return cls(data, path)

    @property
    def key_codes(self):
        codes = (button_code(n) for n in range(1, self.hid_buttons + 1))
        return sorted(c for c in codes if c is not None)

    def report_descriptor(self):
        """A HID report descriptor like VKB's: 16-bit axes, a 4-bit hat, n buttons."""
        d = bytearray([0x05, 0x01, 0x09, 0x04, 0xA1, 0x01])  # Generic Desktop, Joystick, Application
        for code, lo, hi in self.axes:
            if code in HID_USAGE_FOR_ABS:
                d += bytes([0x09, HID_USAGE_FOR_ABS[code], 0x16]) + struct.pack("<h", lo)
                d += bytes([0x26]) + struct.pack("<h", hi)
                d += bytes([0x75, 0x10, 0x95, 0x01, 0x81, 0x02])
        if self.hat:
            d += bytes([0x09, 0x39, 0x15, 0x00, 0x25, 0x07, 0x35, 0x00, 0x46, 0x3B, 0x01,
                        0x65, 0x14, 0x75, 0x04, 0x95, 0x01, 0x81, 0x42,
                        0x65, 0x00, 0x75, 0x04, 0x95, 0x01, 0x81, 0x03])  # hat + padding
        n = self.hid_buttons
        d += bytes([0x05, 0x09, 0x19, 0x01, 0x2A]) + struct.pack("<H", n)  # Button page 1…n
        d += bytes([0x15, 0x00, 0x25, 0x01, 0x75, 0x01, 0x96]) + struct.pack("<H", n)
        d += bytes([0x81, 0x02, 0xC0])
        return bytes(d)


class Instance:
    """Where one stick sits: node numbers, USB port, keys held when it is opened."""

    def __init__(self, event=5, input=None, port="2", hid=None, held=()):
        self.event = event
        self.input = input if input is not None else event + 10
        self.port = str(port)
        self.hid = hid if hid is not None else event
        self.held = sorted(set(held))

    @property
    def devnode(self):
        return f"/dev/input/event{self.event}"

    @property
    def phys(self):
        return f"usb-{PCI_ID}-{self.port}/input0"


def paths(desc, inst):
    usb = f"{PCI_ROOT}/1-{inst.port}"
    intf = f"{usb}/1-{inst.port}:1.0"
    hid = f"{intf}/{BUS_USB:04X}:{desc.vendor:04X}:{desc.product:04X}.{inst.hid:04X}"
    inp = f"{hid}/input/input{inst.input}"
    return {"usb": usb, "interface": intf, "hid": hid, "input": inp, "event": f"{inp}/event{inst.event}"}


def bitmap_bytes(codes, size):
    b = bytearray(size)
    for c in codes:
        b[c // 8] |= 1 << (c % 8)
    return bytes(b)


def kernel_bitmap(codes, nbits):
    """sysfs capabilities/* format: unsigned longs in hex, most significant first,
    leading zero words left out (drivers/input/input.c input_print_bitmap)."""
    words = [0] * ((nbits + 63) // 64)
    for c in codes:
        words[c // 64] |= 1 << (c % 64)
    while len(words) > 1 and words[-1] == 0:
        words.pop()
    return " ".join(f"{w:x}" for w in reversed(words))


def attr_escape(value):
    return value.replace("\\", "\\\\").replace("\n", "\\n")


def udev_safe(text):
    """Roughly udev's replace_chars for ID_MODEL/ID_VENDOR: unsafe runs to '_'."""
    return re.sub(r"[^0-9A-Za-z#+\-.:=@_]+", "_", text).strip("_")


def links(desc, inst):
    """The /dev/input/by-id and by-path links udev would create."""
    id_path = f"pci-{PCI_ID}-usb-0:{inst.port}:1.0"
    return [f"/dev/input/by-id/usb-{udev_safe(desc.name)}-event-joystick",
            f"/dev/input/by-path/{id_path}-event-joystick"]


def umockdev_text(desc, inst):
    p = paths(desc, inst)
    keys = desc.key_codes
    abs_codes = [c for c, _, _ in desc.axes]
    minor = EVDEV_MINOR_BASE + inst.event
    vid, pid = f"{desc.vendor:04x}", f"{desc.product:04x}"
    id_path = f"pci-{PCI_ID}-usb-0:{inst.port}:1.0"
    by_id, by_path = links(desc, inst)
    udev_common = [
        "ID_INPUT=1", "ID_INPUT_JOYSTICK=1", "ID_BUS=usb",
        f"ID_VENDOR_ID={vid}", f"ID_MODEL_ID={pid}", f"ID_SERIAL={udev_safe(desc.name)}",
        f"ID_PATH={id_path}", f"ID_PATH_TAG={re.sub(r'[^0-9A-Za-z]', '_', id_path)}",
        "ID_TYPE=hid", "ID_USB_DRIVER=usbhid", "ID_USB_INTERFACE_NUM=00",
    ]
    hid_id = f"{BUS_USB:04X}:{desc.vendor:08X}:{desc.product:08X}"
    out = []
    # Parents first, as the kernel announces them: when the event node's "add" goes
    # out, its inputN attributes must already be readable.

    out.append(f"P: {p['usb']}")
    out.append("E: DEVTYPE=usb_device")
    out.append("E: DRIVER=usb")
    out.append(f"E: PRODUCT={desc.vendor:x}/{desc.product:x}/{desc.version:x}")
    out.append("E: SUBSYSTEM=usb")
    out.append(f"A: idVendor={vid}\\n")
    out.append(f"A: idProduct={pid}\\n")
    out.append(f"A: bcdDevice={desc.version:04x}\\n")
    out.append("")


    out.append(f"P: {p['interface']}")
    out.append("E: DEVTYPE=usb_interface")
    out.append("E: DRIVER=usbhid")
    out.append("E: INTERFACE=3/0/0")
    out.append("E: SUBSYSTEM=usb")
    out.append("A: bInterfaceClass=03\\n")
    out.append("A: bInterfaceNumber=00\\n")
    out.append("")


    out.append(f"P: {p['hid']}")
    out.append("E: DRIVER=hid-generic")
    out.append(f"E: HID_ID={hid_id}")
    out.append(f"E: HID_NAME={desc.name}")
    out.append(f"E: HID_PHYS={inst.phys}")
    out.append(f"E: MODALIAS=hid:b{BUS_USB:04X}g0001v{desc.vendor:08X}p{desc.product:08X}")
    out.append("E: SUBSYSTEM=hid")
    out.append(f"H: report_descriptor={desc.report_descriptor().hex().upper()}")
    out.append("")


    out.append(f"P: {p['input']}")
    out.append("E: EV=1b")
    out.append(f"E: KEY={kernel_bitmap(keys, KEY_MAX + 1)}")
    out.append(f"E: ABS={kernel_bitmap(abs_codes, 0x40)}")
    out.append("E: MSC=10")
    out.append(f'E: NAME="{desc.name}"')
    out.append(f'E: PHYS="{inst.phys}"')
    out.append(f"E: PRODUCT={BUS_USB:x}/{desc.vendor:x}/{desc.product:x}/{desc.version:x}")
    out.append("E: PROP=0")
    out.append("E: SUBSYSTEM=input")
    out.append('E: UNIQ=""')
    out += [f"E: {e}" for e in udev_common]
    # sysfs attribute files end in a newline, which libudev drops; trailing spaces stay.
    out.append(f"A: name={attr_escape(desc.name)}\\n")
    out.append(f"A: phys={inst.phys}\\n")
    out.append("A: uniq=\\n")
    out.append("A: properties=0\\n")
    out.append(f"A: id/bustype={BUS_USB:04x}\\n")
    out.append(f"A: id/vendor={vid}\\n")
    out.append(f"A: id/product={pid}\\n")
    out.append(f"A: id/version={desc.version:04x}\\n")
    out.append("A: capabilities/ev=1b\\n")
    out.append(f"A: capabilities/key={kernel_bitmap(keys, KEY_MAX + 1)}\\n")
    out.append(f"A: capabilities/abs={kernel_bitmap(abs_codes, 0x40)}\\n")
    out.append("A: capabilities/msc=10\\n")
    out.append("A: capabilities/rel=0\\n")
    out.append("")

    out.append(f"P: {p['event']}")
    out.append(f"N: input/event{inst.event}")
    out.append(f"S: {by_id[len('/dev/'):]}")
    out.append(f"S: {by_path[len('/dev/'):]}")
    out.append(f"E: DEVLINKS={by_id} {by_path}")
    out.append(f"E: DEVNAME=/dev/input/event{inst.event}")
    out += [f"E: {e}" for e in udev_common]
    out += [f"E: MAJOR={INPUT_MAJOR}", f"E: MINOR={minor}", "E: SUBSYSTEM=input", "E: TAGS=:uaccess:seat:"]
    out.append(f"A: dev={INPUT_MAJOR}:{minor}")
    out.append("L: device=../../input" + str(inst.input))
    out.append("")
    return "\n".join(out)


def ioctl_text(desc, inst):
    """The evdev ioctls libevdev 1.13 sends at open, with the sizes it asks for."""
    keys = desc.key_codes
    abs_codes = [c for c, _, _ in desc.axes]

    def line(name, ret, data):
        return f"{name} {ret} {data.hex().upper()}"

    def string(s):
        raw = s.encode() + b"\0"
        return raw, raw.ljust(255, b"\0")[:255]

    name_raw, name_buf = string(desc.name)
    phys_raw, phys_buf = string(inst.phys)
    uniq_raw, uniq_buf = string("")
    ev_bits = bitmap_bytes([EV_SYN, EV_KEY, EV_ABS, EV_MSC], 8)
    out = [f"@DEV {inst.devnode}"]
    out.append(line("EVIOCGBIT(0)", 8, ev_bits))
    out.append(line("EVIOCGNAME(0)", len(name_raw), name_buf))
    out.append(line("EVIOCGPHYS(0)", len(phys_raw), phys_buf))
    out.append(line("EVIOCGUNIQ(0)", len(uniq_raw), uniq_buf))
    out.append(line("EVIOCGID", 0, struct.pack("<4H", BUS_USB, desc.vendor, desc.product, desc.version)))
    out.append(line("EVIOCGVERSION", 0, struct.pack("<i", 0x010001)))
    out.append(line("EVIOCGPROP(0)", 8, bytes(8)))
    out.append(line("EVIOCGBIT(1)", KEY_BYTES, bitmap_bytes(keys, KEY_BYTES)))
    out.append(line("EVIOCGBIT(2)", 8, bytes(8)))
    out.append(line("EVIOCGBIT(3)", 8, bitmap_bytes(abs_codes, 8)))
    out.append(line("EVIOCGBIT(4)", 8, bitmap_bytes([MSC_SCAN], 8)))
    out.append(line("EVIOCGBIT(5)", 8, bytes(8)))
    out.append(line("EVIOCGBIT(17)", 8, bytes(8)))
    out.append(line("EVIOCGBIT(18)", 8, bytes(8)))
    out.append(line("EVIOCGBIT(21)", 16, bytes(16)))
    out.append(line("EVIOCGKEY(0)", KEY_BYTES, bitmap_bytes(inst.held, KEY_BYTES)))
    out.append(line("EVIOCGLED(0)", 8, bytes(8)))
    out.append(line("EVIOCGSW(0)", 8, bytes(8)))
    for code, lo, hi in desc.axes:
        rng = hi - lo
        fuzz, flat = (rng >> 8, rng >> 4) if rng > 2 else (0, 0)
        value = lo + rng // 2 if rng > 2 else 0
        out.append(line(f"EVIOCGABS({code})", 0, struct.pack("<6i", value, lo, hi, fuzz, flat, 0)))
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("description", help="a Tests/Fixtures/devices/*.toml file")
    ap.add_argument("--event", type=int, default=5, help="N of /dev/input/eventN (default 5)")
    ap.add_argument("--input", type=int, help="N of the parent inputN (default event+10)")
    ap.add_argument("--port", default="2", help="USB port: phys usb-0000:00:14.0-PORT/input0 (default 2)")
    ap.add_argument("--held-button", type=int, action="append", default=[],
                    help="VKB button held when the node is opened (repeatable)")
    ap.add_argument("--out-dir", default=".", help="where to write NAME.umockdev and NAME.ioctl")
    args = ap.parse_args()

    desc = Description.load(args.description)
    held = []
    for n in args.held_button:
        code = button_code(n)
        if code is None:
            sys.exit(f"--held-button {n}: evdev delivers VKB buttons 1-80 only")
        held.append(code)
    inst = Instance(event=args.event, input=args.input, port=args.port, held=held)
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, desc.slug)
    with open(base + ".umockdev", "w") as f:
        f.write(umockdev_text(desc, inst))
    with open(base + ".ioctl", "w") as f:
        f.write(ioctl_text(desc, inst))
    print(f"{base}.umockdev\n{base}.ioctl\n{inst.devnode}")


if __name__ == "__main__":
    main()
