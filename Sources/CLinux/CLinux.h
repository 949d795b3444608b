#ifndef CLINUX_H
#define CLINUX_H

// Linux interfaces that Swift's Glibc module does not export: the event loop's epoll set,
// timerfd, signalfd and eventfd, and SIOCOUTQ (a socket's unacknowledged bytes).
// Headers only; nothing here is compiled.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <linux/sockios.h>

#endif
