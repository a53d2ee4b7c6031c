/*
 * gateway/config.h: what `tokgate serve` runs with, from a JSON config file
 * and/or command-line flags (docs/gateway.md has the file format).
 *
 *   {
 *     "listen": "127.0.0.1:8000",
 *     "api_keys": ["sk-local-1"],          client keys; none = no auth
 *     "log_prompts": false,
 *     "log_format": "text",                text or json
 *     "private_catalog": false, "ignore_forwarded": false,
 *     "cors_origins": ["https://app.example"],
 *     "timeouts": {"connect": 5, "first_byte": 600, "idle": 120,
 *                  "client": 60, "drain": 30},          seconds
 *     "limits": {"max_body_bytes": 33554432, "max_header_bytes": 32768,
 *                "max_headers": 100, "max_request_line": 8192},
 *     "discovery_interval": 30,
 *     "admission": {"queue": 64, "wait_ms": 30000, "capacity": 0},
 *     "routing": {"policy": "affinity", "load_bound": 1.25},   replicas
 *     "models": [
 *       {"name": "qwen3-8b", "aliases": ["qwen3"],
 *        "upstream": "http://127.0.0.1:8080", "upstream_model": "qwen3",
 *          (or "upstreams": ["http://a:8080", "http://b:8080"]: replicas)
 *        "upstream_api_key": "...", "model": "/models/qwen3-8b.gguf",
 *        "tokenizer": "/models/qwen3-8b/tokenizer.json",
 *        "limits": {"context": 32768, "input": 24576, "output": 8192},
 *        "hardware": {"free_vram_mib": [24000, 24000], "tp": 2, "kv_type": "q8_0"},
 *        "policy": {"overflow": "clamp", "default_max_tokens": 8192}}
 *     ]
 *   }
 *
 * Every key has a flag and every flag a key, both read through the option
 * tables of gateway/options.h (bounds, help text and docs/gateway.md's key
 * table come from there). Flags override the file: --listen, --api-key
 * (repeatable; replaces the file's keys), timeouts, sizes, admission, and the
 * single-model flags --upstream/--model/--served-name/... which add one model
 * section (its "policy" and "hardware" through the same tables as tokgate
 * check and tokgate limits). A model section without a name takes its names
 * from the upstream (discovery). Unknown keys are refused with their path, so
 * a typo does not silently change nothing.
 *
 * A config is immutable once built and reference-counted: a reload (SIGHUP)
 * builds a new one from the same file and flags while in-flight requests keep
 * the old one until they end.
 */
#ifndef TG_GATEWAY_CONFIG_H
#define TG_GATEWAY_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "limits/limits_keys.h"
#include "tokgate/error.h"
#include "tokgate/policy.h"

typedef struct tg__url {
    char *host;      /* without brackets */
    int port;
    char *hostport;  /* for the Host header */
    char *base_path; /* "" or "/prefix" without a trailing slash */
} tg__url;

typedef struct tg__model_cfg {
    char *name; /* NULL: discovered from the upstream */
    char **aliases;
    size_t n_aliases;
    char *upstream;
    tg__url url;
    char *upstream_model;   /* "model" sent upstream; NULL = as the client sent it */
    char *upstream_api_key; /* Authorization sent upstream; NULL = none */
    char *model_path;       /* GGUF file or HF directory; NULL = none */
    char *tokenizer_path;   /* tokenizer.json or its directory; NULL = model_path */
    uint64_t context, input, output; /* static limits; 0 = not set */
    tg_model_settings settings; /* "policy": defaults where the section says nothing */
    uint64_t settings_given;    /* bit i: tg__settings_opts[i] was set (thinking_base: else the catalogue) */
    int continuation;       /* continue streams in place (escalation, thinking cut):
                               -1 auto (llama-server upstreams), 0 off, 1 on */
    char *thinking_open;    /* thinking markers; NULL: "<think>", "</think>" */
    char *thinking_close;
    char *budget_message;   /* read by the model when its thinking is cut; NULL none */
    int engine;             /* "engine": 0 auto (discovered), i + 1 the adapter
                               tg__engines()[i] (engine.h tg__engine_parse) */
    tg__limits_inputs hw;   /* "hardware": limits derivation inputs (free_vram_mib,
                               tp, kv_type, min_free_mib, activation_mib,
                               prefill_tps, target_prefill_s) */
    uint64_t hw_given;      /* bit i: tg__hardware_opts[i] was set */
    char *summary_prompt;   /* truncation summarize: the summary call's prompt; NULL the default */
    /* Replicas (issue 14; docs/gateway.md "Replicas"): more upstreams that
     * serve the same model ("upstreams": [URL, ...], or --upstream given more
     * than once); `upstream`/`url` above is the first of them. */
    char **more_upstreams;
    tg__url *more_urls;
    size_t n_more;
    int upstreams_key;      /* the section used "upstreams" (then "upstream" is refused) */
} tg__model_cfg;

#define TG__MAX_REPLICAS 32 /* upstreams per model section */

/* A section's upstreams: the first is `url`. */
static inline size_t tg__mc_n_urls(const tg__model_cfg *m) { return m->upstream ? 1 + m->n_more : 0; }
static inline const tg__url *tg__mc_url(const tg__model_cfg *m, size_t i) {
    return i == 0 ? &m->url : &m->more_urls[i - 1];
}

