// uhid-stick: VKB-like joysticks made by the guest kernel's own HID stack.
//
// Each stick is a /dev/uhid device (UHID_CREATE2 with a HID report descriptor modelled
// on real VKB sticks, DESIGN §4), so hid-generic/hid-input build the evdev node exactly
// as for a USB stick. The program reads commands from stdin, one per line, and answers
// each with one line on stdout: "ok <command> ..." or "err <command>: <why>". A shell
// script drives it through a FIFO and reads the answers from another one, so sticks
// stay alive while the script runs other programs. See `uhid-stick -h`.
//
// Build: gcc -static -O2 -Wall -Wextra -o uhid-stick uhid-stick.c
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <linux/uhid.h>
#include <stddef.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../lib/vkb-hid.h"

#define MAX_STICKS 8
#define MAX_AXES VKB_HID_MAX_AXES
#define NBUTTONS VKB_HID_BUTTONS
#define REPORT_ID VKB_HID_REPORT_ID

struct model {
    const char *name;
    uint16_t product;
    const char *product_name; // kernel name: manufacturer, space, product (untrimmed)
    int naxes;
    const struct vkb_hid_axis *axes;
};

static const struct vkb_hid_axis gunfighter_axes[6] = {
    {"x", 0x30, 4095}, {"y", 0x31, 4095}, {"rx", 0x33, 4095}, {"ry", 0x34, 4095},
    {"z", 0x32, 2047}, {"slider", 0x36, 2047},
};

// DESIGN §4 (the Gladiator's axes are in tests/lib/vkb-hid.h).
static const struct model models[] = {
    {
        .name = "gladiator",
        .product = 0x0200,
        .product_name = "VKB-Sim \xC2\xA9 Alex Oz 2021  VKBsim Gladiator EVO  R  ",
        .naxes = 8,
        .axes = vkb_hid_gladiator_axes,
    },
    {
        .name = "gunfighter",
        .product = 0x0127,
        .product_name = "VKB-Sim (C) Alex Oz 2023  VKBSim Space Gunfighter L  ",
        .naxes = 6,
        .axes = gunfighter_axes,
    },
};
#define NMODELS (int)(sizeof(models) / sizeof(models[0]))

struct stick {
    bool used;
    char id[32];
    int fd;
    const struct model *model;
    char phys[64];
    bool started; // UHID_START seen
    int opens;    // UHID_OPEN minus UHID_CLOSE
    uint16_t axis[MAX_AXES];
    uint8_t hat; // 0..7, or 0x0F = centred (out of range → null state)
    uint8_t buttons[NBUTTONS / 8];
};

static struct stick sticks[MAX_STICKS];

static void reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_until_ns(int64_t t) {
    struct timespec ts = {.tv_sec = t / 1000000000LL, .tv_nsec = t % 1000000000LL};
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {
    }
}

static struct stick *find_stick(const char *id) {
    for (int i = 0; i < MAX_STICKS; i++)
        if (sticks[i].used && strcmp(sticks[i].id, id) == 0) return &sticks[i];
    return NULL;
}

// The stick's input report as it stands: report ID, axes, hat, 128 button bits.
static size_t build_report(const struct stick *s, uint8_t *p) {
    return vkb_hid_report(s->model->naxes, s->axis, s->hat, s->buttons, p);
}

static int send_report(struct stick *s) {
    struct uhid_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = UHID_INPUT2;
    size_t n = build_report(s, ev.u.input2.data);
    ev.u.input2.size = n;
    size_t len = offsetof(struct uhid_event, u.input2.data) + n;
    if (write(s->fd, &ev, len) != (ssize_t)len) return -errno;
    return 0;
}

