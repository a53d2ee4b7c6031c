/*
 * gateway/proxy.c: an exchange, the life of one request relayed upstream.
 *
 * The request is rebuilt for the upstream: same method and path under the
 * upstream's base path, the client's end-to-end header fields (hop-by-hop
 * fields, Host, Content-Length, Expect dropped; Authorization dropped when
 * tokgate checks keys itself or sends its own upstream key; Accept-Encoding
 * dropped on inference routes so usage stays readable), then the body.
 *
 * The answer is relayed as it arrives: the upstream's status and end-to-end
 * fields plus x-tokgate-* fields, the body framed for the client
 * (Content-Length kept when the upstream gave one, else chunked). When the
 * client's output buffer passes the high watermark the upstream is paused;
 * when it drains to half, it resumes (libevent sample/le-proxy.c).
 *
 * Faults: before the head was relayed, a 502 (connect refused, reset,
 * garbage) or 504 (timeouts) with an OpenAI-shaped error; after it, an SSE
 * stream gets a final `data: {"error":...}` event and ends, any other body
 * is cut (the client sees the truncation) and the connection closed. A client
 * that leaves cancels the upstream request, closing its connection.
 */
#include <stdlib.h>
#include <string.h>

#include "gateway/gateway.h"

struct tg__exchange {
    tg__client *c;
    tg__server *srv;
    tg__upreq *up;
    tg__config *cfg;
    int route;
    int stream;
    int head_sent;
    int is_sse;
    int paused;
    int status;
    size_t high;
    tg__usage usage;
    double t_sent;
    double added;
    char *extra_headers;
    char *pool_key;
};

static void on_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen);
static void on_body(void *ud, const char *p, size_t n);
static void on_done(void *ud, int fault, const char *msg);
static const tg__upreq_ops proxy_ops = {on_head, on_body, on_done};

int tg__exchange_active(const tg__exchange *ex) { return ex->up != NULL; }

static void ex_release(tg__exchange *ex) {
    if (ex->stream && ex->srv->metrics.open_streams) ex->srv->metrics.open_streams--;
    tg__usage_free(&ex->usage);
    tg__config_unref(ex->cfg);
    free(ex->extra_headers);
    free(ex->pool_key);
    free(ex);
}

void tg__exchange_free(tg__exchange *ex, int client_gone) {
    if (ex->up) {
        tg__upreq_cancel(ex->up);
        ex->up = NULL;
        if (client_gone)
            tg__log(ex->srv, TG__LOG_INFO, "client %s left mid-request; upstream request cancelled", ex->c->peer);
    }
    ex_release(ex);
}

void tg__exchange_on_client_drain(tg__exchange *ex) {
    if (ex->paused && ex->up && tg__client_pending(ex->c) <= ex->high / 2) {
        ex->paused = 0;
        tg__upreq_resume(ex->up);
    }
}

static int skip_request_header(const tg__http_header *h, int strip_auth, int inference) {
    if (tg__http_is_hop_by_hop(h->name, h->name_len)) return 1;
    if (tg__http_name_eq(h->name, h->name_len, "host") || tg__http_name_eq(h->name, h->name_len, "content-length") ||
        tg__http_name_eq(h->name, h->name_len, "expect"))
        return 1;
    if (strip_auth && (tg__http_name_eq(h->name, h->name_len, "authorization") ||
                       tg__http_name_eq(h->name, h->name_len, "x-api-key")))
        return 1;
    if (inference && tg__http_name_eq(h->name, h->name_len, "accept-encoding")) return 1;
    return 0;
}

void tg__proxy_start(tg__client *c, const tg__model *m, const tg__model_cfg *mc, tg__pool *pool,
                     const char *body, size_t body_len, json_t *req_json, int want_stream,
                     const char *extra_headers) {
    (void)m;
    (void)req_json;
    tg__server *s = c->srv;
    tg__config *cfg = c->cfg;
    int inference = c->route == TG__R_CHAT || c->route == TG__R_COMPLETIONS;
    tgx_buf rq;
    tgx_buf_init(&rq, body_len + 64 * 1024 + cfg->max_head * 2);
    tgx_buf_printf(&rq, "%.*s %s%.*s HTTP/1.1\r\nHost: %s\r\n", (int)c->req.method_len, c->req.method,
                   mc->url.base_path, (int)c->req.target_len, c->req.target, mc->url.hostport);
    int strip_auth = cfg->n_api_keys > 0 || mc->upstream_api_key != NULL;
    for (size_t i = 0; i < c->req.n_headers; i++) {
        const tg__http_header *h = &c->req.headers[i];
        if (skip_request_header(h, strip_auth, inference)) continue;
        tgx_buf_append(&rq, h->name, h->name_len);
        tgx_buf_append(&rq, ": ", 2);
        tgx_buf_append(&rq, h->value, h->value_len);
        tgx_buf_append(&rq, "\r\n", 2);
    }
    if (mc->upstream_api_key) tgx_buf_printf(&rq, "Authorization: Bearer %s\r\n", mc->upstream_api_key);
    if (body_len || c->req.content_length >= 0 || c->req.chunked)
        tgx_buf_printf(&rq, "Content-Length: %zu\r\n", body_len);
    tgx_buf_puts(&rq, "Connection: keep-alive\r\n\r\n");
    tg_status st = tgx_buf_append(&rq, body, body_len);
    tg__exchange *ex = calloc(1, sizeof *ex);
    if (st != TG_OK || !ex) {
        free(ex);
        tgx_buf_free(&rq);
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory building the upstream request");
        return;
    }
    ex->c = c;
    ex->srv = s;
    ex->cfg = cfg;
    tg__config_ref(cfg);
    ex->route = c->route;
    ex->stream = want_stream;
    ex->high = cfg->high_watermark;
    ex->extra_headers = extra_headers ? strdup(extra_headers) : NULL;
    ex->pool_key = strdup(pool->key);
    tg__usage_init(&ex->usage, 0);
    tg__up_timeouts t = {cfg->connect_timeout, cfg->first_byte_timeout, cfg->idle_timeout};
    ex->t_sent = tg__now();
    ex->added = ex->t_sent - c->t_start;
    ex->up = tg__upreq_start(pool, rq.data, rq.len, c->head_only, &t, cfg->max_head, &proxy_ops, ex);
    tgx_buf_free(&rq);
    if (!ex->up) {
        ex_release(ex);
        tg__client_error(c, 500, "server_error", NULL, NULL, "out of memory starting the upstream request");
        return;
    }
    if (want_stream) s->metrics.open_streams++;
    c->ex = ex;
}

