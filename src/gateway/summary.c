/*
 * gateway/summary.c: the summary call and the summary cache (summary.h).
 *
 * The call is an ordinary upstream request (upstream.h tg__upreq_start) on
 * the model's pool: "POST <base>/v1/chat/completions" with the body the
 * library built (tg_summary_request: the operator's prompt, a transcript of
 * the turns to replace, max_tokens = policy.summary_max_tokens, stream
 * false). The answer is read whole (at most 4 MiB) and its text taken with
 * tg_summary_text; any status but 200, a fault or a timeout
 * (summary.timeout, as the first-byte deadline: the answer head comes when
 * generation ends) is a failure the caller falls back from.
 *
 * The cache is a small array searched linearly (a few hundred entries at
 * most, one probe per summarized request), least recently used out first.
 */
#include "gateway/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

#define ANSWER_MAX (4u << 20)

const char *tg__sum_result_name(int r) {
    static const char *const names[] = {"made", "hit", "failed", "unfit"};
    return r >= 0 && r < TG__SUM_N ? names[r] : "unknown";
}

struct tg__sumcall {
    tg__upreq *up;
    int status;
    tgx_buf answer;
    tg__sum_cb cb;
    void *ud;
};

static void on_head(void *ud, const tg__http_head *h, const char *reason, size_t rlen) {
    (void)reason;
    (void)rlen;
    ((tg__sumcall *)ud)->status = h->status;
}

static void on_body(void *ud, const char *p, size_t n) {
    tg__sumcall *k = ud;
    tgx_buf_append(&k->answer, p, n); /* past ANSWER_MAX the buffer refuses: read as not JSON */
}

/* One line of an error answer's message (the engine's "error.message"). */
static void upstream_message(const tgx_buf *b, char *out, size_t cap) {
    json_error_t je;
    json_t *o = json_loadb(b->data ? b->data : "", b->len, 0, &je);
    const char *msg = json_string_value(json_object_get(json_object_get(o, "error"), "message"));
    snprintf(out, cap, "%s", msg ? msg : "");
    for (char *p = out; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    json_decref(o);
}

static void on_done(void *ud, int fault, const char *msg) {
    tg__sumcall *k = ud;
    k->up = NULL;
    char why[512] = "";
    char *text = NULL;
    if (fault) {
        snprintf(why, sizeof why, "the summary call failed: %s (%s)", tg__up_fault_name(fault), msg ? msg : "");
    } else if (k->status != 200) {
        char m[300];
        upstream_message(&k->answer, m, sizeof m);
        snprintf(why, sizeof why, "the summary call was answered HTTP %d%s%s", k->status, m[0] ? ": " : "", m);
    } else {
        tg_error e;
        text = tg_summary_text(k->answer.data ? k->answer.data : "", k->answer.len, &e);
        if (!text) snprintf(why, sizeof why, "%s", e.msg);
    }
    tg__sum_cb cb = k->cb;
    void *cud = k->ud;
    tgx_buf_free(&k->answer);
    free(k);
    cb(cud, text, text ? NULL : why);
}

static const tg__upreq_ops sum_ops = {on_head, on_body, on_done};

tg__sumcall *tg__sum_call(tg__server *s, const tg__model *m, const char *body, size_t len, tg__sum_cb cb,
                          void *ud) {
    const tg__model_cfg *mc = m->cfg;
    const tg__config *cfg = s->cfg;
    tg__sumcall *k = calloc(1, sizeof *k);
    if (!k) return NULL;
    tgx_buf rq;
    tgx_buf_init(&rq, SIZE_MAX);
    tgx_buf_printf(&rq, "POST %s/v1/chat/completions HTTP/1.1\r\nHost: %s\r\nAccept: application/json\r\n"
                        "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                   mc->url.base_path, mc->url.hostport, len);
    if (mc->upstream_api_key) tgx_buf_printf(&rq, "Authorization: Bearer %s\r\n", mc->upstream_api_key);
    tgx_buf_puts(&rq, "Connection: keep-alive\r\n\r\n");
    tg_status st = tgx_buf_append(&rq, body, len);
    tgx_buf_init(&k->answer, ANSWER_MAX);
    k->cb = cb;
    k->ud = ud;
    tg__up_timeouts t = {cfg->connect_timeout, cfg->summary_timeout, cfg->idle_timeout, cfg->summary_timeout, 0};
    if (st == TG_OK)
        k->up = tg__upreq_start(m->pool, rq.data, rq.len, 0, &t, cfg->max_head, &sum_ops, k);
    tgx_buf_free(&rq);
    if (!k->up) {
        free(k);
        return NULL;
    }
    return k;
}

void tg__sum_cancel(tg__sumcall *k) {
    if (!k) return;
    if (k->up) tg__upreq_cancel(k->up);
    tgx_buf_free(&k->answer);
    free(k);
}

/* ---- the cache ---------------------------------------------------------- */

typedef struct entry {
    tg_summary_key key;
    char *text;
    uint64_t used; /* the tick of the last get or put */
} entry;

struct tg__sumcache {
    entry *v;
    size_t n, cap;
    uint64_t tick;
};

static int same(tg_summary_key a, tg_summary_key b) { return a.h[0] == b.h[0] && a.h[1] == b.h[1]; }

const char *tg__sum_cache_get(tg__server *s, tg_summary_key key) {
    struct tg__sumcache *c = s->sumcache;
    for (size_t i = 0; c && i < c->n; i++)
        if (same(c->v[i].key, key)) {
            c->v[i].used = ++c->tick;
            return c->v[i].text;
        }
    return NULL;
}

void tg__sum_cache_put(tg__server *s, tg_summary_key key, const char *text) {
    size_t cap = s->cfg->summary_cache;
    if (!cap) return;
    struct tg__sumcache *c = s->sumcache;
    if (!c && !(c = s->sumcache = calloc(1, sizeof *c))) return;
    if (tg__sum_cache_get(s, key)) return;
    char *t = strdup(text);
    if (!t) return;
    size_t slot = c->n;
    if (c->n >= cap) { /* full (or the cap was lowered by a reload): the least recently used goes */
        slot = 0;
        for (size_t i = 1; i < c->n; i++)
            if (c->v[i].used < c->v[slot].used) slot = i;
        free(c->v[slot].text);
    } else if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        entry *nv = realloc(c->v, nc * sizeof *nv);
        if (!nv) {
            free(t);
            return;
        }
        c->v = nv;
        c->cap = nc;
    }
    if (slot == c->n) c->n++;
    c->v[slot].key = key;
    c->v[slot].text = t;
    c->v[slot].used = ++c->tick;
}

void tg__sum_cache_free(tg__server *s) {
    struct tg__sumcache *c = s->sumcache;
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) free(c->v[i].text);
    free(c->v);
    free(c);
    s->sumcache = NULL;
}