// Answers the kernel's requests so it never waits for a timeout; tracks START/OPEN/CLOSE.
static void drain_events(struct stick *s) {
    struct uhid_event ev;
    for (;;) {
        ssize_t r = read(s->fd, &ev, sizeof ev);
        if (r <= 0) return;
        switch (ev.type) {
        case UHID_START: s->started = true; break;
        case UHID_OPEN: s->opens++; break;
        case UHID_CLOSE: s->opens--; break;
        case UHID_GET_REPORT: {
            // HIDIOCGINPUT on the hidraw node: the current input report, as a stick answers
            // GET_REPORT; anything else is refused.
            struct uhid_event a;
            memset(&a, 0, sizeof a);
            a.type = UHID_GET_REPORT_REPLY;
            a.u.get_report_reply.id = ev.u.get_report.id;
            if (ev.u.get_report.rtype == UHID_INPUT_REPORT && ev.u.get_report.rnum == REPORT_ID) {
                a.u.get_report_reply.size = build_report(s, a.u.get_report_reply.data);
                a.u.get_report_reply.err = 0;
            } else {
                a.u.get_report_reply.err = EIO;
            }
            if (write(s->fd, &a, sizeof a) < 0) perror("uhid-stick: get_report reply");
            break;
        }
        case UHID_SET_REPORT: {
            struct uhid_event a;
            memset(&a, 0, sizeof a);
            a.type = UHID_SET_REPORT_REPLY;
            a.u.set_report_reply.id = ev.u.set_report.id;
            a.u.set_report_reply.err = EIO;
            if (write(s->fd, &a, sizeof a) < 0) perror("uhid-stick: set_report reply");
            break;
        }
        default: break;
        }
    }
}

static void drain_all(void) {
    for (int i = 0; i < MAX_STICKS; i++)
        if (sticks[i].used) drain_events(&sticks[i]);
}

// Waits up to timeout_ms for a stick condition, answering kernel requests meanwhile.
static bool wait_for(struct stick *s, bool (*cond)(struct stick *), int timeout_ms) {
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000LL;
    for (;;) {
        drain_events(s);
        if (cond(s)) return true;
        int64_t left = deadline - now_ns();
        if (left <= 0) return false;
        struct pollfd p = {.fd = s->fd, .events = POLLIN};
        poll(&p, 1, (int)(left / 1000000LL) + 1);
    }
}

static bool is_started(struct stick *s) { return s->started; }
static bool is_open(struct stick *s) { return s->opens > 0; }

static int read_line(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    if (!fgets(buf, (int)size, f)) buf[0] = 0;
    fclose(f);
    buf[strcspn(buf, "\n")] = 0;
    return 0;
}

// Finds the evdev (and joydev) node of the input device whose phys is ours, once complete.
static bool find_nodes(struct stick *s, char *out, size_t size) {
    DIR *d = opendir("/sys/class/input");
    if (!d) return false;
    struct dirent *e;
    bool found = false;
    while (!found && (e = readdir(d))) {
        if (strncmp(e->d_name, "input", 5) != 0) continue;
        char path[512], phys[128];
        snprintf(path, sizeof path, "/sys/class/input/%s/phys", e->d_name);
        if (read_line(path, phys, sizeof phys) != 0 || strcmp(phys, s->phys) != 0) continue;
        snprintf(path, sizeof path, "/sys/class/input/%s", e->d_name);
        DIR *in = opendir(path);
        if (!in) continue;
        char event[300] = "", js[300] = "";
        struct dirent *c;
        while ((c = readdir(in))) {
            if (strncmp(c->d_name, "event", 5) == 0) snprintf(event, sizeof event, "/dev/input/%s", c->d_name);
            if (strncmp(c->d_name, "js", 2) == 0) snprintf(js, sizeof js, "/dev/input/%s", c->d_name);
        }
        closedir(in);
        // The handlers attach one after another: with joydev loaded, wait for its node too.
        bool want_js = access("/sys/module/joydev", F_OK) == 0;
        if (event[0] && access(event, F_OK) == 0 && (!want_js || (js[0] && access(js, F_OK) == 0))) {
            snprintf(out, size, "%.280s input=%.250s%s%.280s", event, e->d_name, js[0] ? " js=" : "", js);
            found = true;
        }
    }
    closedir(d);
    return found;
}

static int parse_button(const char *w) {
    char *end;
    long n = strtol(w, &end, 10);
    if (*end || n < 1 || n > NBUTTONS) return -1;
    return (int)n;
}

static void set_button(struct stick *s, int n, bool down) {
    uint8_t bit = 1u << ((n - 1) % 8);
    if (down) s->buttons[(n - 1) / 8] |= bit;
    else s->buttons[(n - 1) / 8] &= ~bit;
}

static const char *opt(char **w, int nw, const char *key) {
    size_t k = strlen(key);
    for (int i = 0; i < nw; i++)
        if (strncmp(w[i], key, k) == 0 && w[i][k] == '=') return w[i] + k + 1;
    return NULL;
}