typedef struct tg__config {
    int refs;
    char *listen_host;
    int listen_port;
    char **api_keys;
    size_t n_api_keys;
    int log_prompts;
    int log_format; /* TG__LOG_TEXT or TG__LOG_JSON (log.h) */
    int quiet;
    char *access_log;          /* the access lines' file; NULL: stderr with the log lines; "off": none */
    size_t access_log_buffer;  /* bytes of access lines held for one write (flushed each second); 0: a write per line */
    int private_catalog;  /* /api.json needs an API key too (default: readable without one) */
    int ignore_forwarded; /* URLs ignore X-Forwarded-Proto/-Host and Forwarded (default: honoured, validated) */
    char **cors_origins;  /* origins answered with CORS headers ("*": any); none = no CORS */
    size_t n_cors_origins;
    int allow_unauthenticated; /* a non-loopback listen address without api_keys is allowed (default: refused) */
    int allow_admin_routes;    /* the engine's state-changing routes (POST /slots/..., /props, /lora-adapters)
                                  pass through (default: 403) */
    char **passthrough_paths;  /* more exact paths passed through to the upstream (any method) */
    size_t n_passthrough_paths;
    double connect_timeout, first_byte_timeout, idle_timeout, client_timeout, drain_timeout;
    /* A request head's and body's total deadlines (Apache mod_reqtimeout's
     * header=20-40,MinRate=500 body=20,MinRate=500): the initial seconds,
     * extended by 1 s per min_rate bytes received, up to the max (0: none). */
    double header_timeout, header_timeout_max, body_timeout, body_timeout_max;
    double min_rate;           /* bytes per second; 0: no extension */
    size_t max_connections;    /* open client connections; 0: from RLIMIT_NOFILE (daemon.c) */
    double discovery_interval;
    double discovery_wait; /* a request for a model whose limits are not known waits this long, then 503 */
    /* issue 20, the live VRAM loop (vram.h): seconds between NVML readings,
     * the readings a card set's figure is the minimum of, and the MiB by
     * which that minimum must move before the figure in use follows. */
    double vram_interval;
    size_t vram_window;
    uint64_t vram_hysteresis_mib;
    double engine_count_timeout; /* the engine's own count (engine_count.h): its round trip's limit; 0: never asked */
    size_t max_body, max_head, max_headers, max_line;
    size_t high_watermark; /* client output bytes at which upstream reading pauses */
    size_t workers;        /* threads for heavy request work (0: all on the loop) */
    size_t inline_max;     /* request bodies up to this size are handled on the loop */
    size_t admission_queue;     /* requests that may wait for KV room per upstream (0: none wait) */
    double admission_wait;      /* seconds a request may wait before 503 */
    uint64_t admission_capacity; /* tokens per upstream; 0: discovered (n_ctx x slots) or the context */
    double admission_share;      /* issue 14: fraction of each engine this gateway may use (1: all) */
    double admission_engine_poll; /* issue 14: seconds between readings of the engine's state (0: off) */
    double answer_timeout;      /* an answer body's whole duration, seconds (0: none) */
    double answer_min_rate;     /* bytes/s an answer body averages per idle-timeout window (0: none) */
    size_t upstream_max_conns;  /* connections per upstream (0: twice the engine's slots, else no cap) */
    size_t max_buffered;        /* request + answer bytes held across all connections (0: from memory) */
    /* thinking_mode adaptive (tokgate/adaptive.h; gateway/adaptive.h): read at start */
    char *adaptive_state_file;     /* the learned budgets' file; NULL: kept in memory only */
    uint32_t adaptive_quantile;    /* ppm; 900000 = p90 */
    uint32_t adaptive_min_samples; /* samples before a class's quantile replaces the catalogue */
    double adaptive_save_interval; /* seconds between saves (and one at exit) */
    tg__model_cfg *models;
    size_t n_models;
    size_t summary_cache;       /* summaries kept (summary.h), 256 */
    double summary_timeout;     /* the summary call's deadline, seconds (60) */
    /* replicas (route_pick.h): which replica a request goes to */
    int route_policy;           /* TG__ROUTE_AFFINITY, _LEAST_LOADED or _ROUND_ROBIN */
    double route_load_bound;    /* affinity: a replica takes a key while its load <= this x the average */
} tg__config;

void tg__config_ref(tg__config *c);
void tg__config_unref(tg__config *c);

/* A config holding only the defaults (refs 1), or NULL without memory. */
tg__config *tg__config_new(void);
/* Appends a model section with its defaults; NULL without memory. */
tg__model_cfg *tg__config_add_model(tg__config *c);
/* A model section's defaults (continuation auto, the policy's and the
 * derivation's defaults), and what it owns freed. */
void tg__model_cfg_init(tg__model_cfg *m);
void tg__model_cfg_free(tg__model_cfg *m);

/* Parses "http://host[:port][/base]" (a trailing "/v1" is dropped: the base
 * is the server root). */
tg_status tg__url_parse(const char *s, tg__url *u, tg_error *err);
void tg__url_free(tg__url *u);
/* "HOST:PORT", "[v6]:PORT" or ":PORT"/"PORT" (host 127.0.0.1). */
tg_status tg__parse_hostport(const char *s, char **host, int *port, tg_error *err);

#endif
