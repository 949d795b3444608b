// The HID report descriptor and input reports of a VKB-like stick (DESIGN §4): one
// report ID, 16-bit axes, a hat nibble and its padding, 128 button bits. Shared by the
// kernel tier's uhid sticks (tests/kernel/uhid-stick.c) and the hidraw flood of
// `make bench` (Benchmarks/benchtool.c), so both speak the same reports.
#ifndef VKB_HID_H
#define VKB_HID_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VKB_HID_MAX_AXES 8
#define VKB_HID_BUTTONS 128
#define VKB_HID_REPORT_ID 1
/* The longest report: ID, 8 axes, hat byte, button bits. */
#define VKB_HID_MAX_REPORT (1 + 2 * VKB_HID_MAX_AXES + 1 + VKB_HID_BUTTONS / 8)

struct vkb_hid_axis {
    const char *name; // command-line name
    uint8_t usage;    // Generic Desktop usage
    uint16_t max;     // logical maximum (minimum is 0)
};

// X/Y 0–4095, Z/Rz 0–2047, Rx/Ry 0–1023 or 0–4095, Slider→ABS_THROTTLE, Dial→ABS_RUDDER.
static const struct vkb_hid_axis vkb_hid_gladiator_axes[8] = {
    {"x", 0x30, 4095}, {"y", 0x31, 4095}, {"z", 0x32, 2047}, {"rx", 0x33, 1023},
    {"ry", 0x34, 1023}, {"rz", 0x35, 2047}, {"slider", 0x36, 2047}, {"dial", 0x37, 2047},
};

static inline size_t vkb_hid_item(uint8_t *d, size_t n, uint8_t tag, uint32_t value, int size) {
    d[n++] = tag | (size == 4 ? 3 : size);
    for (int i = 0; i < size; i++) d[n++] = (value >> (8 * i)) & 0xff;
    return n;
}

// Report: [id][axes: u16 LE each][hat: low nibble, high nibble padding][128 button bits].
static inline size_t vkb_hid_descriptor(const struct vkb_hid_axis *axes, int naxes, uint8_t *d) {
    size_t n = 0;
    n = vkb_hid_item(d, n, 0x04, 0x01, 1); // Usage Page (Generic Desktop)
    n = vkb_hid_item(d, n, 0x08, 0x04, 1); // Usage (Joystick)
    n = vkb_hid_item(d, n, 0xA0, 0x01, 1); // Collection (Application)
    n = vkb_hid_item(d, n, 0x84, VKB_HID_REPORT_ID, 1); // Report ID
    for (int i = 0; i < naxes; i++) {
        n = vkb_hid_item(d, n, 0x04, 0x01, 1);          // Usage Page (Generic Desktop)
        n = vkb_hid_item(d, n, 0x08, axes[i].usage, 1); // Usage
        n = vkb_hid_item(d, n, 0x14, 0, 1);             // Logical Minimum 0
        n = vkb_hid_item(d, n, 0x24, axes[i].max, 2);   // Logical Maximum
        n = vkb_hid_item(d, n, 0x74, 16, 1);            // Report Size 16
        n = vkb_hid_item(d, n, 0x94, 1, 1);             // Report Count 1
        n = vkb_hid_item(d, n, 0x80, 0x02, 1);          // Input (Data,Var,Abs)
    }
    n = vkb_hid_item(d, n, 0x08, 0x39, 1);  // Usage (Hat switch)
    n = vkb_hid_item(d, n, 0x14, 0, 1);     // Logical Minimum 0
    n = vkb_hid_item(d, n, 0x24, 7, 2);     // Logical Maximum 7
    n = vkb_hid_item(d, n, 0x34, 0, 1);     // Physical Minimum 0
    n = vkb_hid_item(d, n, 0x44, 315, 2);   // Physical Maximum 315
    n = vkb_hid_item(d, n, 0x64, 0x14, 1);  // Unit (degrees)
    n = vkb_hid_item(d, n, 0x74, 4, 1);     // Report Size 4
    n = vkb_hid_item(d, n, 0x94, 1, 1);     // Report Count 1
    n = vkb_hid_item(d, n, 0x80, 0x42, 1);  // Input (Data,Var,Abs,Null)
    n = vkb_hid_item(d, n, 0x64, 0, 1);     // Unit (none)
    n = vkb_hid_item(d, n, 0x80, 0x01, 1);  // Input (Const): 4 bits padding, same size/count
    n = vkb_hid_item(d, n, 0x04, 0x09, 1);  // Usage Page (Button)
    n = vkb_hid_item(d, n, 0x18, 1, 1);     // Usage Minimum 1
    n = vkb_hid_item(d, n, 0x28, VKB_HID_BUTTONS, 2); // Usage Maximum 128
    n = vkb_hid_item(d, n, 0x14, 0, 1);     // Logical Minimum 0
    n = vkb_hid_item(d, n, 0x24, 1, 1);     // Logical Maximum 1
    n = vkb_hid_item(d, n, 0x74, 1, 1);     // Report Size 1
    n = vkb_hid_item(d, n, 0x94, VKB_HID_BUTTONS, 2); // Report Count 128
    n = vkb_hid_item(d, n, 0x80, 0x02, 1);  // Input (Data,Var,Abs)
    d[n++] = 0xC0;                          // End Collection
    return n;
}

// The input report for this state; `buttons` holds 128 bits, button 1 in bit 0 of byte 0.
static inline size_t vkb_hid_report(int naxes, const uint16_t *axis, uint8_t hat, const uint8_t *buttons, uint8_t *p) {
    size_t n = 0;
    p[n++] = VKB_HID_REPORT_ID;
    for (int i = 0; i < naxes; i++) {
        p[n++] = axis[i] & 0xff;
        p[n++] = axis[i] >> 8;
    }
    p[n++] = hat & 0x0f;
    memcpy(p + n, buttons, VKB_HID_BUTTONS / 8);
    return n + VKB_HID_BUTTONS / 8;
}

// Where button `number` (1–128) is in a report of `naxes` axes: its byte and bit.
static inline void vkb_hid_button_position(int naxes, int number, size_t *byte, int *bit) {
    *byte = 1 + 2 * (size_t)naxes + 1 + (size_t)(number - 1) / 8;
    *bit = (number - 1) % 8;
}

#endif