static void cmd_create(char **w, int nw) {
    if (nw < 3) return reply("err create: usage: create ID MODEL [phys=P] [name=N]");
    if (find_stick(w[1])) return reply("err create: stick %s exists", w[1]);
    const struct model *m = NULL;
    for (int i = 0; i < NMODELS; i++)
        if (strcmp(models[i].name, w[2]) == 0) m = &models[i];
    if (!m) return reply("err create: unknown model %s (gladiator, gunfighter)", w[2]);
    struct stick *s = NULL;
    for (int i = 0; i < MAX_STICKS && !s; i++)
        if (!sticks[i].used) s = &sticks[i];
    if (!s) return reply("err create: more than %d sticks", MAX_STICKS);

    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "%s", w[1]);
    s->model = m;
    const char *phys = opt(w, nw, "phys");
    if (phys) snprintf(s->phys, sizeof s->phys, "%s", phys);
    else snprintf(s->phys, sizeof s->phys, "usb-uhid-stick-%s/input0", s->id);
    const char *name = opt(w, nw, "name"); // spaces cannot be given here; default is the real one
    for (int i = 0; i < m->naxes; i++) s->axis[i] = (m->axes[i].max + 1) / 2;
    s->hat = 0x0f;

    s->fd = open("/dev/uhid", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (s->fd < 0) return reply("err create: /dev/uhid: %s", strerror(errno));
    struct uhid_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = UHID_CREATE2;
    snprintf((char *)ev.u.create2.name, sizeof ev.u.create2.name, "%s", name ? name : m->product_name);
    snprintf((char *)ev.u.create2.phys, sizeof ev.u.create2.phys, "%s", s->phys);
    ev.u.create2.rd_size = vkb_hid_descriptor(m->axes, m->naxes, ev.u.create2.rd_data);
    ev.u.create2.bus = BUS_USB;
    ev.u.create2.vendor = 0x231d;
    ev.u.create2.product = m->product;
    ev.u.create2.version = 0x0100;
    if (write(s->fd, &ev, sizeof ev) != sizeof ev) {
        int e = errno;
        close(s->fd);
        return reply("err create: UHID_CREATE2: %s", strerror(e));
    }
    s->used = true;
    if (!wait_for(s, is_started, 5000)) return reply("err create: no UHID_START within 5 s");
    // A real stick reports its state right away; this also sets the kernel's axis values.
    int r = send_report(s);
    if (r < 0) return reply("err create: first report: %s", strerror(-r));
    reply("ok create %s %s 231d:%04x phys=%s", s->id, m->name, m->product, s->phys);
}

static void cmd_destroy(struct stick *s) {
    struct uhid_event ev;
    memset(&ev, 0, sizeof ev);
    ev.type = UHID_DESTROY;
    int e = write(s->fd, &ev, sizeof ev) < 0 ? errno : 0;
    close(s->fd);
    s->used = false;
    if (e) return reply("err destroy: %s", strerror(e));
    reply("ok destroy %s", s->id);
}

static void cmd_buttons(struct stick *s, char **w, int nw, bool down) {
    for (int i = 2; i < nw; i++) {
        int n = parse_button(w[i]);
        if (n < 0) return reply("err %s: bad button %s (1..%d)", w[0], w[i], NBUTTONS);
        set_button(s, n, down);
    }
    int r = send_report(s);
    if (r < 0) return reply("err %s: %s", w[0], strerror(-r));
    reply("ok %s %s", w[0], s->id);
}

static void cmd_axis(struct stick *s, char **w, int nw) {
    if (nw != 4) return reply("err axis: usage: axis ID NAME VALUE");
    for (int i = 0; i < s->model->naxes; i++) {
        if (strcmp(s->model->axes[i].name, w[2]) != 0) continue;
        long v = strtol(w[3], NULL, 10);
        if (v < 0 || v > s->model->axes[i].max) return reply("err axis: %s out of 0..%d", w[3], s->model->axes[i].max);
        s->axis[i] = (uint16_t)v;
        int r = send_report(s);
        if (r < 0) return reply("err axis: %s", strerror(-r));
        return reply("ok axis %s %s %ld", s->id, w[2], v);
    }
    reply("err axis: model %s has no axis %s", s->model->name, w[2]);
}

static void cmd_hat(struct stick *s, char **w, int nw) {
    if (nw != 3) return reply("err hat: usage: hat ID 0..7|c");
    if (strcmp(w[2], "c") == 0) s->hat = 0x0f;
    else {
        long v = strtol(w[2], NULL, 10);
        if (v < 0 || v > 7) return reply("err hat: %s out of 0..7", w[2]);
        s->hat = (uint8_t)v;
    }
    int r = send_report(s);
    if (r < 0) return reply("err hat: %s", strerror(-r));
    reply("ok hat %s %s", s->id, w[2]);
}

