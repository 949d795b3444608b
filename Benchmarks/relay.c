// The limit: the least a relay can do. Reads input events, keeps one button's state,
// and writes the 8-byte VKBShiftBitmap packet when the shift state changes. Nothing else,
// except what every figure of `make bench` needs from any relay: it notices a closed
// connection on the read side (poll), reconnects every millisecond until the server is
// back, and sends the current state first on each new connection.
//
// usage: relay INPUT PORT CODE     (INPUT: a FIFO of raw struct input_event;
//                                   CODE: the key code that drives shift1, held)
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

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: relay INPUT PORT CODE\n"); return 2; }
    int in = open(argv[1], O_RDONLY | O_CLOEXEC);
    if (in < 0) { perror(argv[1]); return 1; }
    port = atoi(argv[2]);
    unsigned code = (unsigned)strtoul(argv[3], NULL, 0);
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
        if (p[0].revents) {
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
