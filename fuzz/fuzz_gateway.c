/*
 * fuzz_gateway.c: libFuzzer target for the daemon's connection and upstream
 * state machines (src/gateway/client.c, upstream.c, with the real router
 * and exchange behind them: routes.c, proxy.c), bytes in from both sides
 * and no sockets. The client connection is one end of a libevent
 * bufferevent pair (tg__client_attach); every upstream connection the pool
 * opens is another pair (tg__pools.open_conn); the driver holds the other
 * ends and turns the loop by hand (EVLOOP_NONBLOCK) between its steps.
 *
 * Input: one byte of settings (client write piece size), then steps of
 * <op> <len> <len bytes>:
 *   op%8 0: the client sends a well-formed request made from the bytes
 *           (method, path, body framing, keep-alive, stream chosen by the
 *           first byte; the rest is the content);
 *        1: the client sends raw bytes (the client stream is then "dirty":
 *           only the no-crash, no-leak invariants hold for it);
 *        2, 7: the upstream that last received a request answers with a
 *           well-formed response (status, framing, 100 Continue, content
 *           type from the first byte; body the rest; tagged X-Fz-Seq: k);
 *           7 writes it in two pieces with the loop turned between;
 *        3: the upstream writes raw bytes (that connection is dirty);
 *        4: the upstream closes that connection;
 *        5: the client closes;
 *        6: the loop turns (timers are never reached).
 * At the end every upstream connection still open is closed (repeatedly,
 * so that a re-sent request is ended too) and the loop settles.
 * Invariants, beyond "no crash, no leak, no use after free":
 *   - on a clean client stream, the client's bytes parse as one HTTP
 *     response per request, in order (100 Continue aside), framed as
 *     announced; nothing follows a response that said Connection: close;
 *   - when the connection is still open at the end, every request got its
 *     response, each was counted once in metrics, the connection is back in
 *     HEAD with no exchange;
 *   - a relayed answer (X-Fz-Seq: k, from a clean upstream connection, to a
 *     pass-through GET or POST) carries exactly the body the upstream sent
 *     for k (a prefix only when it is the last bytes and was cut), and the
 *     k of relayed answers increase (relayed in order).
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/gateway/server_fixture.h"
#include "gateway/client.h"
#include "gateway/metrics.h"
#include "gateway/proxy.h"
#include "gateway/routes.h"

#define MAX_UP 12
#define MAX_REQ 64
#define MAX_CANNED 64

static void must(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

typedef struct fz {
    tg__server s;
    struct bufferevent *cli;           /* the driver's end of the client pair */
    int cli_closed, cli_dirty;
    struct bufferevent *up[MAX_UP];    /* the driver's ends, in the order opened */
    int up_dirty[MAX_UP];
    size_t n_up;
    int cur;                           /* the upstream connection that last got a request */
    char req_method[MAX_REQ];          /* 'G', 'P', 'H' per request sent, in order */
    int req_pass[MAX_REQ];             /* a pass-through path */
    int n_req;
    char *canned[MAX_CANNED];          /* bodies of the well-formed answers */
    size_t canned_len[MAX_CANNED];
    int canned_clean[MAX_CANNED];
    int n_canned;
    struct evbuffer *got;              /* everything the client received */
    size_t piece;
} fz;

static struct bufferevent *open_conn(void *ud) {
    fz *f = ud;
    if (f->n_up == MAX_UP) return NULL; /* an allocation failure, as far as the pool can tell */
    struct bufferevent *pair[2];
    if (bufferevent_pair_new(f->s.base, BEV_OPT_DEFER_CALLBACKS, pair) != 0) return NULL;
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    f->up[f->n_up++] = pair[1];
    return pair[0];
}

static int up_live(fz *f, size_t i) { return f->up[i] && bufferevent_pair_get_partner(f->up[i]) != NULL; }

/* Turns the loop until the deferred callbacks have run their course; then
 * notes which upstream connection got request bytes and collects the
 * client's bytes. */
