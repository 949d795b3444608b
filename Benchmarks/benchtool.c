// The harness's clock, input device and server for `make bench` (driven by bench.py).
//
//   benchtool session NAME:FIFO[:masked|:hidraw] ...
//       Writes raw struct input_event frames into each relay's FIFO (the device) and is
//       the TCP server each relay sends to (one listening port per relay). A masked
//       relay gets what evdev queues for a client that set EVIOCSMASK to EV_KEY only:
//       key events and their SYN_REPORT, and nothing at all for axis-only frames. A
//       hidraw relay gets what a stick's hidraw node delivers instead: one input report
//       per frame (tests/lib/vkb-hid.h), every axis and button in it, HID_BUTTON
//       driving the shift. Prints
//       {"ports": {...}}, then obeys one command per line on stdin, answering one JSON
//       line each:
//         accept                       wait for every relay to connect
//         latency N WARMUP GMIN GMAX OUT
//                                      N timed state changes per unmasked relay, interleaved
//                                      across relays, a random GMIN..GMAX µs pause before
//                                      each; writes OUT.NAME (one latency in ns a line)
//         flood SECONDS HZ AXES BUTTON_MS
//                                      a stick at HZ frames/s with AXES axes moving and a
//                                      button change every BUTTON_MS ms, into every FIFO
//                                      (hidraw relays: one report per frame; latency
//                                      skips them)
//         toggle                       one button change; waits for every relay's packet
//         count                        packets received since the last count
//         quit
//   benchtool descriptor PATH
//       Writes the hidraw relays' report descriptor to PATH and prints
//       {"report_length": N, "byte": B, "bit": b}: where HID_BUTTON is in a report.
//   benchtool serve PORT [close-after-packet] [pause-at N,N...] [feed FIFO]
//       A server for the reconnect and leak figures: prints {"listen_ns": t} right after
//       listen(), then one line per connection with the time its first packet arrived.
//       close-after-packet closes each connection after its first packet; pause-at waits
//       for a line on stdin after those connections (so a relay can be measured while
//       connected); feed writes a button change into FIFO every 2 ms while no relay is
//       connected (a relay that reconnects only on a failed send needs input to do so).
//
// Times are CLOCK_MONOTONIC nanoseconds, taken in this process: right before the write
// into the FIFO and right after the read that returned the packet.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../tests/lib/vkb-hid.h"

#define MAX_LINKS 8
#define BUTTON 20                     /* VKB button 20 = BTN_TRIGGER_HAPPY4 */
#define BUTTON_CODE 0x2c3
#define HID_BUTTON 97                 /* above 80: only hidraw delivers it */
#define HID_AXES 8

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "{\"error\": \"");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\"}\n");
    fflush(stdout);
    va_end(ap);
    exit(1);
}

