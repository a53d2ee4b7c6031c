/* gateway/config.c: the serve configuration from a JSON file and flags (see
 * config.h for the format and precedence). */
#include "gateway/config.h"
#include "gateway/engine.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CONFIG_BYTES (4u << 20)

const char tg__serve_usage[] =
    "usage: tokgate serve [--config FILE] [--listen HOST:PORT] [--upstream URL]\n"
    "                     [--model PATH] [--served-name NAME] [--api-key KEY]...\n"
    "\n"
    "Runs the token gateway: an OpenAI-compatible HTTP/1.1 proxy in front of\n"
    "llama-server or vLLM that counts, budgets and refuses requests and\n"
    "advertises each model's real limits. Listens on 127.0.0.1:8000 by default.\n"
    "\n"
    "  --config FILE            JSON config (docs/gateway.md); flags override it\n"
    "  --listen HOST:PORT       address to listen on (default 127.0.0.1:8000)\n"
    "  --api-key KEY            accept only this bearer key (repeatable)\n"
    "  --log-prompts            allow prompt text in logs (off by default)\n"
    "  --quiet                  log only warnings and errors\n"
    "single model (one model section from flags):\n"
    "  --upstream URL           inference server root, e.g. http://127.0.0.1:8080\n"
    "  --model PATH             the model's GGUF file or HF directory (limits, counting)\n"
    "  --tokenizer PATH         tokenizer.json or its directory (default: --model)\n"
    "  --served-name NAME       name clients use (default: the upstream's)\n"
    "  --alias NAME             another accepted name (repeatable)\n"
    "  --upstream-model NAME    model name sent upstream\n"
    "  --upstream-api-key KEY   bearer key sent upstream\n"
    "  --context N --max-prompt-tokens N --output-reserve N   static limits\n"
    "  --free-vram-mib N[,N...]|nvml --tp N --kv-type T --min-free-mib N --activation-mib N\n"
    "  --prefill-tps X --target-prefill-s S   limits derivation inputs (as tokgate limits)\n"
    "  --overflow M --truncation M --dialect D --thinking-mode M --default-max-tokens N\n"
    "  --escalated-output-tokens N --capped-default N --output-limit N --min-max-tokens N\n"
    "  --abs-max-tokens N --min-answer-tokens N --thinking-base N   policy (as tokgate check)\n"
    "  --continuation auto|on|off   continue streams in place (escalation, thinking cut;\n"
    "                           auto: on for llama-server upstreams)\n"
    "  --engine E               llama.cpp, vllm or openai-compatible (default: discovered)\n"
    "  --thinking-open S --thinking-close S   thinking markers (<think>, </think>)\n"
    "  --reasoning-budget-message S   read by the model when its thinking budget runs out\n"
    "timeouts (seconds) and sizes:\n"
    "  --connect-timeout S (5) --first-byte-timeout S (600) --idle-timeout S (120)\n"
    "  --client-timeout S (60) --drain-timeout S (30) --discovery-interval S (30)\n"
    "  --max-body-bytes N (32 MiB) --max-header-bytes N (32 KiB) --max-headers N (100)\n"
    "  --workers N (2): threads that parse and budget request bodies over\n"
    "  --inline-body-bytes N (64 KiB), so a huge prompt never stalls the event loop\n"
    "KV admission (per upstream; prompt + max_tokens reserved per request):\n"
    "  --admission-queue N (64) requests that may wait --admission-wait-ms N (30000)\n"
    "  before 503; --admission-capacity N tokens (0: llama-server n_ctx x slots, else the context)\n"
    "\n"
    "Signals: SIGTERM/SIGINT drain in-flight requests then exit; SIGHUP reloads\n"
    "the config file and flags without dropping streams.\n";

static char *xstrdup(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    if (d) memcpy(d, s, n + 1);
    return d;
}

void tg__url_free(tg__url *u) {
    free(u->host);
    free(u->hostport);
    free(u->base_path);
    memset(u, 0, sizeof *u);
}

