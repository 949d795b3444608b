// The limit: the least a relay can do. Reads input events, keeps one button's state,
// and writes the 8-byte VKBShiftBitmap packet when the shift state changes. Nothing else,
// except what every figure of `make bench` needs from any relay: it notices a closed
// connection on the read side (poll), reconnects every millisecond until the server is
// back, and sends the current state first on each new connection.
//
// usage: relay INPUT PORT CODE     (INPUT: a FIFO of raw struct input_event;
//                                   CODE: the key code that drives shift1, held)
//        relay --hidraw INPUT PORT LENGTH BYTE BIT
//                                  (INPUT: a FIFO of HID input reports of LENGTH bytes
//                                   back to back, as a hidraw node delivers them; bit BIT
//                                   of byte BYTE is the button that drives shift1, held)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int port;

static int connect_server(void) {
    for (;;) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (s < 0) { perror("socket"); exit(1); }
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (connect(s, (struct sockaddr *)&a, sizeof a) == 0) {
            int one = 1;
            setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
            return s;
        }
        close(s);
        struct timespec ms = { 0, 1000000 };
        nanosleep(&ms, NULL);
    }
}

static int send_state(int s, uint8_t shift) {
    uint8_t packet[8] = { 0xA5, 0x0D, 0, 4, shift, 0, 0, 0 };
    return send(s, packet, sizeof packet, MSG_NOSIGNAL) == (ssize_t)sizeof packet ? 0 : -1;
}

/* Reports read so far; a partial report waits for the next read. */
static uint8_t report_buf[4096];
static size_t report_have;

int main(int argc, char **argv) {
    int hidraw = argc == 7 && strcmp(argv[1], "--hidraw") == 0;
    if (argc != 4 && !hidraw) {
        fprintf(stderr, "usage: relay INPUT PORT CODE | relay --hidraw INPUT PORT LENGTH BYTE BIT\n");
        return 2;
    }
    if (hidraw) argv++;
    int in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0) { perror(argv[1]); return 1; }
    port = atoi(argv[2]);
    unsigned code = hidraw ? 0 : (unsigned)strtoul(argv[3], NULL, 0);
    size_t length = hidraw ? strtoul(argv[3], NULL, 0) : 0, byte = hidraw ? strtoul(argv[4], NULL, 0) : 0;
    int bit = hidraw ? atoi(argv[5]) : 0;
    if (hidraw && (length == 0 || length > sizeof report_buf || byte >= length || bit < 0 || bit > 7)) {
        fprintf(stderr, "relay: report LENGTH BYTE BIT out of range\n");
        return 2;
    }
    uint8_t state = 0;
    int s = connect_server();
    send_state(s, state);
    struct input_event ev[64];
    for (;;) {
        struct pollfd p[2] = { { in, POLLIN, 0 }, { s, POLLIN, 0 } };
        if (poll(p, 2, -1) < 0) { if (errno == EINTR) continue; perror("poll"); return 1; }
        int lost = 0;
        if (p[1].revents) {
            char junk[256];
            ssize_t n = recv(s, junk, sizeof junk, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) lost = 1;
        }
        if (p[0].revents && hidraw) {
            ssize_t n = read(in, report_buf + report_have, sizeof report_buf - report_have);
            if (n == 0) return 0;
            if (n < 0) { if (errno == EINTR) continue; perror("read"); return 1; }
            report_have += (size_t)n;
            size_t off = 0;
            for (; report_have - off >= length; off += length) {
                uint8_t next = (report_buf[off + byte] >> bit) & 1;
                if (next == state) continue;
                state = next;
                if (!lost && send_state(s, state) < 0) lost = 1;
            }
            memmove(report_buf, report_buf + off, report_have - off);
            report_have -= off;
        } else if (p[0].revents) {
            ssize_t n = read(in, ev, sizeof ev);
            if (n == 0) return 0;
            if (n < 0) { if (errno == EINTR) continue; perror("read"); return 1; }
            for (size_t i = 0; i < (size_t)n / sizeof ev[0]; i++) {
                if (ev[i].type != EV_KEY || ev[i].code != code || ev[i].value > 1) continue;
                uint8_t next = ev[i].value ? 1 : 0;
                if (next == state) continue;
                state = next;
                if (!lost && send_state(s, state) < 0) lost = 1;
            }
        }
        if (lost) {
            close(s);
            s = connect_server();
            send_state(s, state);
        }
    }
}