static void sleep_until(uint64_t t) {
    struct timespec ts = { (time_t)(t / 1000000000u), (long)(t % 1000000000u) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

static void stamp(struct input_event *e, uint64_t t) {
    e->time.tv_sec = (time_t)(t / 1000000000u);
    e->time.tv_usec = (suseconds_t)(t % 1000000000u / 1000);
}

/* What hid-input sends for a button: MSC_SCAN, EV_KEY, SYN_REPORT. */
static size_t key_frame(struct input_event *e, int pressed, uint64_t t) {
    e[0] = (struct input_event){ .type = EV_MSC, .code = MSC_SCAN, .value = 0x90000 + BUTTON };
    e[1] = (struct input_event){ .type = EV_KEY, .code = BUTTON_CODE, .value = pressed };
    e[2] = (struct input_event){ .type = EV_SYN, .code = SYN_REPORT, .value = 0 };
    for (int i = 0; i < 3; i++) stamp(&e[i], t);
    return 3;
}

/* A 1 kHz stick's report with `axes` axes moving, then SYN_REPORT. */
static size_t axis_frame(struct input_event *e, int axes, uint64_t tick, uint64_t t) {
    static const uint16_t codes[] = { ABS_X, ABS_Y, ABS_Z, ABS_RX, ABS_RY, ABS_RZ, ABS_THROTTLE, ABS_RUDDER };
    size_t n = 0;
    for (int a = 0; a < axes && a < 8; a++) {
        int v = (int)((tick * (uint64_t)(a + 3) + (uint64_t)a * 511) % 4096);
        e[n++] = (struct input_event){ .type = EV_ABS, .code = codes[a], .value = v };
    }
    e[n++] = (struct input_event){ .type = EV_SYN, .code = SYN_REPORT, .value = 0 };
    for (size_t i = 0; i < n; i++) stamp(&e[i], t);
    return n;
}

static int listen_on(int port) {
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) die("bind %d: %s", port, strerror(errno));
    if (listen(s, 16) < 0) die("listen: %s", strerror(errno));
    return s;
}

static int port_of(int s) {
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(s, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

/* ---- session ---- */

struct link {
    char name[32];
    int fifo, listener, sock;
    int state;                /* the shift1 bit the relay should hold */
    unsigned char buf[64];
    size_t have;
    long packets, unexpected, dropped_frames;
    int last;                 /* last state received, -1 none */
    int masked;               /* EVIOCSMASK emulation: only EV_KEY and their SYN_REPORT */
    int hidraw;               /* gets input reports instead of events */
};

static struct link links[MAX_LINKS];
static int nlinks;

/* Reads what is there (nonblocking) and decodes whole packets. Returns the number of
 * packets whose state equals `want` (-1: any), the rest count as unexpected when
 * `count_unexpected`. Exits on a closed connection or a malformed packet. */
static int drain(struct link *l, int want, int count_unexpected) {
    int matched = 0;
    for (;;) {
        ssize_t n = recv(l->sock, l->buf + l->have, sizeof l->buf - l->have, MSG_DONTWAIT);
        if (n == 0) die("%s closed the connection", l->name);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return matched;
            die("%s: recv: %s", l->name, strerror(errno));
        }
        l->have += (size_t)n;
        size_t off = 0;
        for (; l->have - off >= 8; off += 8) {
            unsigned char *p = l->buf + off;
            if (p[0] != 0xA5 || p[1] != 0x0D || p[3] != 4) die("%s sent a malformed packet", l->name);
            int s = p[4];
            l->packets++;
            l->last = s;
            if (want < 0 || s == want) matched++;
            else if (count_unexpected) l->unexpected++;
        }
        memmove(l->buf, l->buf + off, l->have - off);
        l->have -= off;
    }
}

/* Waits (at most timeout_ms) until the relay's packet with state `want` arrives;
 * returns the time right after the read that brought it. */
static uint64_t await_state(struct link *l, int want, int timeout_ms, int count_unexpected) {
    uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        if (drain(l, want, count_unexpected) > 0) return now_ns();
        uint64_t t = now_ns();
        if (t >= deadline) die("%s: no packet with state %d within %d ms", l->name, want, timeout_ms);
        struct pollfd p = { l->sock, POLLIN, 0 };
        poll(&p, 1, (int)((deadline - t) / 1000000u) + 1);
    }
}

/* What evdev queues for a client whose event mask lets only EV_KEY through: other types
 * are dropped, and a SYN_REPORT that would close an empty frame is not queued. */
static size_t mask_frame(struct input_event *out, const struct input_event *e, size_t n) {
    size_t k = 0, since_report = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].type == EV_KEY) { out[k++] = e[i]; since_report++; }
        else if (e[i].type == EV_SYN && e[i].code == SYN_REPORT && since_report) { out[k++] = e[i]; since_report = 0; }
    }
    return k;
}

static void write_frame(struct link *l, struct input_event *e, size_t n) {
    struct input_event masked[32];
    if (l->masked) {
        n = mask_frame(masked, e, n);
        if (n == 0) return;
        e = masked;
    }
    ssize_t w = write(l->fifo, e, n * sizeof *e);
    if (w < 0 && errno == EAGAIN) { l->dropped_frames++; return; }  /* the relay fell behind */
    if (w != (ssize_t)(n * sizeof *e)) die("%s: write to FIFO: %s", l->name, strerror(errno));
}