static int parse_port(const char *s, size_t n, int *port) {
    if (n == 0 || n > 5) return -1;
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v < 1 || v > 65535) return -1;
    *port = (int)v;
    return 0;
}

/* host[:port] at s[0..n): bracketed IPv6 allowed. */
static int split_hostport(const char *s, size_t n, char **host, int *port, int default_port) {
    const char *h = s;
    size_t hl;
    const char *rest;
    if (n && s[0] == '[') {
        const char *rb = memchr(s, ']', n);
        if (!rb) return -1;
        h = s + 1;
        hl = (size_t)(rb - h);
        rest = rb + 1;
    } else {
        const char *colon = memchr(s, ':', n);
        hl = colon ? (size_t)(colon - s) : n;
        rest = s + hl;
    }
    size_t restn = n - (size_t)(rest - s);
    if (restn) {
        if (rest[0] != ':' || parse_port(rest + 1, restn - 1, port) != 0) return -1;
    } else {
        if (default_port <= 0) return -1;
        *port = default_port;
    }
    *host = malloc(hl + 1);
    if (!*host) return -1;
    memcpy(*host, h, hl);
    (*host)[hl] = '\0';
    return 0;
}

tg_status tg__parse_hostport(const char *s, char **host, int *port, tg_error *err) {
    size_t n = strlen(s);
    int p = 0;
    if (parse_port(s, n, &p) == 0) {
        *host = xstrdup("127.0.0.1");
        *port = p;
        return *host ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (n && s[0] == ':' && parse_port(s + 1, n - 1, &p) == 0) {
        *host = xstrdup("127.0.0.1");
        *port = p;
        return *host ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    if (split_hostport(s, n, host, port, 0) != 0 || !**host) {
        if (*host) { free(*host); *host = NULL; }
        return tg_error_set(err, TG_EINVAL, "bad listen address '%s' (want HOST:PORT, port 1-65535)", s);
    }
    return TG_OK;
}

tg_status tg__url_parse(const char *s, tg__url *u, tg_error *err) {
    memset(u, 0, sizeof *u);
    if (strncmp(s, "http://", 7) != 0)
        return tg_error_set(err, TG_EINVAL, "upstream URL '%s' must start with http:// (TLS upstreams are not supported)", s);
    const char *a = s + 7;
    const char *slash = strchr(a, '/');
    size_t an = slash ? (size_t)(slash - a) : strlen(a);
    if (an == 0 || split_hostport(a, an, &u->host, &u->port, 80) != 0 || !u->host[0]) {
        tg__url_free(u);
        return tg_error_set(err, TG_EINVAL, "upstream URL '%s' has a bad host or port", s);
    }
    u->hostport = malloc(an + 1);
    const char *path = slash ? slash : "";
    size_t pl = strlen(path);
    while (pl && path[pl - 1] == '/') pl--;
    if (pl >= 3 && memcmp(path + pl - 3, "/v1", 3) == 0) pl -= 3;
    u->base_path = malloc(pl + 1);
    if (!u->hostport || !u->base_path) {
        tg__url_free(u);
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    }
    memcpy(u->hostport, a, an);
    u->hostport[an] = '\0';
    memcpy(u->base_path, path, pl);
    u->base_path[pl] = '\0';
    return TG_OK;
}

static void model_free(tg__model_cfg *m) {
    free(m->name);
    for (size_t i = 0; i < m->n_aliases; i++) free(m->aliases[i]);
    free(m->aliases);
    free(m->upstream);
    tg__url_free(&m->url);
    free(m->upstream_model);
    free(m->upstream_api_key);
    free(m->model_path);
    free(m->tokenizer_path);
    free(m->thinking_open);
    free(m->thinking_close);
    free(m->budget_message);
    free(m->engine);
    if (m->policy) json_decref(m->policy);
    if (m->hardware) json_decref(m->hardware);
}

void tg__config_ref(tg__config *c) { c->refs++; }

void tg__config_unref(tg__config *c) {
    if (!c || --c->refs > 0) return;
    free(c->listen_host);
    for (size_t i = 0; i < c->n_api_keys; i++) free(c->api_keys[i]);
    free(c->api_keys);
    for (size_t i = 0; i < c->n_models; i++) model_free(&c->models[i]);
    free(c->models);
    free(c);
}

static int push_str(char ***arr, size_t *n, const char *s) {
    char **na = realloc(*arr, (*n + 1) * sizeof *na);
    if (!na) return -1;
    *arr = na;
    na[*n] = xstrdup(s);
    if (!na[*n]) return -1;
    (*n)++;
    return 0;
}

static tg__model_cfg *add_model(tg__config *c) {
    tg__model_cfg *nm = realloc(c->models, (c->n_models + 1) * sizeof *nm);
    if (!nm) return NULL;
    c->models = nm;
    memset(&nm[c->n_models], 0, sizeof nm[0]);
    nm[c->n_models].continuation = -1;
    return &nm[c->n_models++];
}

static tg_status num_arg(const char *flag, const char *v, double lo, double hi, double *out, tg_error *err) {
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= lo && d <= hi))
        return tg_error_set(err, TG_EINVAL, "%s '%s': want a number from %g to %g", flag, v, lo, hi);
    *out = d;
    return TG_OK;
}

