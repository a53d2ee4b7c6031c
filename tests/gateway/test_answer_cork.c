/*
 * test_answer_cork.c: an answer sent from the client's own buffer in one
 * send (client.c: corked, on a socket) is, byte for byte, the answer the
 * bufferevent's output writes (the same code on a bufferevent pair, which
 * has no socket and is never corked). Issue 17's fast path against the slow
 * one, over every way an answer is made: tg__client_respond (small, with
 * extra headers, to HEAD, to HTTP/1.0, closing), a relayed answer begun,
 * fed and ended inside the read callback (Content-Length, chunked,
 * close-delimited), one ended later from another callback (the cork
 * spilled into the output at the read callback's end), one over the cork's
 * size, and two pipelined requests. The requests carry X-Request-Id, so the
 * answers are the same on both sides.
 *
 * The other direction: a request to an upstream goes out on a fresh
 * connection through the bufferevent's output (the connect), and on the
 * pooled connection after it in one sendmsg (upstream.c send_direct), or
 * partly so when the socket takes less (a request larger than the socket's
 * buffer: the rest through the output). The upstream must receive the
 * same bytes each time.
 */
#include "tg_test.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/client.h"
#include "server_fixture.h"
#include "loopback_pool.h"

static char big[100000]; /* over client.c's CORK_MAX */

