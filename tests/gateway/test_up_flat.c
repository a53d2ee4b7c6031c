/*
 * test_up_flat.c: an upstream answer read where fast_readcb read it
 * (upstream.c up_read_flat: bytes that arrive while the connection's input
 * is empty never go through an evbuffer chain; issue 17) against the same
 * answer put through the input first (tg__up_flat_reads(0): the reference,
 * the code path every answer took before). Over real sockets (fast reads
 * need one), a fake upstream sends answers whole or in pieces (each piece
 * read on its own): Content-Length, chunked, close-delimited, 1xx before
 * the answer, bytes past the answer, a head cut anywhere, a head over the
 * limit, garbage, 101, 204, bad chunk framing, Connection: close, a body
 * over one read. What the request's callbacks see (head, status, fields,
 * body bytes, the end's fault and message) and whether the connection went
 * back to the pool must be the same, byte for byte, both ways.
 */
#include "tg_test.h"

#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/upstream.h"
#include "loopback_pool.h"

typedef struct rec {
    struct evbuffer *log;
    struct evbuffer *body; /* all of it (how reads cut it is the sockets' timing, not the code's) */
    int done;
} rec;

static void r_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen) {
    rec *r = ud;
    evbuffer_add_printf(r->log, "head %d [%.*s] cl=%lld chunked=%d ka=%d\n", h->status, (int)rlen, reason,
                        (long long)h->content_length, h->chunked, h->keep_alive);
    for (size_t i = 0; i < h->n_headers; i++)
        evbuffer_add_printf(r->log, "  %.*s: %.*s\n", (int)h->headers[i].name_len, h->headers[i].name,
                            (int)h->headers[i].value_len, h->headers[i].value);
}

static void r_body(void *ud, const char *p, size_t n) {
    rec *r = ud;
    evbuffer_add(r->body, p, n);
}

static void r_done(void *ud, int fault, const char *msg) {
    rec *r = ud;
    size_t n = evbuffer_get_length(r->body);
    const unsigned char *b = evbuffer_pullup(r->body, -1);
    unsigned long long h = 1469598103934665603ull; /* FNV-1a of a long body */
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ull;
    if (n > 64) evbuffer_add_printf(r->log, "body %zu bytes, fnv %016llx\n", n, h);
    else evbuffer_add_printf(r->log, "body %zu:%.*s\n", n, (int)n, (const char *)b);
    evbuffer_add_printf(r->log, "done %d %s\n", fault, msg ? msg : "-");
    r->done = 1;
}

static const tg__upreq_ops ops = {r_head, r_body, r_done};

typedef struct scenario {
    const char *piece[4]; /* sent one by one, each read on its own */
    size_t max_head;
    int close_after;      /* the upstream closes after the last piece */
    int big;              /* a 100000-byte Content-Length body in one piece */
} scenario;

