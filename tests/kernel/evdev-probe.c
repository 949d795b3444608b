// evdev-probe: what the guest kernel made of a stick, read straight from /dev/input/eventN
// with plain ioctls and read(2) (no libevdev: this is the independent witness).
//
//   evdev-probe info NODE
//       name="…" phys=… id=bus:vendor:product:version, keys=<count of EV_KEY codes>,
//       key_first/key_last, keycodes=…, abs=<ABS codes>, pressed=<EVIOCGKEY>.
//   evdev-probe watch NODE [--ready FILE] [--keys N] [--timeout MS] [--abs]
//       Prints each event as a line: "SCAN 0x90001", "KEY 0x120 1", "DROPPED", "GONE"
//       (ENODEV: unplugged), and with --abs "ABS 0x00 2047". After SYN_DROPPED it does
//       what the kernel documents (and libevdev does): drop events up to the next
//       SYN_REPORT, read the key state (EVIOCGKEY) and print each difference from the
//       state it tracked as "KEY 0x120 1 sync". Creates FILE once the node
//       is open (so a script knows events sent from then on will be seen). Stops after N
//       EV_KEY events (0 = until GONE) or fails (exit 3) after MS without reaching that.
//       A summary line "END keys=… scans=… abs=… syn=… dropped=…" goes to stderr.
//
// Build: gcc -static -O2 -Wall -Wextra -o evdev-probe evdev-probe.c
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define NBITS(x) ((((x) - 1) / 8) + 1)
#define TEST_BIT(bit, array) ((array[(bit) / 8] >> ((bit) % 8)) & 1)

static int open_node(const char *path) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "evdev-probe: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    return fd;
}

