/*
 * gateway/options.c: the option tables of `tokgate serve` (see options.h),
 * the setters of the values that are more than a number or a string (listen
 * address, upstream URL, continuation, the "models" array and a section's
 * "policy" and "hardware" objects), and the help text and docs table built
 * from them.
 *
 * Bounds, and where the file and the flags used to disagree (the choice made):
 *   timeouts 0.001..86400 s; drain 0..86400 s (0: exit at once; the file
 *     refused 0); header_max and body_max 0..86400 (0: no maximum)
 *   discovery_interval 1..86400 s (the flag took 0.1: a round asks the
 *     upstream several endpoints, and what it feeds changes slower than that)
 *   max_header_bytes 256..1e7, max_headers 1..10000, max_request_line
 *     16..1e7 (the flags' bounds; the file took 1..1e10), max_body_bytes 1..1e10
 *   admission.queue 0..1e6, wait_ms whole 0..86400000 (the file's; the flags
 *     took up to 1e12), capacity 0..1e12
 *   a model's limits.context / input / output 1..2^40 (was 1..1e9; 2^40 is
 *     what tokgate check and limits take for the same flags)
 *   policy.* and hardware.* as in tokgate check and limits (bad values and
 *     unknown keys used to be logged and ignored at each rebuild; they are
 *     refused with their path like every other key)
 */
#include "gateway/options.h"

#include "gateway/engine.h"
#include "gateway/log.h"
#include "gateway/route_pick.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "config models[0].policy" -> "models[0].policy" for nested messages. */
static const char *path_of(const char *where) { return strncmp(where, "config ", 7) == 0 ? where + 7 : where; }

static tg_status want_string(const char *where, const char *what, tg_error *err) {
    return tg_error_set(err, TG_EINVAL, "%s: want %s", where, what);
}

static tg_status set_listen(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                            tg_error *err) {
    (void)o;
    tg__config *c = target;
    const char *s = text ? text : json_string_value(v);
    if (!s) return want_string(where, "\"HOST:PORT\"", err);
    char *host = NULL;
    int port = 0;
    tg_status st = tg__parse_hostport(s, &host, &port, err);
    if (st != TG_OK) return tg_error_wrap(err, "%s", where);
    free(c->listen_host);
    c->listen_host = host;
    c->listen_port = port;
    return TG_OK;
}

static void format_listen(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__config *c = target;
    const char *h = c->listen_host ? c->listen_host : "127.0.0.1";
    tgx_buf_printf(b, strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, c->listen_port);
}

static tg_status set_models(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                            tg_error *err) {
    (void)o;
    (void)text;
    tg__config *c = target;
    if (!json_is_array(v)) return want_string(where, "an array of model sections", err);
    size_t i;
    json_t *m;
    json_array_foreach(v, i, m) {
        tg__model_cfg *mc = tg__config_add_model(c);
        if (!mc) return tg_error_set(err, TG_ENOMEM, "out of memory");
        char path[64];
        snprintf(path, sizeof path, "models[%zu]", i);
        tg_status st = tgx_opt_object(tg__model_opts, tg__n_model_opts, mc, NULL, path, m, err);
        if (st != TG_OK) return st;
        if (!mc->upstream)
            return tg_error_set(err, TG_EINVAL, "config %s: \"upstream\" is required (or \"upstreams\", replicas)", path);
    }
    return TG_OK;
}