static tg_status json_num(json_t *v, const char *path, double lo, double hi, double *out, tg_error *err) {
    if (!json_is_number(v))
        return tg_error_set(err, TG_EINVAL, "config %s: want a number", path);
    double d = json_number_value(v);
    if (!(d >= lo && d <= hi))
        return tg_error_set(err, TG_EINVAL, "config %s: %g is outside %g..%g", path, d, lo, hi);
    *out = d;
    return TG_OK;
}

static tg_status json_strdup_at(json_t *v, const char *path, char **out, tg_error *err) {
    if (!json_is_string(v)) return tg_error_set(err, TG_EINVAL, "config %s: want a string", path);
    free(*out);
    *out = xstrdup(json_string_value(v));
    return *out ? TG_OK : tg_error_set(err, TG_ENOMEM, "out of memory");
}

static tg_status load_model(json_t *o, size_t idx, tg__model_cfg *m, tg_error *err) {
    char path[128];
    if (!json_is_object(o)) return tg_error_set(err, TG_EINVAL, "config models[%zu]: want an object", idx);
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        snprintf(path, sizeof path, "models[%zu].%s", idx, key);
        tg_status st = TG_OK;
        if (!strcmp(key, "name")) st = json_strdup_at(v, path, &m->name, err);
        else if (!strcmp(key, "upstream")) st = json_strdup_at(v, path, &m->upstream, err);
        else if (!strcmp(key, "upstream_model")) st = json_strdup_at(v, path, &m->upstream_model, err);
        else if (!strcmp(key, "upstream_api_key")) st = json_strdup_at(v, path, &m->upstream_api_key, err);
        else if (!strcmp(key, "model")) st = json_strdup_at(v, path, &m->model_path, err);
        else if (!strcmp(key, "tokenizer")) st = json_strdup_at(v, path, &m->tokenizer_path, err);
        else if (!strcmp(key, "thinking_open")) st = json_strdup_at(v, path, &m->thinking_open, err);
        else if (!strcmp(key, "thinking_close")) st = json_strdup_at(v, path, &m->thinking_close, err);
        else if (!strcmp(key, "reasoning_budget_message")) st = json_strdup_at(v, path, &m->budget_message, err);
        else if (!strcmp(key, "engine")) st = json_strdup_at(v, path, &m->engine, err);
        else if (!strcmp(key, "continuation")) {
            if (json_is_boolean(v)) m->continuation = json_is_true(v);
            else if (json_is_string(v) && !strcmp(json_string_value(v), "auto")) m->continuation = -1;
            else return tg_error_set(err, TG_EINVAL, "config %s: want true, false or \"auto\"", path);
        } else if (!strcmp(key, "aliases")) {
            size_t i;
            json_t *a;
            if (!json_is_array(v)) return tg_error_set(err, TG_EINVAL, "config %s: want an array of strings", path);
            json_array_foreach(v, i, a) {
                if (!json_is_string(a)) return tg_error_set(err, TG_EINVAL, "config %s[%zu]: want a string", path, i);
                if (push_str(&m->aliases, &m->n_aliases, json_string_value(a)) != 0)
                    return tg_error_set(err, TG_ENOMEM, "out of memory");
            }
        } else if (!strcmp(key, "limits")) {
            const char *lk;
            json_t *lv;
            if (!json_is_object(v)) return tg_error_set(err, TG_EINVAL, "config %s: want an object", path);
            json_object_foreach(v, lk, lv) {
                char p2[160];
                double d = 0;
                snprintf(p2, sizeof p2, "%s.%s", path, lk);
                if ((st = json_num(lv, p2, 1, 1e9, &d, err)) != TG_OK) return st;
                if (!strcmp(lk, "context")) m->context = (uint64_t)d;
                else if (!strcmp(lk, "input")) m->input = (uint64_t)d;
                else if (!strcmp(lk, "output")) m->output = (uint64_t)d;
                else return tg_error_set(err, TG_EINVAL, "config %s: unknown key (want context, input, output)", p2);
            }
        } else if (!strcmp(key, "policy") || !strcmp(key, "hardware")) {
            if (!json_is_object(v)) return tg_error_set(err, TG_EINVAL, "config %s: want an object", path);
            json_t **dst = !strcmp(key, "policy") ? &m->policy : &m->hardware;
            if (*dst) json_decref(*dst);
            *dst = json_deep_copy(v); /* flags may add keys */
        } else return tg_error_set(err, TG_EINVAL, "config %s: unknown key", path);
        if (st != TG_OK) return st;
    }
    if (!m->upstream) return tg_error_set(err, TG_EINVAL, "config models[%zu]: \"upstream\" is required", idx);
    return TG_OK;
}

