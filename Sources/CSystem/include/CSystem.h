// Shim exposing the Linux calls that `import Glibc` lacks (epoll, signalfd, eventfd, timerfd)
// and the one it hides (accept4). Deliberately no _GNU_SOURCE: it breaks Foundation-importing tests.
#ifndef VIGIL_CSYSTEM_H
#define VIGIL_CSYSTEM_H
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <signal.h>
#include <errno.h>
#include <sys/random.h>

int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

/// errno as a function: Swift's `errno` accessor works too, but this keeps Posix.swift simple.
static inline int vigil_errno(void) { return errno; }
static inline void vigil_set_errno(int e) { errno = e; }
#endif