/* One more replica of a section (issue 14): u and copy taken. */
static tg_status add_replica(tg__model_cfg *m, const char *where, char *copy, tg__url *u, tg_error *err) {
    if (tg__mc_n_urls(m) >= TG__MAX_REPLICAS) {
        free(copy);
        tg__url_free(u);
        return tg_error_set(err, TG_EINVAL, "%s: more than %d upstreams in one model section", where, TG__MAX_REPLICAS);
    }
    for (size_t i = 0; i < tg__mc_n_urls(m); i++) {
        const tg__url *o = tg__mc_url(m, i);
        if (o->port == u->port && !strcmp(o->host, u->host)) {
            tg_error_set(err, TG_EINVAL, "%s: upstream %s is listed twice", where, copy);
            free(copy);
            tg__url_free(u);
            return TG_EINVAL;
        }
    }
    if (!m->more_upstreams) m->more_upstreams = calloc(TG__MAX_REPLICAS, sizeof *m->more_upstreams); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (!m->more_urls) m->more_urls = calloc(TG__MAX_REPLICAS, sizeof *m->more_urls);
    if (!m->more_upstreams || !m->more_urls) {
        free(copy);
        tg__url_free(u);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    m->more_upstreams[m->n_more] = copy;
    m->more_urls[m->n_more++] = *u;
    return TG_OK;
}

/* One URL into the section: the first is `upstream`, later ones (--upstream
 * repeated, or "upstreams") are replicas. */
static tg_status put_upstream(tg__model_cfg *m, const char *where, const char *s, tg_error *err) {
    if (!s) return want_string(where, "\"http://HOST[:PORT][/BASE]\"", err);
    tg__url u;
    if (tg__url_parse(s, &u, err) != TG_OK) return tg_error_wrap(err, "%s", where);
    char *copy = strdup(s);
    if (!copy) {
        tg__url_free(&u);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (m->upstream) return add_replica(m, where, copy, &u, err);
    m->upstream = copy;
    m->url = u;
    return TG_OK;
}

static tg_status set_upstream(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                              tg_error *err) {
    (void)o;
    tg__model_cfg *m = target;
    if (m->upstreams_key)
        return tg_error_set(err, TG_EINVAL, "%s: give \"upstream\" or \"upstreams\", not both", where);
    return put_upstream(m, where, text ? text : json_string_value(v), err);
}

/* "upstreams": [URL, ...], replicas of one model (docs/gateway.md "Replicas"). */
static tg_status set_upstreams(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                               tg_error *err) {
    (void)o;
    (void)text;
    tg__model_cfg *m = target;
    if (m->upstream) return tg_error_set(err, TG_EINVAL, "%s: give \"upstream\" or \"upstreams\", not both", where);
    if (!json_is_array(v) || json_array_size(v) == 0)
        return want_string(where, "a non-empty array of \"http://HOST[:PORT][/BASE]\"", err);
    size_t i;
    json_t *e;
    json_array_foreach(v, i, e) {
        char w[160];
        snprintf(w, sizeof w, "%s[%zu]", where, i);
        tg_status st = put_upstream(m, w, json_string_value(e), err);
        if (st != TG_OK) return st;
    }
    m->upstreams_key = 1;
    return TG_OK;
}

static void format_upstreams(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__model_cfg *m = target;
    for (size_t i = 0; m->upstream && i < tg__mc_n_urls(m); i++)
        tgx_buf_printf(b, "%s%s", i ? "," : "", i ? m->more_upstreams[i - 1] : m->upstream);
}

static void format_upstream(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__model_cfg *m = target;
    if (m->upstream) tgx_buf_puts(b, m->upstream);
}

/* auto / on / off (true / false as JSON booleans or words). */
static tg_status set_continuation(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                                  tg_error *err) {
    (void)o;
    tg__model_cfg *m = target;
    const char *s = text ? text : json_string_value(v);
    if (!s && json_is_boolean(v)) s = json_is_true(v) ? "on" : "off";
    if (s && !strcmp(s, "auto")) m->continuation = -1;
    else if (s && (!strcmp(s, "on") || !strcmp(s, "true"))) m->continuation = 1;
    else if (s && (!strcmp(s, "off") || !strcmp(s, "false"))) m->continuation = 0;
    else return want_string(where, "auto, on or off (true or false in the file)", err);
    return TG_OK;
}

static void format_continuation(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__model_cfg *m = target;
    tgx_buf_puts(b, m->continuation < 0 ? "auto" : m->continuation ? "on" : "off");
}

/* admission.share: a fraction (0 < x <= 1) or "1/N" / "K/N" (issue 14). */
static tg_status set_share(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                           tg_error *err) {
    (void)o;
    tg__config *c = target;
    const char *s = text ? text : json_string_value(v);
    double x = -1;
    if (!s && json_is_number(v)) x = json_number_value(v);
    else if (s) {
        char *e = NULL;
        double num = strtod(s, &e);
        if (e != s && *e == '/') {
            const char *d = e + 1;
            double den = strtod(d, &e);
            x = e != d && !*e && den >= 1 && num >= 1 && num <= den && den <= 1e6 ? num / den : -1;
        } else if (e != s && !*e) x = num;
    }
    if (!(x > 0 && x <= 1)) {
        char got[48];
        if (s) snprintf(got, sizeof got, "\"%.40s\"", s);
        else if (json_is_number(v)) snprintf(got, sizeof got, "%g", json_number_value(v));
        else snprintf(got, sizeof got, "neither a number nor a string");
        return tg_error_set(err, TG_EINVAL,
                            "%s: want a fraction of the engine above 0 and at most 1 (0.5, or 1/N for N gateways), got %s",
                            where, got);
    }
    c->admission_share = x;
    return TG_OK;
}

static void format_share(const tgx_opt *o, const void *target, tgx_buf *b) {
    (void)o;
    const tg__config *c = target;
    tgx_buf_printf(b, "%.17g", c->admission_share); /* reads back to the same double */
}

static tg_status set_policy(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                            tg_error *err) {
    (void)o;
    (void)text;
    tg__model_cfg *m = target;
    return tgx_opt_object(tg__settings_opts, tg__n_settings_opts, &m->settings, &m->settings_given, path_of(where),
                          v, err);
}

static tg_status set_hardware(const tgx_opt *o, void *target, const char *where, const char *text, json_t *v,
                              tg_error *err) {
    (void)o;
    (void)text;
    tg__model_cfg *m = target;
    return tgx_opt_object(tg__hardware_opts, tg__n_hardware_opts, &m->hw, &m->hw_given, path_of(where), v, err);
}

/* NOLINTBEGIN(bugprone-macro-parentheses): table rows; each argument is one initializer value */
#define C(f) offsetof(tg__config, f)
#define M(f) offsetof(tg__model_cfg, f)
#define HEADING(text) {.kind = TGX_OPT_HEADING, .help = text}
#define SECONDS(k, fl, field, low, h) \
    {.key = k, .flag = fl, .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE, .off = C(field), .lo = low, .hi = 86400, \
     .arg = "S", .help = h}
#define SIZE(k, fl, field, low, high, h) \
    {.key = k, .flag = fl, .kind = TGX_OPT_UINT, .store = TGX_ST_SIZE, .off = C(field), .lo = low, .hi = high, \
     .arg = "N", .help = h}
#define MSTR(k, fl, a, field, h) \
    {.key = k, .flag = fl, .kind = TGX_OPT_STR, .store = TGX_ST_STR, .off = M(field), .arg = a, .help = h}
#define MTOKENS(k, fl, field, h) \
    {.key = k, .flag = fl, .kind = TGX_OPT_UINT, .store = TGX_ST_U64, .off = M(field), .lo = 1, \
     .hi = TG__TOKENS_MAX, .arg = "N", .help = h}
/* NOLINTEND(bugprone-macro-parentheses) */

const tgx_opt tg__serve_opts[] = {
    {.flag = "--config", .kind = TGX_OPT_STR, .arg = "FILE", .help = "JSON config (docs/gateway.md); flags override it"},
    {.key = "listen", .flag = "--listen", .kind = TGX_OPT_CUSTOM, .arg = "HOST:PORT",
     .help = "address to listen on (a host name resolves at start; [v6]:PORT; PORT alone is loopback)", .example = "127.0.0.1:9000",
     .set = set_listen, .format = format_listen},
    {.key = "api_keys", .flag = "--api-key", .kind = TGX_OPT_LIST, .store = TGX_ST_STRV, .off = C(api_keys),
     .off_n = C(n_api_keys), .flags = TGX_OPT_NONEMPTY, .arg = "KEY",
     .help = "accept only these bearer keys (repeatable; flags replace the file's)"},
    {.key = "log_prompts", .flag = "--log-prompts", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = C(log_prompts),
     .help = "allow prompt text in logs"},
    {.key = "log_format", .flag = "--log-format", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = C(log_format),
     .parse = tg__log_parse_format, .arg = "text|json",
     .help = "log lines (and each request's access line) as text or one JSON object per line"},
    {.key = "quiet", .flag = "--quiet", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT, .off = C(quiet),
     .help = "log only warnings and errors"},
    {.key = "access_log", .flag = "--access-log", .kind = TGX_OPT_STR, .store = TGX_ST_STR, .off = C(access_log),
     .arg = "PATH|off", .help = "where each request's access line goes: a file (appended; reopened on SIGHUP) or off "
                                "(default: stderr, with the log lines)"},
    SIZE("access_log_buffer", "--access-log-buffer", access_log_buffer, 0, 1 << 24,
         "access lines held for one write, in bytes (written when full and each second; 0: a write per line)"),
    {.key = "private_catalog", .flag = "--private-catalog", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT,
     .off = C(private_catalog), .help = "/api.json needs an API key too (default: readable without one, as opencode sends none)"},
    {.key = "ignore_forwarded", .flag = "--ignore-forwarded", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT,
     .off = C(ignore_forwarded),
     .help = "URLs tokgate writes ignore X-Forwarded-Proto/-Host and Forwarded (default: honoured when valid)"},
    {.key = "cors_origins", .flag = "--cors-origin", .kind = TGX_OPT_LIST, .store = TGX_ST_STRV, .off = C(cors_origins),
     .off_n = C(n_cors_origins), .flags = TGX_OPT_NONEMPTY, .arg = "ORIGIN",
     .help = "browser origins allowed by CORS, e.g. https://app.example; * for any (repeatable; none: no CORS)"},
    {.key = "allow_unauthenticated", .flag = "--allow-unauthenticated", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT,
     .off = C(allow_unauthenticated),
     .help = "listen on a non-loopback address without api_keys (default: refused at start)"},
    {.key = "allow_admin_routes", .flag = "--allow-admin-routes", .kind = TGX_OPT_BOOL, .store = TGX_ST_INT,
     .off = C(allow_admin_routes),
     .help = "pass the engine's state-changing routes through (POST /slots/ID, /props, /lora-adapters; default 403)"},
    {.key = "passthrough_paths", .flag = "--passthrough-path", .kind = TGX_OPT_LIST, .store = TGX_ST_STRV,
     .off = C(passthrough_paths), .off_n = C(n_passthrough_paths), .flags = TGX_OPT_NONEMPTY, .arg = "PATH",
     .help = "another upstream path passed through unbudgeted (repeatable; only paths that do not generate)"},
    {.key = "models", .kind = TGX_OPT_CUSTOM, .arg = "[{...}]", .help = "the model sections (below)",
     .set = set_models},
    HEADING("timeouts (seconds):"),
    SECONDS("timeouts.connect", "--connect-timeout", connect_timeout, 0.001, "to connect to the upstream (504)"),
    SECONDS("timeouts.first_byte", "--first-byte-timeout", first_byte_timeout, 0.001,
            "from request sent to the upstream's first byte (504)"),
    SECONDS("timeouts.idle", "--idle-timeout", idle_timeout, 0.001, "upstream silence allowed mid-answer"),
    SECONDS("timeouts.client", "--client-timeout", client_timeout, 0.001,
            "a client sending its request or stalling on the answer"),
    SECONDS("timeouts.drain", "--drain-timeout", drain_timeout, 0, "on SIGTERM, in-flight answers before exit"),
    SECONDS("timeouts.header", "--header-timeout", header_timeout, 0.001,
            "a request head's deadline from its first byte (a new connection: from accept), extended by "
            "timeouts.min_rate (408)"),
    SECONDS("timeouts.header_max", "--header-timeout-max", header_timeout_max, 0,
            "the most a request head's deadline is extended to (0: no maximum)"),
    SECONDS("timeouts.body", "--body-timeout", body_timeout, 0.001,
            "a request body's deadline from the end of its head, extended by timeouts.min_rate (408)"),
    SECONDS("timeouts.body_max", "--body-timeout-max", body_timeout_max, 0,
            "the most a request body's deadline is extended to (0: no maximum)"),
    {.key = "timeouts.min_rate", .flag = "--min-rate", .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE,
     .off = C(min_rate), .lo = 0, .hi = 1e12, .arg = "BYTES",
     .help = "bytes per second that extend the head and body deadlines by 1 s each (0: no extension)"},
    SECONDS("timeouts.answer", "--answer-timeout", answer_timeout, 0,
            "an answer's body, head to end (0: none; a stream past it ends with an SSE error event)"),
    {.key = "limits.answer_min_rate", .flag = "--answer-min-rate", .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE,
     .off = C(answer_min_rate), .lo = 0, .hi = 1e9, .arg = "B/S",
     .help = "bytes/s an answer's body must average over each idle-timeout window (0: no minimum)"},
    SECONDS("discovery_interval", "--discovery-interval", discovery_interval, 1,
            "between upstream discovery rounds (2 s at most while one has not answered)"),
    SECONDS("timeouts.discovery_wait", "--discovery-wait", discovery_wait, 0,
            "a request for a model whose limits are not known yet waits for discovery (then 503)"),
    /* issue 20: the live VRAM loop (gateway/vram.h) */
    SECONDS("vram.interval", "--vram-interval", vram_interval, 0.5,
            "between NVML readings for the models whose free VRAM is read live"),
    SIZE("vram.window", "--vram-window", vram_window, 1, 64,
         "readings the free figure is the minimum of (a drop counts at once, a rise after the window)"),
    {.key = "vram.hysteresis_mib", .flag = "--vram-hysteresis-mib", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = C(vram_hysteresis_mib), .lo = 0, .hi = 1048576, .arg = "MIB",
     .help = "the figure in use moves only when the windowed reading moves more than this"},
    SECONDS("timeouts.engine_count", "--engine-count-timeout", engine_count_timeout, 0,
            "the engine's own prompt count (vLLM/SGLang /tokenize, no tokenizer file): its round trip "
            "(then the estimate; 0: never asked)"),
    HEADING("sizes and threads:"),
    SIZE("limits.max_body_bytes", "--max-body-bytes", max_body, 1, 1e10, "request body (413)"),
    SIZE("limits.max_header_bytes", "--max-header-bytes", max_head, 256, 1e7, "request header block (431)"),
    SIZE("limits.max_headers", "--max-headers", max_headers, 1, 10000, "request header count (431)"),
    SIZE("limits.max_request_line", "--max-request-line", max_line, 16, 1e7, "request line (414)"),
    SIZE("max_connections", "--max-connections", max_connections, 0, 1e6,
         "open client connections; at the cap new ones wait in the listen backlog (0: from the fd limit, 448 at 1024)"),
    SIZE("limits.max_buffered_bytes", "--max-buffered", max_buffered, 0, 1e12,
         "request and answer bytes held across all connections (503 beyond; 0: a quarter of memory)"),
    SIZE("upstream_max_connections", "--upstream-max-conns", upstream_max_conns, 0, 1e5,
         "connections open at once per upstream (0: twice llama-server's slots, else no cap)"),
    SIZE("high_watermark", "--high-watermark", high_watermark, 1024, 1e9,
         "client output bytes at which upstream reading pauses"),
    SIZE("workers", "--workers", workers, 0, 64, "threads that parse and budget large bodies (0: on the loop)"),
    SIZE("inline_body_bytes", "--inline-body-bytes", inline_max, 0, 1e10,
         "bodies up to this size are handled on the event loop"),
    HEADING("KV admission (per upstream; prompt + max_tokens reserved per request):"),
    SIZE("admission.queue", "--admission-queue", admission_queue, 0, 1e6, "requests that may wait for KV room"),
    {.key = "admission.wait_ms", .flag = "--admission-wait-ms", .kind = TGX_OPT_UINT, .store = TGX_ST_DOUBLE,
     .off = C(admission_wait), .lo = 0, .hi = 864e5, .scale = 0.001, .arg = "MS",
     .help = "how long one may wait before 503"},
    {.key = "admission.capacity", .flag = "--admission-capacity", .kind = TGX_OPT_UINT, .store = TGX_ST_U64,
     .off = C(admission_capacity), .lo = 0, .hi = 1e12, .arg = "N",
     .help = "tokens (0: llama-server n_ctx x slots, else the context)"},
    {.key = "admission.share", .flag = "--admission-share", .kind = TGX_OPT_CUSTOM, .arg = "X|1/N",
     .help = "fraction of each engine's slots and KV this gateway uses (1/N for N gateways; 1: all)",
     .example = "0.5", .set = set_share, .format = format_share},
    {.key = "admission.engine_poll_ms", .flag = "--admission-engine-poll-ms", .kind = TGX_OPT_UINT,
     .store = TGX_ST_DOUBLE, .off = C(admission_engine_poll), .lo = 0, .hi = 36e5, .scale = 0.001, .arg = "MS",
     .help = "read the engine's busy slots (llama-server /slots, vLLM /metrics) this often; 0: off"},
    HEADING("adaptive thinking budgets (thinking_mode adaptive; read at start):"),
    {.key = "adaptive.state_file", .flag = "--adaptive-state-file", .kind = TGX_OPT_STR, .store = TGX_ST_STR,
     .off = C(adaptive_state_file), .arg = "PATH",
     .help = "the learned budgets, loaded at start and saved atomically (none: kept in memory only)"},
    {.key = "adaptive.quantile", .flag = "--adaptive-quantile", .kind = TGX_OPT_NUM, .store = TGX_ST_PPM,
     .off = C(adaptive_quantile), .lo = 0.01, .hi = 1, .arg = "Q",
     .help = "the budget is this quantile (nearest rank) of a class's thinking tokens"},
    {.key = "adaptive.min_samples", .flag = "--adaptive-min-samples", .kind = TGX_OPT_UINT, .store = TGX_ST_U32,
     .off = C(adaptive_min_samples), .lo = 1, .hi = 256, .arg = "N",
     .help = "answers a class needs before its quantile replaces the catalogue budget"},
    SECONDS("adaptive.save_interval", "--adaptive-save-interval", adaptive_save_interval, 1,
            "between saves of adaptive.state_file (and one at exit)"),
    /* summarizing compaction (truncation summarize; docs/policy.md) */
    HEADING("Summarizing compaction (truncation summarize):"),
    SIZE("summary.cache", "--summary-cache", summary_cache, 0, 1e6,
         "summaries kept in memory, keyed by the prefix they replace (0: none kept)"),
    SECONDS("summary.timeout", "--summary-timeout", summary_timeout, 0.001,
            "the summary call's answer deadline; past it, drop_oldest_turns"),
    HEADING("replicas (a model section with several upstreams; docs/gateway.md Replicas):"),
    {.key = "routing.policy", .flag = "--routing", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = C(route_policy),
     .parse = tg__route_policy_parse, .arg = "affinity|least_loaded|round_robin",
     .help = "which replica a request goes to (affinity: the one holding its prefix, within the load bound)"},
    {.key = "routing.load_bound", .flag = "--routing-load-bound", .kind = TGX_OPT_NUM, .store = TGX_ST_DOUBLE,
     .off = C(route_load_bound), .lo = 1, .hi = 100, .arg = "C",
     .help = "affinity: a replica takes a conversation while its load <= C x the average"},
};
const size_t tg__n_serve_opts = sizeof tg__serve_opts / sizeof tg__serve_opts[0];

const tgx_opt tg__model_opts[] = {
    HEADING("single model (one model section from flags; an entry of \"models\" in the file):"),
    {.key = "upstream", .flag = "--upstream", .kind = TGX_OPT_CUSTOM, .arg = "URL",
     .help = "inference server root, http://HOST[:PORT][/BASE] (a trailing /v1 is dropped; repeat for replicas)",
     .example = "http://127.0.0.1:8080", .set = set_upstream, .format = format_upstream},
    {.key = "upstreams", .kind = TGX_OPT_CUSTOM, .arg = "[URL,...]",
     .help = "replicas of one model, instead of \"upstream\" (docs/gateway.md Replicas)",
     .set = set_upstreams, .format = format_upstreams},
    MSTR("model", "--model", "PATH", model_path, "the model's GGUF file or HF directory (limits, counting)"),
    MSTR("tokenizer", "--tokenizer", "PATH", tokenizer_path, "tokenizer.json or its directory (default: model)"),
    MSTR("name", "--served-name", "NAME", name, "name clients use (default: the upstream's)"),
    {.key = "aliases", .flag = "--alias", .kind = TGX_OPT_LIST, .store = TGX_ST_STRV, .off = M(aliases),
     .off_n = M(n_aliases), .flags = TGX_OPT_NONEMPTY, .arg = "NAME", .help = "other accepted names (repeatable)"},
    MSTR("upstream_model", "--upstream-model", "NAME", upstream_model, "model name sent upstream"),
    MSTR("upstream_api_key", "--upstream-api-key", "KEY", upstream_api_key, "bearer key sent upstream"),
    MTOKENS("limits.context", "--context", context, "static context"),
    MTOKENS("limits.input", "--max-prompt-tokens", input, "static input (prompt) limit"),
    MTOKENS("limits.output", "--output-reserve", output, "output reserve (default 8192, at most half a small context)"),
    {.key = "continuation", .flag = "--continuation", .kind = TGX_OPT_CUSTOM, .arg = "auto|on|off",
     .help = "continue streams in place (escalation, thinking cut; auto: llama-server)", .example = "on",
     .set = set_continuation, .format = format_continuation},
    {.key = "engine", .flag = "--engine", .kind = TGX_OPT_ENUM, .store = TGX_ST_INT, .off = M(engine),
     .parse = tg__engine_parse, .arg = "auto|llama.cpp|sglang|vllm|ollama|openai-compatible",
     .help = "the inference engine's adapter (auto: what discovery recognises)"},
    MSTR("thinking_open", "--thinking-open", "S", thinking_open, "thinking open marker (<think>)"),
    MSTR("thinking_close", "--thinking-close", "S", thinking_close, "thinking close marker (</think>)"),
    MSTR("reasoning_budget_message", "--reasoning-budget-message", "S", budget_message,
         "read by the model when its thinking budget runs out"),
    MSTR("summary_prompt", "--summary-prompt", "S", summary_prompt,
         "truncation summarize: the summary call's system prompt (default: docs/policy.md)"),
    {.key = "policy", .kind = TGX_OPT_CUSTOM, .arg = "{...}", .help = "policy settings (below)", .set = set_policy},
    {.key = "hardware", .kind = TGX_OPT_CUSTOM, .arg = "{...}", .help = "limits derivation inputs (below)",
     .set = set_hardware},
};
const size_t tg__n_model_opts = sizeof tg__model_opts / sizeof tg__model_opts[0];

tg_status tg__serve_usage(tgx_buf *b) {
    tg__config *c = tg__config_new();
    tg__model_cfg m;
    tg__model_cfg_init(&m);
    if (!c) return TG_ENOMEM;
    tg_status st = tgx_buf_puts(b,
        "usage: tokgate serve [--config FILE] [--listen HOST:PORT] [--upstream URL]\n"
        "                     [--model PATH] [--served-name NAME] [--api-key KEY]... [options]\n"
        "\n"
        "Runs the token gateway: an OpenAI-compatible HTTP/1.1 proxy in front of\n"
        "llama-server or vLLM that counts, budgets and refuses requests and\n"
        "advertises each model's real limits. Each flag has a config-file key\n"
        "(docs/gateway.md); --flag=VALUE works too.\n\n");
    if (st == TG_OK) st = tgx_opt_help(b, tg__serve_opts, tg__n_serve_opts, c);
    if (st == TG_OK) st = tgx_opt_help(b, tg__model_opts, tg__n_model_opts, &m);
    if (st == TG_OK) st = tgx_buf_puts(b, "limits derivation (a section's \"hardware\"; as tokgate limits):\n");
    if (st == TG_OK) st = tgx_opt_help(b, tg__hardware_opts, tg__n_hardware_opts, &m.hw);
    if (st == TG_OK) st = tgx_buf_puts(b, "policy (a section's \"policy\"; as tokgate check):\n");
    if (st == TG_OK) st = tgx_opt_help(b, tg__settings_opts, tg__n_settings_opts, &m.settings);
    if (st == TG_OK)
        st = tgx_buf_puts(b, "\nSignals: SIGTERM/SIGINT drain in-flight requests then exit; SIGHUP reloads\n"
                             "the config file and flags without dropping streams.\n");
    tg__model_cfg_free(&m);
    tg__config_unref(c);
    return st;
}

/* TEXT as a Markdown table cell: '|' escaped. */
static tg_status md_cell(tgx_buf *b, const char *text) {
    tg_status st = TG_OK;
    for (const char *p = text; *p && st == TG_OK; p++) st = *p == '|' ? tgx_buf_puts(b, "\\|") : tgx_buf_putc(b, *p);
    return st;
}

/* A default outside the bounds (0 for a count from 1, for a rate above 0)
 * means "not set": the help says what applies then. */
static int default_shown(const tgx_opt *o, const char *d) {
    if (!*d) return 0;
    if (o->kind != TGX_OPT_UINT && o->kind != TGX_OPT_NUM) return 1;
    double v = strtod(d, NULL);
    return (o->flags & TGX_OPT_OPEN_LO) ? v > o->lo : v >= o->lo;
}

/* One row per key: | `PREFIX.key` | `--flag` | value (default) | help |. */
static tg_status md_rows(tgx_buf *b, const char *prefix, const tgx_opt *t, size_t n, const void *defaults) {
    tg_status st = TG_OK;
    tgx_buf cell;
    tgx_buf_init(&cell, 4096);
    for (size_t i = 0; i < n && st == TG_OK; i++) {
        const tgx_opt *o = &t[i];
        if (!o->key) continue;
        tgx_buf_reset(&cell);
        st = tgx_buf_printf(b, "| `%s%s` | %s%s%s | ", prefix, o->key, o->flag ? "`" : "", o->flag ? o->flag : "",
                            o->flag ? "`" : "");
        if (st == TG_OK) st = tgx_opt_want(o, &cell);
        if (st == TG_OK && o->kind == TGX_OPT_LIST) st = tgx_buf_puts(&cell, " each, in an array");
        tgx_buf d;
        tgx_buf_init(&d, 256);
        if (st == TG_OK && o->kind != TGX_OPT_LIST) st = tgx_opt_format(o, defaults, &d);
        if (st == TG_OK && d.len && default_shown(o, d.data)) st = tgx_buf_printf(&cell, " (default %s)", d.data);
        tgx_buf_free(&d);
        if (st == TG_OK) st = md_cell(b, cell.data ? cell.data : "");
        if (st == TG_OK) st = tgx_buf_puts(b, " | ");
        if (st == TG_OK) st = md_cell(b, o->help ? o->help : "");
        if (st == TG_OK) st = tgx_buf_puts(b, " |\n");
    }
    tgx_buf_free(&cell);
    return st;
}

tg_status tg__config_keys_markdown(tgx_buf *b) {
    tg__config *c = tg__config_new();
    tg__model_cfg m;
    tg__model_cfg_init(&m);
    if (!c) return TG_ENOMEM;
    tg_status st = tgx_buf_puts(b, "| key | flag | value | meaning |\n| --- | --- | --- | --- |\n");
    if (st == TG_OK) st = md_rows(b, "", tg__serve_opts, tg__n_serve_opts, c);
    if (st == TG_OK) st = md_rows(b, "models[].", tg__model_opts, tg__n_model_opts, &m);
    if (st == TG_OK) st = md_rows(b, "models[].hardware.", tg__hardware_opts, tg__n_hardware_opts, &m.hw);
    if (st == TG_OK) st = md_rows(b, "models[].policy.", tg__settings_opts, tg__n_settings_opts, &m.settings);
    tg__model_cfg_free(&m);
    tg__config_unref(c);
    return st;
}