// Axis reports at `hz` for `seconds`, every axis moving by large steps (beyond the
// kernel's fuzz). With toggle=B1,B2,… every=K, every K-th report flips the next button of
// the cycle press B1, release B1, press B2, … so a reader can check order and count.
static void cmd_flood(struct stick *s, char **w, int nw) {
    if (nw < 4) return reply("err flood: usage: flood ID SECONDS HZ [toggle=B1,B2,...] [every=K]");
    double seconds = strtod(w[2], NULL);
    long hz = strtol(w[3], NULL, 10);
    if (seconds <= 0 || hz <= 0 || hz > 10000) return reply("err flood: bad SECONDS or HZ");
    int cycle[NBUTTONS], ncycle = 0;
    const char *t = opt(w, nw, "toggle");
    if (t) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s", t);
        for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
            int n = parse_button(p);
            if (n < 0 || ncycle == NBUTTONS) return reply("err flood: bad toggle list %s", t);
            cycle[ncycle++] = n;
        }
    }
    const char *ev = opt(w, nw, "every");
    long every = ev ? strtol(ev, NULL, 10) : 100;
    if (every < 1) return reply("err flood: every must be >= 1");

    long total = (long)(seconds * hz + 0.5);
    int64_t period = 1000000000LL / hz, start = now_ns(), next = start, max_lag = 0;
    long toggles = 0, late = 0;
    int step = 0; // position in press/release cycle: step/2 = button index, step%2 = release
    for (long i = 0; i < total; i++) {
        sleep_until_ns(next);
        int64_t lag = now_ns() - next;
        if (lag > max_lag) max_lag = lag;
        if (lag > period) late++;
        for (int a = 0; a < s->model->naxes; a++) {
            uint32_t range = s->model->axes[a].max + 1u;
            s->axis[a] = (uint16_t)(((uint32_t)i * 97u + (uint32_t)a * 389u) % range);
        }
        if (ncycle && (i + 1) % every == 0) {
            set_button(s, cycle[(step / 2) % ncycle], step % 2 == 0);
            step = (step + 1) % (2 * ncycle);
            toggles++;
        }
        int r = send_report(s);
        if (r < 0) return reply("err flood: report %ld: %s", i, strerror(-r));
        drain_events(s);
        next += period;
    }
    int64_t elapsed = now_ns() - start;
    reply("ok flood %s reports=%ld toggles=%ld elapsed_ms=%lld late=%ld max_lag_us=%lld", s->id, total, toggles,
          (long long)(elapsed / 1000000), late, (long long)(max_lag / 1000));
}

static void cmd_node(struct stick *s, char **w, int nw) {
    int timeout_ms = nw > 2 ? atoi(w[2]) : 5000;
    int64_t deadline = now_ns() + (int64_t)timeout_ms * 1000000LL;
    char nodes[1024];
    while (!find_nodes(s, nodes, sizeof nodes)) {
        if (now_ns() > deadline) return reply("err node: no evdev node with phys %s after %d ms", s->phys, timeout_ms);
        drain_events(s);
        usleep(10000);
    }
    reply("ok node %s %s", s->id, nodes);
}

static void cmd_wait_open(struct stick *s, char **w, int nw) {
    int timeout_ms = nw > 2 ? atoi(w[2]) : 5000;
    if (!wait_for(s, is_open, timeout_ms)) return reply("err wait-open: %s not opened within %d ms", s->id, timeout_ms);
    reply("ok wait-open %s", s->id);
}

static void usage(void) {
    puts("usage: uhid-stick   (commands on stdin, one answer line per command on stdout)\n"
         "  create ID MODEL [phys=P] [name=N]   MODEL: gladiator (231d:0200, 8 axes) | gunfighter (231d:0127, 6 axes)\n"
         "                                      every model: 4-bit hat, 128 buttons, report id 1\n"
         "  node ID [TIMEOUT_MS]                answers: ok node ID /dev/input/eventN input=inputM [js=/dev/input/jsK]\n"
         "  press ID N...  | release ID N...    set/clear buttons 1..128 and send one report\n"
         "  axis ID NAME VALUE | hat ID 0..7|c  move an axis (x y z rx ry rz slider dial) or the hat\n"
         "  send ID                             resend the current state\n"
         "  flood ID SECONDS HZ [toggle=B1,B2,..] [every=K]\n"
         "                                      axis reports at HZ; every K-th report flips the next button\n"
         "                                      of the cycle press B1, release B1, press B2, ...\n"
         "  wait-open ID [TIMEOUT_MS]           wait until some reader has the stick's input device open\n"
         "  destroy ID                          UHID_DESTROY (unplug)\n"
         "  sleep MS | echo TEXT | quit");
}