static void relay_head(tg__client *c, int64_t cl) {
    struct evbuffer *h = evbuffer_new();
    evbuffer_add_printf(h, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Up: 1\r\n");
    tg__client_begin(c, 200, h, cl, 0);
    evbuffer_free(h);
}

static void later_cb(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__client *c = arg;
    tg__client_body(c, "world", 5);
    tg__client_end(c, 1);
}

/* The route: the request's path picks how it is answered. */
static void dispatch(tg__client *c) {
    const tg__http_head *r = &c->req;
    char path[64];
    snprintf(path, sizeof path, "%.*s", (int)(r->target_len < 63 ? r->target_len : 63), r->target);
    if (!strcmp(path, "/respond")) {
        tg__client_respond(c, 200, "application/json", "{\"ok\":true}", 11, NULL);
    } else if (!strcmp(path, "/extra")) {
        tg__client_respond(c, 429, "application/json", "{\"error\":{\"code\":\"x\"}}", 22, "Retry-After: 1\r\n");
    } else if (!strcmp(path, "/echo")) { /* the request body back (client.c body_append) */
        size_t bl = evbuffer_get_length(c->body);
        tg__client_respond(c, 200, "text/plain", bl ? (const char *)evbuffer_pullup(c->body, -1) : "", bl, NULL);
    } else if (!strcmp(path, "/big")) {
        tg__client_respond(c, 200, "text/plain", big, sizeof big, NULL);
    } else if (!strcmp(path, "/cl")) {
        relay_head(c, 10);
        tg__client_body(c, "hello", 5);
        tg__client_body(c, "world", 5);
        tg__client_end(c, 1);
    } else if (!strcmp(path, "/chunked")) {
        relay_head(c, -1);
        tg__client_body(c, "data: 1\n\n", 9);
        tg__client_body(c, "data: 2\n\n", 9);
        tg__client_end(c, 1);
    } else if (!strcmp(path, "/grow")) { /* past the cork's size mid-answer */
        relay_head(c, -1);
        for (int i = 0; i < 8; i++) tg__client_body(c, big, 16384);
        tg__client_end(c, 1);
    } else if (!strcmp(path, "/later")) { /* ends from another callback: the cork is spilled first */
        relay_head(c, 10);
        tg__client_body(c, "hello", 5);
        struct timeval zero = {0, 0};
        event_base_once(c->srv->base, -1, EV_TIMEOUT, later_cb, c, &zero);
    } else if (!strcmp(path, "/cut")) {
        relay_head(c, 10);
        tg__client_body(c, "hel", 3);
        tg__client_end(c, 0);
    } else {
        tg__client_respond(c, 404, "text/plain", "no", 2, NULL);
    }
}

static void drained(tg__exchange *ex) { (void)ex; }
static int active(const tg__exchange *ex) { (void)ex; return 0; }
static void ex_free(tg__exchange *ex, int gone) { (void)ex; (void)gone; }
static const tg__client_hooks hooks = {dispatch, drained, active, ex_free, NULL};

static void turn(tg__server *s) {
    for (int i = 0; i < 16; i++) event_base_loop(s->base, EVLOOP_NONBLOCK);
}

/* The bytes a client gets for REQ: over a socket pair (corked) or a
 * bufferevent pair (never corked). */
static struct evbuffer *answer(const char *req, int socket_side) {
    static const char *const args[] = {"--upstream", "http://127.0.0.1:1", "--quiet", "--access-log", "off", NULL};
    tg__server s;
    struct evbuffer *got = evbuffer_new();
    if (fx_server(&s, args) != 0) return got;
    s.base = event_base_new();
    s.pools.base = s.base;
    s.client_hooks = &hooks;
    s.max_conns = 16;
    if (socket_side) {
        int sv[2];
        TG_CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
        evutil_make_socket_nonblocking(sv[0]);
        evutil_make_socket_nonblocking(sv[1]);
        struct bufferevent *bev = bufferevent_socket_new(s.base, sv[0], BEV_OPT_CLOSE_ON_FREE);
        tg__client *c = tg__client_attach(&s, bev, "test");
        TG_CHECK(c != NULL);
        TG_CHECK(write(sv[1], req, strlen(req)) == (ssize_t)strlen(req));
        for (int round = 0; round < 64; round++) {
            turn(&s);
            char b[65536];
            ssize_t n;
            while ((n = read(sv[1], b, sizeof b)) > 0) evbuffer_add(got, b, (size_t)n);
        }
        close(sv[1]);
        turn(&s);
        while (s.clients) tg__client_free(s.clients);
    } else {
        struct bufferevent *pair[2];
        TG_CHECK(bufferevent_pair_new(s.base, 0, pair) == 0);
        bufferevent_enable(pair[1], EV_READ | EV_WRITE);
        tg__client *c = tg__client_attach(&s, pair[0], "test");
        TG_CHECK(c != NULL);
        bufferevent_write(pair[1], req, strlen(req));
        for (int round = 0; round < 64; round++) {
            turn(&s);
            evbuffer_add_buffer(got, bufferevent_get_input(pair[1]));
        }
        while (s.clients) tg__client_free(s.clients);
        bufferevent_free(pair[1]);
    }
    turn(&s);
    fx_free(&s);
    event_base_free(s.base);
    return got;
}

#define H "Host: a\r\nX-Request-Id: test-1\r\n"

static void test_same_bytes(void) {
    static const char *const reqs[] = {
        "GET /respond HTTP/1.1\r\n" H "\r\n",
        "GET /extra HTTP/1.1\r\n" H "\r\n",
        "HEAD /respond HTTP/1.1\r\n" H "\r\n",
        "GET /respond HTTP/1.0\r\n" H "Connection: keep-alive\r\n\r\n",
        "GET /respond HTTP/1.1\r\n" H "Connection: close\r\n\r\n",
        "GET /big HTTP/1.1\r\n" H "\r\n",
        "GET /cl HTTP/1.1\r\n" H "\r\n",
        "GET /chunked HTTP/1.1\r\n" H "\r\n",
        "GET /chunked HTTP/1.0\r\n" H "\r\n", /* close-delimited */
        "GET /grow HTTP/1.1\r\n" H "\r\n",
        "GET /later HTTP/1.1\r\n" H "\r\n",
        "GET /cut HTTP/1.1\r\n" H "\r\n",
        "GET /cl HTTP/1.1\r\n" H "\r\nGET /respond HTTP/1.1\r\n" H "\r\n", /* pipelined */
        "GET /later HTTP/1.1\r\n" H "\r\nGET /chunked HTTP/1.1\r\n" H "\r\n",
        "GET /nope HTTP/1.1\r\n" H "\r\n",
        "POST /echo HTTP/1.1\r\n" H "Content-Length: 12\r\n\r\nhello, world", /* the body all the input */
        "POST /echo HTTP/1.1\r\n" H "Content-Length: 12\r\n\r\nhello, world"
        "POST /echo HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\nagain", /* a body, then the next request */
        "BREW /respond HTTP/1.1\r\n" H "\r\n", /* refused (an unknown method): 501, then linger */
    };
    for (size_t i = 0; i < sizeof big; i++) big[i] = (char)('a' + i % 26);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct evbuffer *fast = answer(reqs[i], 1), *slow = answer(reqs[i], 0);
        size_t fl = evbuffer_get_length(fast), sl = evbuffer_get_length(slow);
        int same = fl == sl && fl > 0 && !memcmp(evbuffer_pullup(fast, -1), evbuffer_pullup(slow, -1), fl);
        if (!same)
            fprintf(stderr, "request %zu: %zu bytes corked, %zu through the output:\n%.*s\n----\n%.*s\n", i, fl, sl,
                    (int)(fl < 600 ? fl : 600), (const char *)evbuffer_pullup(fast, -1), (int)(sl < 600 ? sl : 600),
                    (const char *)evbuffer_pullup(slow, -1));
        TG_CHECK(same);
        if (strstr(reqs[i], "/echo")) /* the body came back */
            TG_CHECK(fl && evbuffer_search(fast, "\r\n\r\nhello, world", 16, NULL).pos >= 0);
        if (strstr(reqs[i], "again")) TG_CHECK(evbuffer_search(fast, "\r\n\r\nagain", 9, NULL).pos >= 0);
        evbuffer_free(fast);
        evbuffer_free(slow);
    }
}