static const scenario scenarios[] = {
    {{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nContent-Le", "ngth: 5\r\n\r\nhel", "lo"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", "lo\r\n3\r\nabc\r\n0\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"}, 8192, 0, 0},
    {{"HTTP/1.1 2", "00 Fine\r\nContent-Length: 0\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "ab", "cd"}, 8192, 0, 0},
    {{"HTTP/1.1 204 No Content\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx"}, 8192, 1, 0},
    {{"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"}, 8192, 0, 1},
    {{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\nX-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"}, 64, 0, 0},
    {{"XYZ garbage, not HTTP\r\n\r\n"}, 8192, 0, 0},
    {{"HTTP/1.1 200 OK\r\n\r\nsome body", " and more"}, 8192, 1, 0},
    {{"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"}, 8192, 0, 0},
};

static void spin(struct event_base *base, int rounds) {
    for (int i = 0; i < rounds; i++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        usleep(100);
    }
}

/* One request and the scenario's answer; what the callbacks saw, and the pool's idle count, into `out`. */
static void exchange_gap(struct event_base *base, tg__pool *p, int lfd, int *fd, const scenario *sc,
                         struct evbuffer *out, int gap) {
    static const char req[] = "GET /x HTTP/1.1\r\nHost: u\r\n\r\n";
    tg__up_timeouts t = {5, 5, 5, 0, 0};
    rec r = {evbuffer_new(), evbuffer_new(), 0};
    TG_CHECK(tg__upreq_start(p, req, sizeof req - 1, 0, &t, sc->max_head, &ops, &r) != NULL);
    size_t got = 0;
    for (int round = 0; round < 20000 && got < sizeof req - 1; round++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (*fd < 0) *fd = accept(lfd, NULL, NULL);
        if (*fd < 0) continue;
        char buf[4096];
        ssize_t n;
        while ((n = recv(*fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) got += (size_t)n;
    }
    TG_CHECK_EQ_U(got, sizeof req - 1);
    for (int i = 0; i < 4 && sc->piece[i]; i++) {
        size_t n = strlen(sc->piece[i]);
        TG_CHECK(send(*fd, sc->piece[i], n, MSG_NOSIGNAL) == (ssize_t)n);
        spin(base, i < 3 && sc->piece[i + 1] ? gap : 30); /* read before the next piece comes */
    }
    if (sc->big) {
        static char body[100000];
        memset(body, 'b', sizeof body);
        size_t off = 0;
        for (int round = 0; round < 20000 && off < sizeof body; round++) {
            ssize_t n = send(*fd, body + off, sizeof body - off, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0) off += (size_t)n;
            event_base_loop(base, EVLOOP_NONBLOCK);
        }
    }
    if (sc->close_after) {
        close(*fd);
        *fd = -1;
    }
    for (int round = 0; round < 20000 && !r.done; round++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (round > 100) usleep(100);
    }
    TG_CHECK(r.done);
    if (!r.done) evbuffer_add_printf(r.log, "(not done)\n");
    spin(base, 5);
    evbuffer_add_printf(r.log, "idle %zu\n", p->n_idle);
    if (p->n_idle == 0 && *fd >= 0) { /* closed on tokgate's side: the next request connects again */
        close(*fd);
        *fd = -1;
    }
    evbuffer_add_buffer(out, r.log);
    evbuffer_free(r.log);
    evbuffer_free(r.body);
}

static void exchange(struct event_base *base, tg__pool *p, int lfd, int *fd, const scenario *sc, struct evbuffer *out) {
    exchange_gap(base, p, lfd, fd, sc, out, 30);
}

/* Every scenario in turn (pooled connections carried over as they go), with flat reads on or off. */
static struct evbuffer *run_all(int flat) {
    tg__up_flat_reads(flat);
    int lfd;
    tg__pools pools;
    tg__pool *p = loopback_pool(&pools, &lfd);
    struct event_base *base = pools.base;
    struct evbuffer *out = evbuffer_new();
    int fd = -1;
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        evbuffer_add_printf(out, "== scenario %zu\n", i);
        exchange(base, p, lfd, &fd, &scenarios[i], out);
    }
    if (fd >= 0) close(fd);
    spin(base, 5);
    tg__pool_free_all(&pools);
    event_base_free(base);
    close(lfd);
    tg__up_flat_reads(1);
    return out;
}

static int has(const char *a, size_t n, const char *s) {
    size_t k = strlen(s);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(a + i, s, k)) return 1;
    return 0;
}

static void test_flat_equals_input(void) {
    struct evbuffer *ref = run_all(0), *flat = run_all(1);
    size_t rl = evbuffer_get_length(ref), fl = evbuffer_get_length(flat);
    const char *a = (const char *)evbuffer_pullup(ref, -1), *b = (const char *)evbuffer_pullup(flat, -1);
    int same = rl == fl && !memcmp(a, b, rl);
    if (!same) fprintf(stderr, "--- through the input:\n%.*s--- flat:\n%.*s", (int)rl, a, (int)fl, b);
    TG_CHECK(same);
    /* the transcript is not empty talk: every scenario ended, the good ones with their bytes */
    TG_CHECK(rl > 1000);
    TG_CHECK(has(a, rl, "body 5:hello\n"));
    TG_CHECK(has(a, rl, "malformed upstream status line"));
    TG_CHECK(has(a, rl, "body 100000 bytes"));
    TG_CHECK(!has(a, rl, "(not done)"));
    evbuffer_free(ref);
    evbuffer_free(flat);
}

/* A pooled connection's idle timer stays armed while the connection is
 * busy again (upstream.c idle_tn): firing then must leave it alone; idle,
 * it is closed once its time has passed since its last answer. */
static void test_idle_timer_busy_and_idle(void) {
    tg__pool_idle_seconds(1.0);
    int lfd;
    tg__pools pools;
    tg__pool *p = loopback_pool(&pools, &lfd);
    struct event_base *base = pools.base;
    struct evbuffer *out = evbuffer_new();
    int fd = -1;
    static const scenario quick = {{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"}, 8192, 0, 0};
    /* the second answer comes in pieces over 1.5 s or more: busy past the first idle deadline */
    static const scenario slow = {{"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", "a", "b", "cd"}, 8192, 0, 0};
    exchange(base, p, lfd, &fd, &quick, out);
    TG_CHECK_EQ_U(p->n_idle, 1);
    int first = fd;
    exchange_gap(base, p, lfd, &fd, &slow, out, 5000); /* 0.5 s or more a piece */
    TG_CHECK_EQ_I(fd, first); /* the same connection, never closed while busy */
    TG_CHECK_EQ_U(p->n_idle, 1);
    spin(base, 1500); /* 0.15 s or more (well under 1 s on a loaded machine): idle, under its time */
    TG_CHECK_EQ_U(p->n_idle, 1);
    for (int i = 0; i < 100 && p->n_idle; i++) spin(base, 500);
    TG_CHECK_EQ_U(p->n_idle, 0); /* closed once idle past its time */
    size_t n = evbuffer_get_length(out);
    const char *t = (const char *)evbuffer_pullup(out, -1);
    TG_CHECK(has(t, n, "body 2:ok\ndone 0 -\nidle 1\n"));
    TG_CHECK(has(t, n, "body 4:abcd\ndone 0 -\nidle 1\n"));
    if (fd >= 0) close(fd);
    evbuffer_free(out);
    tg__pool_free_all(&pools);
    event_base_free(base);
    close(lfd);
    tg__pool_idle_seconds(0);
}

int main(void) {
    TG_RUN(test_flat_equals_input);
    TG_RUN(test_idle_timer_busy_and_idle);
    return tg_test_summary();
}
