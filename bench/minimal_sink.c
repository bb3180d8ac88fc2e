/*
 * minimal_sink: the least work an SMTP sink can do on the wire, as a floor
 * for the CPU comparisons in bench/compare.sh.
 *
 * It answers every command line with a canned reply ("354" after DATA, "221"
 * and a close after QUIT, "250" otherwise), skips message bodies up to the
 * "<CRLF>.<CRLF>" that ends them, and does nothing else: no parsing, no
 * envelope, no storage, no timeouts, no limits. Replies to one read go out in
 * one write. One thread, level-triggered epoll, nonblocking sockets.
 *
 * It is not an SMTP server (it accepts anything); it exists to measure how
 * much of a server's CPU per message is the kernel's share of the round
 * trips that smtp-source's lockstep dialogue imposes on every server. No
 * server that replies to each command can spend less than this.
 *
 *   gcc -O2 -o minimal_sink bench/minimal_sink.c
 *   ./minimal_sink 127.0.0.1 PORT
 *
 * Only for loopback benchmarks: it binds the address it is given and
 * refuses anything but 127.0.0.0/8.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FDS 65536
#define LINE_MAX 1024

struct conn {
    int in_data;      /* inside a message body */
    int body_state;   /* how much of "\r\n.\r\n" the body has matched */
    size_t line_len;  /* bytes of a partial command line carried over */
    char line[LINE_MAX];
};

static struct conn *conns[MAX_FDS];

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(conns[fd]);
    conns[fd] = NULL;
}

#define OUT_MAX 65536

/* Appends a reply to this read's batch; a batch that would overflow (a flood
 * of empty lines) is cut short, which only a benchmark floor may do. */
static void add(char *out, size_t *out_len, const char *reply) {
    size_t n = strlen(reply);
    if (*out_len + n <= OUT_MAX) {
        memcpy(out + *out_len, reply, n);
        *out_len += n;
    }
}

/* Returns 1 if the connection must close after the replies are written. */
static int handle(struct conn *c, const char *data, size_t len, char *out, size_t *out_len) {
    static const char end[] = "\r\n.\r\n";
    size_t i = 0;
    while (i < len) {
        if (c->in_data) {
            /* Match "\r\n.\r\n"; the DATA reply's CRLF counts as the first
             * CRLF (body_state starts at 2). Byte by byte only while a match
             * is partly made (at most 4 bytes), then memmem over the rest. */
            while (i < len && c->body_state > 0 && c->body_state < 5) {
                char ch = data[i++];
                if (ch == end[c->body_state]) {
                    c->body_state++;
                } else {
                    c->body_state = (ch == '\r') ? 1 : 0;
                }
            }
            if (c->body_state == 0 && i < len) {
                const char *found = memmem(data + i, len - i, end, 5);
                if (found) {
                    i = (size_t)(found - data) + 5;
                    c->body_state = 5;
                } else {
                    /* Carry the longest tail that starts the terminator. */
                    size_t tail = len - i < 4 ? len - i : 4;
                    for (; tail > 0; tail--) {
                        if (memcmp(data + len - tail, end, tail) == 0) {
                            break;
                        }
                    }
                    c->body_state = (int)tail;
                    i = len;
                }
            }
            if (c->body_state == 5) {
                c->in_data = 0;
                add(out, out_len, "250 2.0.0 ok\r\n");
            }
            continue;
        }
        const char *nl = memchr(data + i, '\n', len - i);
        size_t take = nl ? (size_t)(nl - (data + i)) + 1 : len - i;
        if (c->line_len + take <= LINE_MAX) {
            memcpy(c->line + c->line_len, data + i, take);
            c->line_len += take;
        } else {
            c->line_len = LINE_MAX; /* too long: keep the head only */
        }
        i += take;
        if (!nl) {
            break;
        }
        char *l = c->line;
        if (c->line_len >= 4 && strncasecmp(l, "DATA", 4) == 0) {
            add(out, out_len, "354 go ahead\r\n");
            c->in_data = 1;
            c->body_state = 2;
        } else if (c->line_len >= 4 && strncasecmp(l, "QUIT", 4) == 0) {
            add(out, out_len, "221 bye\r\n");
            c->line_len = 0;
            return 1;
        } else if (c->line_len >= 4 && (strncasecmp(l, "EHLO", 4) == 0 || strncasecmp(l, "HELO", 4) == 0)) {
            add(out, out_len, "250 minimal\r\n");
        } else {
            add(out, out_len, "250 ok\r\n");
        }
        c->line_len = 0;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s 127.0.0.1 PORT\n", argv[0]);
        return 2;
    }
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    if (inet_pton(AF_INET, argv[1], &addr.sin_addr) != 1 || (ntohl(addr.sin_addr.s_addr) >> 24) != 127) {
        fprintf(stderr, "minimal_sink: only a 127.0.0.0/8 address\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1024) != 0) {
        perror("minimal_sink: bind/listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = lfd};
    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    static char in[65536];
    static char out[OUT_MAX];
    struct epoll_event events[256];
    for (;;) {
        int n = epoll_wait(ep, events, 256, -1);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        for (int k = 0; k < n; k++) {
            int fd = events[k].data.fd;
            if (fd == lfd) {
                int cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                if (cfd < 0 || cfd >= MAX_FDS) {
                    if (cfd >= 0) close(cfd);
                    continue;
                }
                conns[cfd] = calloc(1, sizeof(struct conn));
                static const char banner[] = "220 minimal ESMTP\r\n";
                if (write(cfd, banner, sizeof banner - 1) < 0) {
                    close(cfd);
                    free(conns[cfd]);
                    conns[cfd] = NULL;
                    continue;
                }
                struct epoll_event cev = {.events = EPOLLIN, .data.fd = cfd};
                epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &cev);
                continue;
            }
            ssize_t got = read(fd, in, sizeof in);
            if (got <= 0) {
                if (got < 0 && errno == EAGAIN) continue;
                drop(ep, fd);
                continue;
            }
            size_t out_len = 0;
            int quit = handle(conns[fd], in, (size_t)got, out, &out_len);
            /* Replies are short and the socket buffer is empty in lockstep;
             * a short write is not worth handling in a benchmark floor. */
            if (out_len > 0 && write(fd, out, out_len) < 0) {
                quit = 1;
            }
            if (quit) {
                drop(ep, fd);
            }
        }
    }
}