static int info(const char *path) {
    int fd = open_node(path);
    char name[256] = "", phys[256] = "";
    struct input_id id;
    if (ioctl(fd, EVIOCGNAME(sizeof name), name) < 0 || ioctl(fd, EVIOCGID, &id) < 0) {
        perror("evdev-probe: EVIOCGNAME/EVIOCGID");
        return 2;
    }
    ioctl(fd, EVIOCGPHYS(sizeof phys), phys); // may be unset
    printf("name=\"%s\"\nphys=%s\nid=%04x:%04x:%04x:%04x\n", name, phys, id.bustype, id.vendor, id.product,
           id.version);

    // KEY_MAX (0x2ff) is a valid code: loop with <=, unlike evtest (DESIGN §4).
    unsigned char keys[NBITS(KEY_MAX + 1)] = {0}, down[NBITS(KEY_MAX + 1)] = {0};
    unsigned char abs[NBITS(ABS_MAX + 1)] = {0};
    ioctl(fd, EVIOCGBIT(EV_KEY, sizeof keys), keys);
    ioctl(fd, EVIOCGBIT(EV_ABS, sizeof abs), abs);
    ioctl(fd, EVIOCGKEY(sizeof down), down);
    int count = 0, first = -1, last = -1;
    for (int c = 0; c <= KEY_MAX; c++)
        if (TEST_BIT(c, keys)) {
            count++;
            if (first < 0) first = c;
            last = c;
        }
    printf("keys=%d\nkey_first=0x%x\nkey_last=0x%x\nkeycodes=", count, first, last);
    const char *sep = "";
    for (int c = 0; c <= KEY_MAX; c++)
        if (TEST_BIT(c, keys)) {
            printf("%s0x%x", sep, c);
            sep = ",";
        }
    printf("\nabs=");
    sep = "";
    for (int c = 0; c <= ABS_MAX; c++)
        if (TEST_BIT(c, abs)) {
            struct input_absinfo ai;
            ioctl(fd, EVIOCGABS(c), &ai);
            printf("%s0x%02x:%d..%d", sep, c, ai.minimum, ai.maximum);
            sep = ",";
        }
    printf("\npressed=");
    sep = "";
    for (int c = 0; c <= KEY_MAX; c++)
        if (TEST_BIT(c, down)) {
            printf("%s0x%x", sep, c);
            sep = ",";
        }
    printf("\n");
    close(fd);
    return 0;
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int watch(const char *path, int argc, char **argv) {
    const char *ready = NULL;
    long want_keys = 0, timeout_ms = 10000;
    bool show_abs = false;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--ready") == 0 && i + 1 < argc) ready = argv[++i];
        else if (strcmp(argv[i], "--keys") == 0 && i + 1 < argc) want_keys = atol(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout_ms = atol(argv[++i]);
        else if (strcmp(argv[i], "--abs") == 0) show_abs = true;
        else {
            fprintf(stderr, "evdev-probe watch: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open_node(path);
    if (ready) {
        int r = open(ready, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (r >= 0) close(r);
    }
    unsigned char state[NBITS(KEY_MAX + 1)] = {0};
    ioctl(fd, EVIOCGKEY(sizeof state), state);
    long keys = 0, scans = 0, absn = 0, syn = 0, dropped = 0;
    bool gone = false, done = false, dropping = false;
    long long deadline = now_ms() + timeout_ms;
    struct input_event ev[64];
    while (!done && !gone) {
        long long left = deadline - now_ms();
        if (left <= 0) break;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, (int)left) <= 0) continue;
        ssize_t r = read(fd, ev, sizeof ev);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) continue;
            if (errno == ENODEV) {
                printf("GONE\n");
                gone = true;
                break;
            }
            perror("evdev-probe: read");
            return 2;
        }
        if (r == 0) {
            printf("GONE\n");
            gone = true;
            break;
        }
        for (size_t i = 0; i < (size_t)r / sizeof ev[0]; i++) {
            const struct input_event *e = &ev[i];
            if (dropping) {
                if (e->type == EV_SYN && e->code == SYN_REPORT) {
                    dropping = false;
                    unsigned char now[sizeof state] = {0};
                    ioctl(fd, EVIOCGKEY(sizeof now), now);
                    for (int c = 0; c <= KEY_MAX; c++)
                        if (TEST_BIT(c, now) != TEST_BIT(c, state)) {
                            keys++;
                            printf("KEY 0x%x %d sync\n", c, TEST_BIT(c, now));
                        }
                    memcpy(state, now, sizeof state);
                    if (want_keys && keys >= want_keys) done = true;
                }
                continue;
            }
            if (e->type == EV_MSC && e->code == MSC_SCAN) {
                scans++;
                printf("SCAN 0x%x\n", e->value);
            } else if (e->type == EV_KEY) {
                keys++;
                if (e->code <= KEY_MAX) {
                    if (e->value) state[e->code / 8] |= 1u << (e->code % 8);
                    else state[e->code / 8] &= ~(1u << (e->code % 8));
                }
                printf("KEY 0x%x %d\n", e->code, e->value);
            } else if (e->type == EV_ABS) {
                absn++;
                if (show_abs) printf("ABS 0x%02x %d\n", e->code, e->value);
            } else if (e->type == EV_SYN && e->code == SYN_DROPPED) {
                dropped++;
                dropping = true;
                printf("DROPPED\n");
            } else if (e->type == EV_SYN && e->code == SYN_REPORT) {
                syn++;
                if (want_keys && keys >= want_keys) done = true; // stop at a frame end
            }
        }
    }
    fprintf(stderr, "END keys=%ld scans=%ld abs=%ld syn=%ld dropped=%ld\n", keys, scans, absn, syn, dropped);
    close(fd);
    if (want_keys) return keys >= want_keys ? 0 : 3;
    return gone ? 0 : 3;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "info") == 0) return info(argv[2]);
    if (argc >= 3 && strcmp(argv[1], "watch") == 0) return watch(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: evdev-probe info NODE\n"
                    "       evdev-probe watch NODE [--ready FILE] [--keys N] [--timeout MS] [--abs]\n");
    return 2;
}
