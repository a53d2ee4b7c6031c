/*
 * gateway/discovery.h: what each upstream says it serves (discovery.c).
 *
 * At start and every discovery_interval seconds (sooner while an upstream
 * has not answered) each upstream is asked what it serves; the answers land
 * in the server's tg__upinfo list, and the server's on_discovered callback
 * (server.c: rebuild the model table) runs once an upstream's probes are
 * all back. Discovery calls nothing above it by name.
 */
#ifndef TG_GATEWAY_DISCOVERY_H
#define TG_GATEWAY_DISCOVERY_H

#include <jansson.h>
#include <stdint.h>

typedef struct tg__server tg__server;

typedef struct tg__upinfo {   /* what discovery learned about one upstream */
    char *pool_key;
    char *kind;               /* "llama.cpp", "vllm", "openai-compatible" */
    uint64_t n_ctx;           /* llama-server per-slot context (/props) */
    uint64_t total_slots;
    char *model_path;         /* llama-server /props model_path */
    json_t *models;           /* the upstream's /v1/models "data" array */
    double prefill_tps_ema;   /* prefill tokens/s, EMA over answers' timings; 0: none yet */
    uint64_t prefill_samples;
    int ok;                   /* last discovery succeeded */
    double last_ok;
    int in_flight;
} tg__upinfo;

/* Starts (or restarts, after a reload) the discovery timer. */
void tg__discovery_start(tg__server *s);
tg__upinfo *tg__upinfo_find(const tg__server *s, const char *pool_key);
void tg__discovery_free(tg__server *s);

#endif