static tg_status load_file(tg__config *c, const char *file, tg_error *err) {
    json_error_t je;
    json_t *root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return tg_error_set(err, TG_EINVAL, "config %s:%d:%d: %s", file, je.line, je.column, je.text);
    tg_status st = TG_OK;
    if (!json_is_object(root)) {
        st = tg_error_set(err, TG_EINVAL, "config %s: the top level must be an object", file);
        goto out;
    }
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        double d = 0;
        if (!strcmp(key, "listen")) {
            if (!json_is_string(v)) { st = tg_error_set(err, TG_EINVAL, "config listen: want \"HOST:PORT\""); goto out; }
            free(c->listen_host);
            c->listen_host = NULL;
            if ((st = tg__parse_hostport(json_string_value(v), &c->listen_host, &c->listen_port, err)) != TG_OK) goto out;
        } else if (!strcmp(key, "api_keys")) {
            size_t i;
            json_t *a;
            if (!json_is_array(v)) { st = tg_error_set(err, TG_EINVAL, "config api_keys: want an array of strings"); goto out; }
            json_array_foreach(v, i, a) {
                if (!json_is_string(a) || !json_string_length(a)) {
                    st = tg_error_set(err, TG_EINVAL, "config api_keys[%zu]: want a non-empty string", i);
                    goto out;
                }
                if (push_str(&c->api_keys, &c->n_api_keys, json_string_value(a)) != 0) {
                    st = tg_error_set(err, TG_ENOMEM, "out of memory");
                    goto out;
                }
            }
        } else if (!strcmp(key, "log_prompts")) {
            if (!json_is_boolean(v)) { st = tg_error_set(err, TG_EINVAL, "config log_prompts: want true or false"); goto out; }
            c->log_prompts = json_is_true(v);
        } else if (!strcmp(key, "discovery_interval")) {
            if ((st = json_num(v, key, 1, 86400, &c->discovery_interval, err)) != TG_OK) goto out;
        } else if (!strcmp(key, "admission")) {
            const char *ak;
            json_t *av;
            if (!json_is_object(v)) { st = tg_error_set(err, TG_EINVAL, "config admission: want an object"); goto out; }
            json_object_foreach(v, ak, av) {
                char p2[96];
                snprintf(p2, sizeof p2, "admission.%s", ak);
                if (!strcmp(ak, "queue")) {
                    if ((st = json_num(av, p2, 0, 1e6, &d, err)) != TG_OK) goto out;
                    c->admission_queue = (size_t)d;
                } else if (!strcmp(ak, "wait_ms")) {
                    if ((st = json_num(av, p2, 0, 864e5, &d, err)) != TG_OK) goto out;
                    c->admission_wait = d / 1000.0;
                } else if (!strcmp(ak, "capacity")) {
                    if ((st = json_num(av, p2, 0, 1e12, &d, err)) != TG_OK) goto out;
                    c->admission_capacity = (uint64_t)d;
                } else { st = tg_error_set(err, TG_EINVAL, "config %s: unknown key", p2); goto out; }
            }
        } else if (!strcmp(key, "timeouts")) {
            const char *tk;
            json_t *tv;
            if (!json_is_object(v)) { st = tg_error_set(err, TG_EINVAL, "config timeouts: want an object"); goto out; }
            json_object_foreach(v, tk, tv) {
                char p2[96];
                snprintf(p2, sizeof p2, "timeouts.%s", tk);
                if ((st = json_num(tv, p2, 0.001, 86400, &d, err)) != TG_OK) goto out;
                if (!strcmp(tk, "connect")) c->connect_timeout = d;
                else if (!strcmp(tk, "first_byte")) c->first_byte_timeout = d;
                else if (!strcmp(tk, "idle")) c->idle_timeout = d;
                else if (!strcmp(tk, "client")) c->client_timeout = d;
                else if (!strcmp(tk, "drain")) c->drain_timeout = d;
                else { st = tg_error_set(err, TG_EINVAL, "config %s: unknown key", p2); goto out; }
            }
        } else if (!strcmp(key, "limits")) {
            const char *lk;
            json_t *lv;
            if (!json_is_object(v)) { st = tg_error_set(err, TG_EINVAL, "config limits: want an object"); goto out; }
            json_object_foreach(v, lk, lv) {
                char p2[96];
                snprintf(p2, sizeof p2, "limits.%s", lk);
                if ((st = json_num(lv, p2, 1, 1e10, &d, err)) != TG_OK) goto out;
                if (!strcmp(lk, "max_body_bytes")) c->max_body = (size_t)d;
                else if (!strcmp(lk, "max_header_bytes")) c->max_head = (size_t)d;
                else if (!strcmp(lk, "max_headers")) c->max_headers = (size_t)d;
                else if (!strcmp(lk, "max_request_line")) c->max_line = (size_t)d;
                else { st = tg_error_set(err, TG_EINVAL, "config %s: unknown key", p2); goto out; }
            }
        } else if (!strcmp(key, "models")) {
            size_t i;
            json_t *m;
            if (!json_is_array(v)) { st = tg_error_set(err, TG_EINVAL, "config models: want an array of model sections"); goto out; }
            json_array_foreach(v, i, m) {
                tg__model_cfg *mc = add_model(c);
                if (!mc) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto out; }
                if ((st = load_model(m, i, mc, err)) != TG_OK) goto out;
            }
        } else {
            st = tg_error_set(err, TG_EINVAL, "config %s: unknown key '%s'", file, key);
            goto out;
        }
    }