/* ---- upstream side ---------------------------------------------------- */

typedef struct upt {
    int done, fault, status;
} upt;
static void up_head(void *ud, const tg__http_head *h, const char *reason, size_t rl) {
    (void)reason;
    (void)rl;
    ((upt *)ud)->status = h->status;
}
static void up_body(void *ud, const char *p, size_t n) {
    (void)ud;
    (void)p;
    (void)n;
}
static void up_done(void *ud, int fault, const char *msg) {
    (void)msg;
    ((upt *)ud)->done = 1;
    ((upt *)ud)->fault = fault;
}
static const tg__upreq_ops up_ops = {up_head, up_body, up_done};

/* One request of `len` bytes (three pieces: a multi-piece send) through the
 * pool; what the upstream's socket *fd (accepted on lfd when -1) received. */
static struct evbuffer *up_exchange(struct event_base *base, tg__pool *p, int lfd, int *fd, const char *req,
                                    size_t len) {
    struct evbuffer *b = evbuffer_new(), *got = evbuffer_new();
    size_t a = len / 3, c = 2 * len / 3;
    evbuffer_add_reference(b, req, a, NULL, NULL);
    evbuffer_add_reference(b, req + a, c - a, NULL, NULL);
    evbuffer_add_reference(b, req + c, len - c, NULL, NULL);
    tg__up_timeouts t = {5, 5, 5, 0, 0};
    upt u = {0, 0, 0};
    TG_CHECK(tg__upreq_start_buf(p, b, 0, 0, &t, 8192, &up_ops, &u) != NULL);
    for (int round = 0; round < 200000 && evbuffer_get_length(got) < len; round++) {
        event_base_loop(base, EVLOOP_NONBLOCK);
        if (*fd < 0) *fd = accept(lfd, NULL, NULL);
        if (*fd < 0) continue;
        char buf[65536];
        ssize_t n;
        while ((n = recv(*fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) evbuffer_add(got, buf, (size_t)n);
    }
    static const char ans[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    if (*fd >= 0) TG_CHECK(send(*fd, ans, sizeof ans - 1, 0) == (ssize_t)(sizeof ans - 1));
    for (int round = 0; round < 100000 && !u.done; round++) event_base_loop(base, EVLOOP_NONBLOCK);
    TG_CHECK(u.done && u.fault == 0 && u.status == 200);
    return got;
}

static void test_upstream_same_bytes(void) {
    int lfd;
    tg__pools pools;
    tg__pool *p = loopback_pool(&pools, &lfd);
    struct event_base *base = pools.base;
    size_t sizes[] = {120, 8u << 20}; /* small; larger than the socket takes at once */
    for (size_t k = 0; k < 2; k++) {
        size_t len = sizes[k];
        char *req = malloc(len);
        for (size_t i = 0; i < len; i++) req[i] = (char)('a' + (i * 7 + k) % 26);
        int fd = -1;
        for (int round = 0; round < 3; round++) { /* the first connects (the output), the rest are pooled */
            struct evbuffer *got = up_exchange(base, p, lfd, &fd, req, len);
            size_t gl = evbuffer_get_length(got);
            int same = gl == len && !memcmp(evbuffer_pullup(got, -1), req, len);
            if (!same) fprintf(stderr, "size %zu round %d: the upstream got %zu bytes\n", len, round, gl);
            TG_CHECK(same);
            TG_CHECK_EQ_U(p->n_idle, 1); /* the same connection each time, back in the pool */
            evbuffer_free(got);
        }
        if (fd >= 0) close(fd);
        for (int round = 0; round < 100 && p->n_idle; round++) event_base_loop(base, EVLOOP_NONBLOCK);
        free(req);
    }
    tg__pool_free_all(&pools);
    event_base_free(base);
    close(lfd);
}

int main(void) {
    TG_RUN(test_same_bytes);
    TG_RUN(test_upstream_same_bytes);
    return tg_test_summary();
}