// stdin is read with read(2), not stdio: a stdio buffer could hold a whole line that
// poll(2) no longer reports, and the script would wait for an answer forever.
static char inbuf[8192];
static size_t inlen;

static bool take_line(char *line, size_t size) {
    char *nl = memchr(inbuf, '\n', inlen);
    if (!nl) return false;
    size_t n = (size_t)(nl - inbuf) + 1;
    size_t copy = n < size ? n : size - 1;
    memcpy(line, inbuf, copy);
    line[copy] = 0;
    memmove(inbuf, inbuf + n, inlen - n);
    inlen -= n;
    return true;
}

int main(int argc, char **argv) {
    if (argc > 1) {
        usage();
        return strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ? 0 : 2;
    }
    char line[1024];
    bool eof = false;
    for (;;) {
        if (!take_line(line, sizeof line)) {
            if (eof) break;
            // Wait for a command, answering the kernel meanwhile.
            struct pollfd p[MAX_STICKS + 1];
            int np = 0;
            p[np++] = (struct pollfd){.fd = 0, .events = POLLIN};
            for (int i = 0; i < MAX_STICKS; i++)
                if (sticks[i].used) p[np++] = (struct pollfd){.fd = sticks[i].fd, .events = POLLIN};
            if (poll(p, np, -1) < 0 && errno != EINTR) return 1;
            drain_all();
            if (!(p[0].revents & (POLLIN | POLLHUP))) continue;
            if (inlen == sizeof inbuf) inlen = 0; // an absurd line: drop it
            ssize_t r = read(0, inbuf + inlen, sizeof inbuf - inlen);
            if (r <= 0) {
                eof = true;
                if (inlen && inlen < sizeof inbuf) inbuf[inlen++] = '\n'; // last line without newline
            } else inlen += (size_t)r;
            continue;
        }

        char *w[32];
        int nw = 0;
        for (char *save = NULL, *t = strtok_r(line, " \t\r\n", &save); t && nw < 32; t = strtok_r(NULL, " \t\r\n", &save))
            w[nw++] = t;
        if (nw == 0 || w[0][0] == '#') continue;
        const char *c = w[0];
        if (strcmp(c, "quit") == 0) break;
        if (strcmp(c, "echo") == 0) {
            printf("ok echo");
            for (int i = 1; i < nw; i++) printf(" %s", w[i]);
            reply("");
            continue;
        }
        if (strcmp(c, "sleep") == 0) {
            int64_t until = now_ns() + (nw > 1 ? atoll(w[1]) : 0) * 1000000LL;
            while (now_ns() < until) {
                drain_all();
                usleep(1000);
            }
            reply("ok sleep");
            continue;
        }
        if (strcmp(c, "create") == 0) {
            cmd_create(w, nw);
            continue;
        }
        struct stick *s = nw > 1 ? find_stick(w[1]) : NULL;
        if (!s) {
            reply("err %s: no stick %s", c, nw > 1 ? w[1] : "(missing ID)");
            continue;
        }
        if (strcmp(c, "destroy") == 0) cmd_destroy(s);
        else if (strcmp(c, "press") == 0) cmd_buttons(s, w, nw, true);
        else if (strcmp(c, "release") == 0) cmd_buttons(s, w, nw, false);
        else if (strcmp(c, "axis") == 0) cmd_axis(s, w, nw);
        else if (strcmp(c, "hat") == 0) cmd_hat(s, w, nw);
        else if (strcmp(c, "send") == 0) {
            int r = send_report(s);
            if (r < 0) reply("err send: %s", strerror(-r));
            else reply("ok send %s", s->id);
        } else if (strcmp(c, "flood") == 0) cmd_flood(s, w, nw);
        else if (strcmp(c, "node") == 0) cmd_node(s, w, nw);
        else if (strcmp(c, "wait-open") == 0) cmd_wait_open(s, w, nw);
        else reply("err %s: unknown command", c);
    }
    for (int i = 0; i < MAX_STICKS; i++)
        if (sticks[i].used) cmd_destroy(&sticks[i]);
    return 0;
}
