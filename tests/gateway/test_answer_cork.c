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
 */
#include "tg_test.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gateway/client.h"
#include "server_fixture.h"

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
        evbuffer_free(fast);
        evbuffer_free(slow);
    }
}

int main(void) {
    TG_RUN(test_same_bytes);
    return tg_test_summary();
}