/* The stick's report at `tick` with HID_BUTTON `pressed`, as its hidraw node delivers it. */
static void write_report(struct link *l, uint64_t tick, int pressed) {
    uint16_t axis[HID_AXES];
    for (int a = 0; a < HID_AXES; a++)
        axis[a] = (uint16_t)((tick * (uint64_t)(a + 3) + (uint64_t)a * 511) % (vkb_hid_gladiator_axes[a].max + 1u));
    uint8_t buttons[VKB_HID_BUTTONS / 8] = { 0 };
    if (pressed) buttons[(HID_BUTTON - 1) / 8] |= (uint8_t)(1 << (HID_BUTTON - 1) % 8);
    uint8_t report[VKB_HID_MAX_REPORT];
    size_t n = vkb_hid_report(HID_AXES, axis, 0x0F, buttons, report);
    ssize_t w = write(l->fifo, report, n);
    if (w < 0 && errno == EAGAIN) { l->dropped_frames++; return; }  /* the relay fell behind */
    if (w != (ssize_t)n) die("%s: write to FIFO: %s", l->name, strerror(errno));
}

static uint64_t rng = 0x9E3779B97F4A7C15u;
static uint64_t next_random(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static void cmd_latency(long n, long warmup, long gmin_us, long gmax_us, const char *out) {
    FILE *files[MAX_LINKS] = { 0 };
    int timed[MAX_LINKS], ntimed = 0;
    for (int i = 0; i < nlinks; i++) {
        if (links[i].masked || links[i].hidraw) continue;
        timed[ntimed++] = i;
        char path[540];
        snprintf(path, sizeof path, "%.500s.%.31s", out, links[i].name);
        files[i] = fopen(path, "w");
        if (!files[i]) die("cannot write %s", path);
        links[i].unexpected = 0;
    }
    struct input_event e[3];
    int order[MAX_LINKS];
    for (long round = 0; round < warmup + n; round++) {
        /* Each round probes every unmasked relay once, in a fresh random order. */
        for (int i = 0; i < ntimed; i++) order[i] = timed[i];
        for (int i = ntimed - 1; i > 0; i--) {
            int j = (int)(next_random() % (uint64_t)(i + 1));
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        for (int k = 0; k < ntimed; k++) {
            struct link *l = &links[order[k]];
            uint64_t gap = (uint64_t)gmin_us * 1000u + next_random() % ((uint64_t)(gmax_us - gmin_us + 1) * 1000u);
            sleep_until(now_ns() + gap);
            int want = !l->state;
            key_frame(e, want, now_ns());
            uint64_t t0 = now_ns();
            write_frame(l, e, 3);
            uint64_t t1 = await_state(l, want, 5000, round >= warmup);
            l->state = want;
            if (round >= warmup) fprintf(files[order[k]], "%llu\n", (unsigned long long)(t1 - t0));
        }
    }
    printf("{\"latency\": {");
    for (int k = 0; k < ntimed; k++) {
        int i = timed[k];
        fclose(files[i]);
        printf("%s\"%s\": {\"samples\": %ld, \"unexpected\": %ld, \"dropped\": %ld}", k ? ", " : "",
               links[i].name, n, links[i].unexpected, links[i].dropped_frames);
    }
    printf("}}\n");
}

static void cmd_flood(double seconds, long hz, int axes, long button_ms) {
    struct input_event e[16];
    uint64_t period = 1000000000u / (uint64_t)hz;
    uint64_t frames = (uint64_t)(seconds * (double)hz);
    uint64_t button_every = (uint64_t)button_ms * (uint64_t)hz / 1000u;
    long late = 0, button_changes = 0, events = 0;
    for (int i = 0; i < nlinks; i++) { links[i].dropped_frames = 0; links[i].unexpected = 0; links[i].packets = 0; }
    int pressed = links[0].state;
    uint64_t start = now_ns();
    for (uint64_t tick = 1; tick <= frames; tick++) {
        uint64_t due = start + tick * period;
        sleep_until(due);
        uint64_t t = now_ns();
        if (t > due + period) late++;
        size_t n = axis_frame(e, axes, tick, t);
        int button = button_every && tick % button_every == 0;
        if (button) {
            pressed = !pressed;
            n += key_frame(e + n, pressed, t);
            button_changes++;
        }
        events += (long)n;
        for (int i = 0; i < nlinks; i++) {
            if (links[i].hidraw) write_report(&links[i], tick, pressed);
            else write_frame(&links[i], e, n);
            if (button) links[i].state = pressed;
            drain(&links[i], -1, 0);
        }
    }
    double elapsed = (double)(now_ns() - start) / 1e9;
    printf("{\"flood\": {\"seconds\": %.3f, \"events\": %ld, \"button_changes\": %ld, \"late_frames\": %ld, \"relays\": {",
           elapsed, events, button_changes, late);
    for (int i = 0; i < nlinks; i++) {
        struct link *l = &links[i];
        if (l->last != l->state) await_state(l, l->state, 3000, 0);
        printf("%s\"%s\": {\"packets\": %ld, \"dropped_frames\": %ld, \"final_state\": %d}", i ? ", " : "",
               l->name, l->packets, l->dropped_frames, l->last);
    }
    printf("}}}\n");
}

static void cmd_toggle(void) {
    struct input_event e[3];
    for (int i = 0; i < nlinks; i++) {
        int want = !links[i].state;
        key_frame(e, want, now_ns());
        if (links[i].hidraw) write_report(&links[i], 0, want);
        else write_frame(&links[i], e, 3);
        await_state(&links[i], want, 5000, 0);
        links[i].state = want;
    }
    printf("{\"state\": %d}\n", links[0].state);
}

static void cmd_count(void) {
    printf("{\"packets\": {");
    for (int i = 0; i < nlinks; i++) {
        links[i].packets = 0;
        drain(&links[i], -1, 0);
        printf("%s\"%s\": %ld", i ? ", " : "", links[i].name, links[i].packets);
    }
    printf("}}\n");
}

static int session(int argc, char **argv) {
    for (int i = 0; i < argc && nlinks < MAX_LINKS; i++) {
        struct link *l = &links[nlinks++];
        char *colon = strchr(argv[i], ':');
        if (!colon) die("expected NAME:FIFO, got %s", argv[i]);
        snprintf(l->name, sizeof l->name, "%.*s", (int)(colon - argv[i]), argv[i]);
        char *path = colon + 1;
        size_t len = strlen(path);
        if (len > 7 && strcmp(path + len - 7, ":masked") == 0) {
            path[len - 7] = 0;
            l->masked = 1;
        } else if (len > 7 && strcmp(path + len - 7, ":hidraw") == 0) {
            path[len - 7] = 0;
            l->hidraw = 1;
        }
        /* O_RDWR: the FIFO has a writer from now on, so relays never see end of file. */
        l->fifo = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
        if (l->fifo < 0) die("open %s: %s", path, strerror(errno));
        l->listener = listen_on(0);
        l->sock = -1;
        l->last = -1;
    }
    printf("{\"ports\": {");
    for (int i = 0; i < nlinks; i++) printf("%s\"%s\": %d", i ? ", " : "", links[i].name, port_of(links[i].listener));
    printf("}}\n");
    fflush(stdout);
    char line[1024];
    while (fgets(line, sizeof line, stdin)) {
        char out[512];
        long a, b, c, d;
        double s;
        if (strncmp(line, "accept", 6) == 0) {
            for (int i = 0; i < nlinks; i++) {
                struct pollfd p = { links[i].listener, POLLIN, 0 };
                if (poll(&p, 1, 30000) <= 0) die("%s did not connect within 30 s", links[i].name);
                links[i].sock = accept4(links[i].listener, NULL, NULL, SOCK_CLOEXEC);
                int one = 1;
                setsockopt(links[i].sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            }
            printf("{\"accepted\": %d}\n", nlinks);
        } else if (sscanf(line, "latency %ld %ld %ld %ld %511s", &a, &b, &c, &d, out) == 5) {
            cmd_latency(a, b, c, d, out);
        } else if (sscanf(line, "flood %lf %ld %ld %ld", &s, &a, &b, &c) == 4) {
            cmd_flood(s, a, (int)b, c);
        } else if (strncmp(line, "toggle", 6) == 0) {
            cmd_toggle();
        } else if (strncmp(line, "count", 5) == 0) {
            cmd_count();
        } else if (strncmp(line, "quit", 4) == 0) {
            break;
        } else {
            die("unknown command");
        }
        fflush(stdout);
    }
    return 0;
}

/* ---- serve ---- */

static int serve(int argc, char **argv) {
    if (argc < 1) die("serve PORT [close-after-packet] [pause-at N,N] [feed FIFO]");
    int port = atoi(argv[0]);
    int close_after = 0, feed = -1;
    long pauses[64];
    int npauses = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "close-after-packet") == 0) close_after = 1;
        else if (strcmp(argv[i], "pause-at") == 0 && i + 1 < argc) {
            for (char *t = strtok(argv[++i], ","); t && npauses < 64; t = strtok(NULL, ",")) pauses[npauses++] = atol(t);
        } else if (strcmp(argv[i], "feed") == 0 && i + 1 < argc) {
            feed = open(argv[++i], O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (feed < 0) die("open %s: %s", argv[i], strerror(errno));
        } else die("unknown argument %s", argv[i]);
    }
    int listener = listen_on(port);
    uint64_t listened = now_ns();
    printf("{\"listen_ns\": %llu, \"port\": %d}\n", (unsigned long long)listened, port_of(listener));
    fflush(stdout);
    int pressed = 0;
    for (long conn = 1;; conn++) {
        struct pollfd p = { listener, POLLIN, 0 };
        while (poll(&p, 1, feed >= 0 ? 2 : -1) == 0) {
            struct input_event e[3];
            pressed = !pressed;
            key_frame(e, pressed, now_ns());
            if (write(feed, e, sizeof e) < 0 && errno != EAGAIN) die("feed: %s", strerror(errno));
        }
        int c = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) die("accept: %s", strerror(errno));
        unsigned char buf[8];
        size_t have = 0;
        while (have < 8) {
            ssize_t n = read(c, buf + have, 8 - have);
            if (n <= 0) break;
            have += (size_t)n;
        }
        uint64_t t = now_ns();
        if (have < 8) {
            printf("{\"conn\": %ld, \"closed_before_packet\": true}\n", conn);
            fflush(stdout);
            close(c);
            continue;
        }
        printf("{\"conn\": %ld, \"packet_ns\": %llu, \"since_listen_ns\": %llu, \"state\": %d}\n", conn,
               (unsigned long long)t, (unsigned long long)(t - listened), buf[4]);
        for (int i = 0; i < npauses; i++) {
            if (pauses[i] != conn) continue;
            printf("{\"paused\": %ld}\n", conn);
            fflush(stdout);
            char line[64];
            if (!fgets(line, sizeof line, stdin)) return 0;
        }
        fflush(stdout);
        if (!close_after) {
            char junk[256];
            while (read(c, junk, sizeof junk) > 0) {}
        }
        close(c);
    }
}

/* ---- descriptor ---- */

static int descriptor(const char *path) {
    uint8_t d[512];
    size_t n = vkb_hid_descriptor(vkb_hid_gladiator_axes, HID_AXES, d);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f) != 0) die("cannot write %s", path);
    size_t byte;
    int bit;
    vkb_hid_button_position(HID_AXES, HID_BUTTON, &byte, &bit);
    printf("{\"report_length\": %d, \"byte\": %zu, \"bit\": %d}\n", VKB_HID_MAX_REPORT, byte, bit);
    return 0;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 2 && strcmp(argv[1], "session") == 0) return session(argc - 2, argv + 2);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0) return serve(argc - 2, argv + 2);
    if (argc == 3 && strcmp(argv[1], "descriptor") == 0) return descriptor(argv[2]);
    fprintf(stderr, "usage: benchtool session NAME:FIFO... | serve PORT [options] | descriptor PATH\n");
    return 2;
}