static void on_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    double t0 = tg__now();
    tg__hist_observe(&ex->srv->metrics.upstream_latency, t0 - ex->t_sent);
    ex->status = h->status;
    ex->head_sent = 1;
    struct evbuffer *head = evbuffer_new();
    if (!head) return;
    evbuffer_add_printf(head, "HTTP/1.1 %d %.*s\r\n", h->status, (int)rlen, reason);
    for (size_t i = 0; i < h->n_headers; i++) {
        const tg__http_header *f = &h->headers[i];
        if (tg__http_is_hop_by_hop(f->name, f->name_len) || tg__http_name_eq(f->name, f->name_len, "content-length"))
            continue;
        if (tg__http_name_eq(f->name, f->name_len, "content-type") && f->value_len >= 17) {
            for (size_t k = 0; k + 17 <= f->value_len; k++)
                if (tg__http_name_eq(f->value + k, 17, "text/event-stream")) ex->is_sse = 1;
        }
        evbuffer_add(head, f->name, f->name_len);
        evbuffer_add(head, ": ", 2);
        evbuffer_add(head, f->value, f->value_len);
        evbuffer_add(head, "\r\n", 2);
    }
    if (ex->extra_headers) evbuffer_add(head, ex->extra_headers, strlen(ex->extra_headers));
    ex->usage.sse = ex->is_sse;
    int no_body = c->head_only || h->status == 204 || h->status == 304;
    tg__client_begin(c, h->status, head, h->chunked || h->te_other ? -1 : h->content_length, no_body);
    evbuffer_free(head);
    tg__client_set_write_low(c, ex->high / 2);
    ex->added += tg__now() - t0;
    tg__hist_observe(&ex->srv->metrics.added_latency, ex->added);
}

static void on_body(void *ud, const char *p, size_t n) {
    tg__exchange *ex = ud;
    tg__client_body(ex->c, p, n);
    if (ex->route == TG__R_CHAT || ex->route == TG__R_COMPLETIONS) tg__usage_feed(&ex->usage, p, n);
    if (!ex->paused && tg__client_pending(ex->c) > ex->high) {
        ex->paused = 1;
        tg__upreq_pause(ex->up);
    }
}

static void on_done(void *ud, int fault, const char *msg) {
    tg__exchange *ex = ud;
    tg__client *c = ex->c;
    tg__server *s = ex->srv;
    ex->up = NULL;
    c->ex = NULL;
    int head_sent = ex->head_sent, is_sse = ex->is_sse;
    if (fault == TG__UP_OK) {
        tg__usage_finish(&ex->usage);
        if (ex->usage.prompt_tokens > 0) s->metrics.tokens_in += (uint64_t)ex->usage.prompt_tokens;
        if (ex->usage.completion_tokens > 0) s->metrics.tokens_out += (uint64_t)ex->usage.completion_tokens;
        if (ex->pool_key && ex->usage.prompt_n > 0) tg__prefill_observe(s, ex->pool_key, ex->usage.prompt_n, ex->usage.prompt_ms);
        ex_release(ex);
        tg__client_end(c, 1);
        return;
    }
    ex_release(ex);
    if (fault > 0 && fault < 8) s->metrics.upstream_faults[fault]++;
    tg__log(s, TG__LOG_WARN, "upstream fault (%s): %s", tg__up_fault_name(fault), msg ? msg : "");
    int timeout = fault == TG__UP_TIMEOUT_CONNECT || fault == TG__UP_TIMEOUT_FIRST || fault == TG__UP_TIMEOUT_IDLE;
    if (!head_sent) {
        tg__client_error(c, timeout ? 504 : 502, "upstream_error", tg__up_fault_name(fault), NULL, "%s",
                         msg ? msg : "upstream failed");
        return;
    }
    if (is_sse && c->resp_chunked) {
        char *j = tg__oai_error_json(msg ? msg : "upstream failed", "upstream_error", tg__up_fault_name(fault), NULL);
        if (j) {
            tgx_buf ev;
            tgx_buf_init(&ev, 1u << 20);
            tgx_buf_printf(&ev, "\n\ndata: %s\n\n", j);
            tg__client_body(c, ev.data, ev.len);
            tgx_buf_free(&ev);
            free(j);
        }
        c->keep_alive = 0;
        tg__client_end(c, 1);
        return;
    }
    tg__client_end(c, 0);
}