static void settle(fz *f) {
    for (int i = 0; i < 24; i++) event_base_loop(f->s.base, EVLOOP_NONBLOCK);
    for (size_t i = 0; i < f->n_up; i++) {
        if (!f->up[i]) continue;
        struct evbuffer *in = bufferevent_get_input(f->up[i]);
        if (evbuffer_get_length(in)) {
            evbuffer_drain(in, evbuffer_get_length(in));
            f->cur = (int)i;
        }
    }
    evbuffer_add_buffer(f->got, bufferevent_get_input(f->cli));
}

static void cli_send(fz *f, const char *p, size_t n) {
    if (f->cli_closed) return;
    while (n) {
        size_t t = f->piece && f->piece < n ? f->piece : n;
        bufferevent_write(f->cli, p, t);
        settle(f);
        p += t;
        n -= t;
    }
}

static void json_escape(struct evbuffer *b, const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if ((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || p[i] == ' ')
            evbuffer_add(b, p + i, 1);
        else evbuffer_add_printf(b, "\\u%04x", p[i]);
    }
}

/* op 0: a well-formed request from sel and the content bytes. */
static void cli_request(fz *f, const uint8_t *d, size_t n) {
    static const char *const paths[] = {"/props", "/v1/chat/completions", "/healthz", "/v1/models",
                                        "/slots?x=1", "/v1/completions", "/metrics", "/"};
    static const int pass[] = {1, 0, 0, 0, 1, 0, 0, 1};
    if (n == 0 || f->cli_closed || f->n_req == MAX_REQ) return;
    uint8_t sel = d[0];
    const char *method = (sel & 3) == 0 ? "GET" : (sel & 3) == 2 ? "HEAD" : "POST";
    int pi = (sel >> 2) & 7;
    struct evbuffer *body = evbuffer_new(), *req = evbuffer_new();
    if (method[0] == 'P') {
        if (pi == 1 || pi == 5) {
            evbuffer_add_printf(body, "{\"%s\":", pi == 1 ? "messages" : "prompt");
            if (pi == 1) evbuffer_add_printf(body, "[{\"role\":\"user\",\"content\":\"");
            else evbuffer_add_printf(body, "\"");
            json_escape(body, d + 1, n - 1);
            evbuffer_add_printf(body, "\"%s,\"max_tokens\":%d,\"stream\":%s}", pi == 1 ? "}]" : "",
                                1 + (int)(n & 15), (sel & 0x80) ? "true" : "false");
        } else evbuffer_add(body, d + 1, n - 1);
    }
    evbuffer_add_printf(req, "%s %s HTTP/1.1\r\nHost: fuzz\r\n%s", method, paths[pi],
                        (sel & 0x40) ? "Connection: close\r\n" : "");
    size_t blen = evbuffer_get_length(body);
    if (method[0] == 'P' && (sel & 0x20)) {
        evbuffer_add_printf(req, "Transfer-Encoding: chunked\r\n\r\n");
        if (blen) evbuffer_add_printf(req, "%zx\r\n", blen);
        evbuffer_add_buffer(req, body);
        evbuffer_add_printf(req, "%s0\r\n\r\n", blen ? "\r\n" : "");
    } else {
        if (method[0] == 'P') evbuffer_add_printf(req, "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
        evbuffer_add(req, "\r\n", 2);
        evbuffer_add_buffer(req, body);
    }
    f->req_method[f->n_req] = method[0];
    f->req_pass[f->n_req] = pass[pi];
    f->n_req++;
    size_t len = evbuffer_get_length(req);
    cli_send(f, (const char *)evbuffer_pullup(req, -1), len);
    evbuffer_free(body);
    evbuffer_free(req);
}

/* op 2 and 7: a well-formed answer on the current upstream connection. */
static void up_answer(fz *f, const uint8_t *d, size_t n, int split) {
    static const int statuses[] = {200, 200, 404, 500, 503, 200, 201, 204};
    if (n == 0 || f->cur < 0 || !up_live(f, (size_t)f->cur) || f->n_canned == MAX_CANNED) return;
    struct bufferevent *u = f->up[f->cur];
    uint8_t sel = d[0];
    int status = statuses[sel & 7], framing = (sel >> 3) & 3;
    const uint8_t *b = d + 1;
    size_t bn = status == 204 ? 0 : n - 1;
    int k = f->n_canned++;
    f->canned[k] = malloc(bn ? bn : 1);
    memcpy(f->canned[k], b, bn);
    f->canned_len[k] = bn;
    f->canned_clean[k] = !f->up_dirty[f->cur];
    struct evbuffer *a = evbuffer_new();
    if (sel & 0x80) evbuffer_add_printf(a, "HTTP/1.1 100 Continue\r\n\r\n");
    evbuffer_add_printf(a, "HTTP/1.1 %d X\r\nContent-Type: %s\r\nX-Fz-Seq: %d\r\n", status,
                        (sel & 0x20) ? "text/event-stream" : "application/json", k);
    if (status == 204) evbuffer_add(a, "\r\n", 2);
    else if (framing == 1) {
        evbuffer_add_printf(a, "Transfer-Encoding: chunked\r\n\r\n");
        size_t step = bn / 3 + 1;
        for (size_t i = 0; i < bn; i += step) {
            size_t t = bn - i < step ? bn - i : step;
            evbuffer_add_printf(a, "%zx\r\n", t);
            evbuffer_add(a, b + i, t);
            evbuffer_add(a, "\r\n", 2);
        }
        evbuffer_add_printf(a, "0\r\n\r\n");
    } else if (framing == 2) {
        evbuffer_add_printf(a, "Connection: close\r\n\r\n");
        evbuffer_add(a, b, bn);
    } else {
        evbuffer_add_printf(a, "Content-Length: %zu\r\n%s\r\n", bn, framing == 3 ? "Connection: close\r\n" : "");
        evbuffer_add(a, b, bn);
    }
    size_t len = evbuffer_get_length(a), first = split ? len / 2 : len;
    const char *p = (const char *)evbuffer_pullup(a, -1);
    bufferevent_write(u, p, first);
    settle(f);
    if (first < len && up_live(f, (size_t)f->cur)) {
        bufferevent_write(u, p + first, len - first);
        settle(f);
    }
    evbuffer_free(a);
    if (framing == 2 && f->cur >= 0 && f->up[f->cur]) {
        bufferevent_flush(f->up[f->cur], EV_WRITE, BEV_FINISHED);
        settle(f);
    }
}

static void up_close(fz *f, size_t i) {
    if (!f->up[i]) return;
    if (up_live(f, i)) bufferevent_flush(f->up[i], EV_WRITE, BEV_FINISHED);
    bufferevent_free(f->up[i]);
    f->up[i] = NULL;
}

static uint64_t counted(const tg__server *s) {
    uint64_t t = 0;
    for (int r = 0; r < TG__R_COUNT; r++)
        for (int st = 0; st < 600; st++) t += s->metrics.status_codes[r][st];
    return t;
}

typedef struct parsed {
    int n_resp;
    int truncated; /* the last response was cut */
    int last_seq;
} parsed;

/* One response body from p[0..n) per the head; returns bytes used, sets
 * *cut when the body is incomplete. The decoded body goes to out. */
static size_t body_of(const tg__http_head *h, int no_body, const char *p, size_t n, struct evbuffer *out, int *cut) {
    *cut = 0;
    if (no_body) return 0;
    if (h->chunked) {
        tg__chunked ck;
        tg__chunked_init(&ck);
        size_t pos = 0;
        for (;;) {
            size_t used = 0, ol = 0;
            const char *o = NULL, *msg = NULL;
            int rc = tg__chunked_feed(&ck, p + pos, n - pos, &used, &o, &ol, &msg);
            must(rc != TG__CHUNK_ERROR, "chunked framing of a response to the client");
            if (rc == TG__CHUNK_DATA) evbuffer_add(out, o, ol);
            pos += used;
            if (rc == TG__CHUNK_DONE) return pos;
            if (rc == TG__CHUNK_MORE || pos >= n) {
                *cut = 1;
                return n;
            }
        }
    }
    if (h->content_length >= 0) {
        size_t want = (size_t)h->content_length;
        if (want > n) {
            *cut = 1;
            want = n;
        }
        evbuffer_add(out, p, want);
        return want;
    }
    evbuffer_add(out, p, n); /* close-delimited: the rest */
    return n;
}

/* The relayed-answer check for one response (see the header). */
static void check_relayed(fz *f, const tg__http_head *h, int req, struct evbuffer *body, int cut, parsed *r) {
    const tg__http_header *sq = tg__http_find(h, "x-fz-seq");
    if (!sq) return;
    int k = atoi(sq->value);
    must(k >= 0 && k < f->n_canned, "X-Fz-Seq names an answer the upstream sent");
    must(k > r->last_seq, "relayed answers come in order");
    r->last_seq = k;
    if (!f->canned_clean[k] || !f->req_pass[req] || f->req_method[req] == 'H') return;
    size_t n = evbuffer_get_length(body);
    const char *b = (const char *)evbuffer_pullup(body, -1);
    /* An event stream the upstream ended by closing inside an event (or,
     * on an OpenAI route, before data: [DONE]) gets tokgate's error event
     * after the relayed bytes (sse_end.h): the bytes must still be there. */
    const tg__http_header *ct = tg__http_find(h, "content-type");
    if (!cut && n > f->canned_len[k] && ct && ct->value_len >= 17 && !memcmp(ct->value, "text/event-stream", 17)) {
        size_t tail = n - f->canned_len[k];
        const char *t = b + f->canned_len[k];
        static const char reset[] = "\"code\":\"reset\"";
        int has_reset = 0;
        for (size_t i = 0; i + sizeof reset - 1 <= tail; i++)
            if (!memcmp(t + i, reset, sizeof reset - 1)) has_reset = 1;
        must(has_reset, "only tokgate's reset event follows a relayed event stream");
        n = f->canned_len[k];
    }
    must(cut ? n <= f->canned_len[k] : n == f->canned_len[k], "relayed body length");
    must(n == 0 || !memcmp(b, f->canned[k], n), "relayed body bytes, in order");
}

static void parse_client(fz *f, parsed *r) {
    size_t n = evbuffer_get_length(f->got);
    const char *p = (const char *)evbuffer_pullup(f->got, -1);
    size_t pos = 0;
    tg__http_header hdrs[64];
    r->last_seq = -1;
    while (pos < n && r->n_resp < f->n_req) {
        size_t end = tg__http_find_head_end(p + pos, n - pos, 0);
        if (!end) {
            r->truncated = 1;
            return;
        }
        tg__http_head h;
        memset(&h, 0, sizeof h);
        h.headers = hdrs;
        tg__http_limits lim = {1u << 20, 1u << 20, 64};
        tg__http_error e;
        must(tg__http_parse_response(p + pos, end, &lim, &h, &e) == 0, "a response head the client can parse");
        pos += end;
        if (h.status == 100) continue;
        int req = r->n_resp++;
        int no_body = f->req_method[req] == 'H' || h.status == 204 || h.status == 304;
        struct evbuffer *body = evbuffer_new();
        int cut;
        pos += body_of(&h, no_body, p + pos, n - pos, body, &cut);
        check_relayed(f, &h, req, body, cut, r);
        evbuffer_free(body);
        if (cut) {
            must(pos == n, "a cut response is the last bytes");
            r->truncated = 1;
            return;
        }
        if (!h.keep_alive) must(pos == n, "nothing after Connection: close");
    }
    must(pos == n, "no response beyond one per request");
}

static void run_steps(fz *f, const uint8_t *d, size_t n) {
    size_t i = 0;
    while (i + 1 < n) {
        uint8_t op = d[i] & 7;
        size_t len = d[i + 1];
        i += 2;
        if (len > n - i) len = n - i;
        const uint8_t *p = d + i;
        i += len;
        switch (op) {
        case 0: cli_request(f, p, len); break;
        case 1:
            f->cli_dirty = 1;
            cli_send(f, (const char *)p, len);
            break;
        case 2: up_answer(f, p, len, 0); break;
        case 7: up_answer(f, p, len, 1); break;
        case 3:
            if (f->cur >= 0 && up_live(f, (size_t)f->cur)) {
                f->up_dirty[f->cur] = 1;
                bufferevent_write(f->up[f->cur], p, len);
            }
            settle(f);
            break;
        case 4:
            if (f->cur >= 0) up_close(f, (size_t)f->cur);
            settle(f);
            break;
        case 5:
            if (!f->cli_closed) bufferevent_flush(f->cli, EV_WRITE, BEV_FINISHED);
            f->cli_closed = 1;
            settle(f);
            break;
        default: settle(f); break;
        }
    }
}

static const tg__client_hooks hooks = {.dispatch = tg__route_dispatch,
                                       .exchange_drained = tg__exchange_on_client_drain,
                                       .exchange_active = tg__exchange_active,
                                       .exchange_free = tg__exchange_free,
                                       .conn_changed = NULL};

static int setup(fz *f) {
    static const char *const args[] = {"--upstream", "http://127.0.0.1:9", "--workers", "0", NULL};
    if (fx_server(&f->s, args) != 0) return -1;
    fx_upinfo(&f->s, "llama.cpp", "[{\"id\":\"tiny.gguf\"}]", 2048, 4);
    f->s.base = event_base_new();
    f->s.pools.base = f->s.base;
    f->s.pools.open_conn = open_conn;
    f->s.pools.open_ud = f;
    f->s.client_hooks = &hooks;
    tg_error err;
    if (tg__models_rebuild(&f->s, &err) != TG_OK) return -1;
    f->got = evbuffer_new();
    f->cur = -1;
    struct bufferevent *pair[2];
    bufferevent_pair_new(f->s.base, BEV_OPT_DEFER_CALLBACKS, pair);
    bufferevent_enable(pair[1], EV_READ | EV_WRITE);
    f->cli = pair[1];
    return tg__client_attach(&f->s, pair[0], "fuzz") ? 0 : -1;
}

static void teardown(fz *f) {
    while (f->s.clients) {
        tg__client *c = f->s.clients;
        c->in_process = 0;
        tg__client_free(c);
    }
    for (size_t i = 0; i < f->n_up; i++) up_close(f, i);
    bufferevent_free(f->cli);
    for (int k = 0; k < f->n_canned; k++) free(f->canned[k]);
    evbuffer_free(f->got);
    tg__pool_free_all(&f->s.pools);
    for (int i = 0; i < 4; i++) event_base_loop(f->s.base, EVLOOP_NONBLOCK);
    struct event_base *base = f->s.base;
    fx_free(&f->s);
    event_base_free(base);
}

static void check_end(fz *f) {
    /* End every upstream exchange: close what is open until nothing reopens. */
    for (int round = 0; round < MAX_REQ + 4; round++) {
        int open = 0;
        for (size_t i = 0; i < f->n_up; i++) open += f->up[i] != NULL;
        if (!open && round > 0) break;
        for (size_t i = 0; i < f->n_up; i++) up_close(f, i);
        settle(f);
    }
    if (f->cli_dirty || f->cli_closed) return;
    parsed r;
    memset(&r, 0, sizeof r);
    parse_client(f, &r);
    if (getenv("FZ_DEBUG")) {
        fprintf(stderr, "fz: %d requests, %d responses, %d relayed seq, %s, counted %llu, open %zu\n", f->n_req,
                r.n_resp, r.last_seq, r.truncated ? "cut" : "whole", (unsigned long long)counted(&f->s),
                f->s.n_clients);
        if (f->s.n_clients) fprintf(stderr, "fz: state %d ex %p\n", f->s.clients->state, (void *)f->s.clients->ex);
        fwrite(evbuffer_pullup(f->got, -1), 1, evbuffer_get_length(f->got), stderr);
    }
    if (f->s.n_clients == 1) {
        tg__client *c = f->s.clients;
        must(!r.truncated, "a response cut while the connection stays open");
        must(r.n_resp == f->n_req, "every request on an open connection answered");
        must(counted(&f->s) == (uint64_t)r.n_resp, "each response counted once");
        must(c->state == TG__C_HEAD && c->ex == NULL, "back in HEAD after the exchanges");
    } else {
        must(counted(&f->s) >= (uint64_t)r.n_resp, "every response the client saw was counted");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    fz *f = calloc(1, sizeof *f);
    must(setup(f) == 0, "the fixture server starts");
    f->piece = (size_t)(data[0] & 0x3f);
    run_steps(f, data + 1, size - 1);
    check_end(f);
    teardown(f);
    free(f);
    return 0;
}