out:
    json_decref(root);
    if (st != TG_OK && err && strncmp(err->msg, "config ", 7) == 0 && !strstr(err->msg, file))
        tg_error_wrap(err, "%s", file);
    return st;
}

tg_status tg__config_from_args(int argc, char **argv, tg__config **out, tg_error *err) {
    tg__config *c = calloc(1, sizeof *c);
    if (!c) return tg_error_set(err, TG_ENOMEM, "out of memory");
    c->refs = 1;
    c->listen_port = 8000;
    c->connect_timeout = 5;
    c->first_byte_timeout = 600;
    c->idle_timeout = 120;
    c->client_timeout = 60;
    c->drain_timeout = 30;
    c->discovery_interval = 30;
    c->max_body = 32u << 20;
    c->max_head = 32u << 10;
    c->max_headers = 100;
    c->max_line = 8192;
    c->high_watermark = 256u << 10;
    c->workers = 2;
    c->inline_max = 64u << 10;
    c->admission_queue = 64;
    c->admission_wait = 30;
    tg_status st = TG_OK;
    const char *file = NULL;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--config") && i + 1 < argc) file = argv[++i];
    if (file && (st = load_file(c, file, err)) != TG_OK) goto fail;

    tg__model_cfg *fm = NULL; /* the model section built from flags */
    char *api_flag_seen = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        double d = 0;
        int takes = 1;
        if (!strcmp(a, "--log-prompts")) { c->log_prompts = 1; takes = 0; }
        else if (!strcmp(a, "--quiet")) { c->quiet = 1; takes = 0; }
        else if (strncmp(a, "--", 2) != 0) {
            st = tg_error_set(err, TG_EINVAL, "unexpected argument '%s'", a);
            goto fail;
        }
        if (!takes) continue;
        if (!v) { st = tg_error_set(err, TG_EINVAL, "%s needs a value", a); goto fail; }
        i++;
        if (!strcmp(a, "--config")) continue;
        if (!strcmp(a, "--listen")) {
            free(c->listen_host);
            c->listen_host = NULL;
            if ((st = tg__parse_hostport(v, &c->listen_host, &c->listen_port, err)) != TG_OK) goto fail;
            continue;
        }
        if (!strcmp(a, "--api-key")) {
            if (!*v) { st = tg_error_set(err, TG_EINVAL, "--api-key: empty key"); goto fail; }
            if (!api_flag_seen) { /* flags replace the file's keys */
                for (size_t k = 0; k < c->n_api_keys; k++) free(c->api_keys[k]);
                c->n_api_keys = 0;
                api_flag_seen = argv[i];
            }
            if (push_str(&c->api_keys, &c->n_api_keys, v) != 0) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto fail; }
            continue;
        }
        struct { const char *flag; double *dst; double lo, hi; } nums[] = {
            {"--connect-timeout", &c->connect_timeout, 0.001, 86400},
            {"--first-byte-timeout", &c->first_byte_timeout, 0.001, 86400},
            {"--idle-timeout", &c->idle_timeout, 0.001, 86400},
            {"--client-timeout", &c->client_timeout, 0.001, 86400},
            {"--drain-timeout", &c->drain_timeout, 0, 86400},
            {"--discovery-interval", &c->discovery_interval, 0.1, 86400},
        };
        int matched = 0;
        for (size_t k = 0; k < sizeof nums / sizeof nums[0]; k++) {
            if (strcmp(a, nums[k].flag)) continue;
            if ((st = num_arg(a, v, nums[k].lo, nums[k].hi, nums[k].dst, err)) != TG_OK) goto fail;
            matched = 1;
        }
        if (matched) continue;
        struct { const char *flag; size_t *dst; double lo, hi; } sizes[] = {
            {"--max-body-bytes", &c->max_body, 1, 1e10},
            {"--max-header-bytes", &c->max_head, 256, 1e7},
            {"--max-headers", &c->max_headers, 1, 10000},
            {"--max-request-line", &c->max_line, 16, 1e7},
            {"--high-watermark", &c->high_watermark, 1024, 1e9},
            {"--workers", &c->workers, 0, 64},
            {"--inline-body-bytes", &c->inline_max, 0, 1e10},
        };
        for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
            if (strcmp(a, sizes[k].flag)) continue;
            if ((st = num_arg(a, v, sizes[k].lo, sizes[k].hi, &d, err)) != TG_OK) goto fail;
            *sizes[k].dst = (size_t)d;
            matched = 1;
        }
        if (matched) continue;
        if (!strcmp(a, "--admission-queue") || !strcmp(a, "--admission-wait-ms") || !strcmp(a, "--admission-capacity")) {
            if ((st = num_arg(a, v, 0, 1e12, &d, err)) != TG_OK) goto fail;
            if (a[12] == 'q') c->admission_queue = (size_t)d;
            else if (a[12] == 'w') c->admission_wait = d / 1000.0;
            else c->admission_capacity = (uint64_t)d;
            continue;
        }
        /* single-model flags */
        static const char *const model_flags[] = {"--upstream", "--model", "--tokenizer", "--served-name", "--alias",
                                                  "--upstream-model", "--upstream-api-key", "--context",
                                                  "--max-prompt-tokens", "--output-reserve", "--continuation",
                                                  "--thinking-open", "--thinking-close", "--reasoning-budget-message",
                                                  "--engine"};
        for (size_t k = 0; k < sizeof model_flags / sizeof model_flags[0]; k++)
            if (!strcmp(a, model_flags[k])) matched = 1;
        /* limits-derivation and policy flags, as in tokgate limits / tokgate check */
        static const struct { const char *flag, *key; int section, kind; } kv[] = {
            {"--free-vram-mib", "free_vram_mib", 0, 2}, {"--tp", "tp", 0, 1}, {"--kv-type", "kv_type", 0, 0},
            {"--min-free-mib", "min_free_mib", 0, 1}, {"--activation-mib", "activation_mib", 0, 1},
            {"--prefill-tps", "prefill_tps", 0, 3}, {"--target-prefill-s", "target_prefill_s", 0, 3},
            {"--overflow", "overflow", 1, 0}, {"--truncation", "truncation", 1, 0}, {"--dialect", "dialect", 1, 0},
            {"--thinking-mode", "thinking_mode", 1, 0}, {"--default-max-tokens", "default_max_tokens", 1, 1},
            {"--escalated-output-tokens", "escalated_output_tokens", 1, 1}, {"--capped-default", "capped_default", 1, 1},
            {"--output-limit", "output_limit", 1, 1}, {"--min-max-tokens", "min_max_tokens", 1, 1},
            {"--abs-max-tokens", "abs_max_tokens", 1, 1}, {"--min-answer-tokens", "min_answer_tokens", 1, 1},
            {"--thinking-base", "thinking_base", 1, 1},
        };
        size_t ki = 0;
        while (ki < sizeof kv / sizeof kv[0] && strcmp(a, kv[ki].flag)) ki++;
        if (!matched && ki == sizeof kv / sizeof kv[0]) {
            st = tg_error_set(err, TG_EINVAL, "unknown option '%s' (see tokgate serve --help)", a);
            goto fail;
        }
        if (!fm && !(fm = add_model(c))) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto fail; }
        if (!matched) {
            json_t **sec = kv[ki].section ? &fm->policy : &fm->hardware;
            if (!*sec) *sec = json_object();
            json_t *val = NULL;
            if (kv[ki].kind == 0) val = json_string(v);
            else if (kv[ki].kind == 3) {
                if ((st = num_arg(a, v, 1e-9, 1e12, &d, err)) != TG_OK) goto fail;
                val = json_real(d);
            } else if (kv[ki].kind == 1) {
                if ((st = num_arg(a, v, 0, 1e15, &d, err)) != TG_OK) goto fail;
                val = json_integer((json_int_t)d);
            } else if (!strcmp(v, "nvml")) { /* read live from NVML at each derivation */
                val = json_string("nvml");
            } else { /* a comma-separated list of MiB figures, one per card */
                val = json_array();
                const char *p = v;
                while (val && *p) {
                    char *end = NULL;
                    double x = strtod(p, &end);
                    if (end == p || x < 0 || (*end && *end != ',')) {
                        json_decref(val);
                        st = tg_error_set(err, TG_EINVAL, "%s '%s': want MiB figures separated by commas", a, v);
                        goto fail;
                    }
                    json_array_append_new(val, json_integer((json_int_t)x));
                    p = *end ? end + 1 : end;
                }
            }
            if (!*sec || !val || json_object_set_new(*sec, kv[ki].key, val) != 0) {
                st = tg_error_set(err, TG_ENOMEM, "out of memory");
                goto fail;
            }
            continue;
        }
        char **dst = NULL;
        if (!strcmp(a, "--upstream")) dst = &fm->upstream;
        else if (!strcmp(a, "--model")) dst = &fm->model_path;
        else if (!strcmp(a, "--tokenizer")) dst = &fm->tokenizer_path;
        else if (!strcmp(a, "--served-name")) dst = &fm->name;
        else if (!strcmp(a, "--upstream-model")) dst = &fm->upstream_model;
        else if (!strcmp(a, "--upstream-api-key")) dst = &fm->upstream_api_key;
        else if (!strcmp(a, "--thinking-open")) dst = &fm->thinking_open;
        else if (!strcmp(a, "--thinking-close")) dst = &fm->thinking_close;
        else if (!strcmp(a, "--reasoning-budget-message")) dst = &fm->budget_message;
        else if (!strcmp(a, "--engine")) dst = &fm->engine;
        if (!strcmp(a, "--continuation")) {
            if (!strcmp(v, "auto")) fm->continuation = -1;
            else if (!strcmp(v, "on")) fm->continuation = 1;
            else if (!strcmp(v, "off")) fm->continuation = 0;
            else { st = tg_error_set(err, TG_EINVAL, "--continuation '%s': want auto, on or off", v); goto fail; }
        } else if (dst) {
            free(*dst);
            if (!(*dst = xstrdup(v))) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto fail; }
        } else if (!strcmp(a, "--alias")) {
            if (push_str(&fm->aliases, &fm->n_aliases, v) != 0) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto fail; }
        } else {
            if ((st = num_arg(a, v, 1, 1e9, &d, err)) != TG_OK) goto fail;
            if (!strcmp(a, "--context")) fm->context = (uint64_t)d;
            else if (!strcmp(a, "--max-prompt-tokens")) fm->input = (uint64_t)d;
            else fm->output = (uint64_t)d;
        }
    }
    if (fm && !fm->upstream) { st = tg_error_set(err, TG_EINVAL, "the single-model flags need --upstream URL"); goto fail; }
    if (!c->listen_host && !(c->listen_host = xstrdup("127.0.0.1"))) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto fail; }
    if (c->n_models == 0) { st = tg_error_set(err, TG_EINVAL, "no model to serve: give --upstream URL or a --config with \"models\""); goto fail; }
    for (size_t i = 0; i < c->n_models; i++) {
        tg__model_cfg *m = &c->models[i];
        if ((st = tg__url_parse(m->upstream, &m->url, err)) != TG_OK) goto fail;
        for (size_t j = 0; j < i; j++)
            if (m->name && c->models[j].name && !strcmp(m->name, c->models[j].name)) {
                st = tg_error_set(err, TG_EINVAL, "model name '%s' is served twice", m->name);
                goto fail;
            }
        if (m->engine && !tg__engine_find(m->engine)) {
            st = tg_error_set(err, TG_EINVAL, "model %s: engine '%s': want llama.cpp, vllm or openai-compatible",
                              m->name ? m->name : "(flags)", m->engine);
            goto fail;
        }
        if (m->context && m->output && m->output > m->context) {
            st = tg_error_set(err, TG_EINVAL, "model %s: output %llu exceeds context %llu", m->name ? m->name : "(flags)",
                              (unsigned long long)m->output, (unsigned long long)m->context);
            goto fail;
        }
    }
    *out = c;
    return TG_OK;
fail:
    tg__config_unref(c);
    return st;
}
