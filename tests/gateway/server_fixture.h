/* server_fixture.h: a daemon state (tg__server) without a loop or sockets,
 * built from `tokgate serve` flags, for the unit tests of the files that
 * read it (models.c, live_limits.c, catalog.c, metrics.c). Discovery's
 * findings are planted by hand with fx_upinfo. */
#ifndef TG_TEST_SERVER_FIXTURE_H
#define TG_TEST_SERVER_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "gateway/config.h"
#include "gateway/config_load.h"
#include "gateway/discovery.h"
#include "gateway/log.h"
#include "gateway/modelfiles.h"
#include "gateway/models.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "gateway/vram.h"

/* argv after "serve", NULL-terminated. 0 on success. */
static inline int fx_server(tg__server *s, const char *const *args) {
    char *argv[64];
    int argc = 0;
    argv[argc++] = (char *)(uintptr_t)"serve";
    for (size_t i = 0; args[i] && argc < 63; i++) argv[argc++] = (char *)(uintptr_t)args[i];
    argv[argc] = NULL;
    memset(s, 0, sizeof *s);
    tg_error err;
    if (tg__config_from_args(argc, argv, &s->cfg, &err) != TG_OK) {
        fprintf(stderr, "fx_server: %s\n", err.msg);
        return -1;
    }
    tg__log_set_quiet(1);
    return 0;
}

/* What discovery would have learned of the first section's upstream:
 * `kind` the engine it recognised (engine.h name, or NULL), `models_json`
 * the /v1/models "data" array (or NULL), n_ctx and slots llama-server's
 * /props figures (0: none; given, they make it llama-server). */
static inline tg__upinfo *fx_upinfo(tg__server *s, const char *kind, const char *models_json, uint64_t n_ctx,
                             uint64_t slots) {
    tg__pool *p = tg__pool_get(&s->pools, s->cfg->models[0].url.host, s->cfg->models[0].url.port);
    tg__upinfo *u = calloc(1, sizeof *u);
    u->pool_key = strdup(p->key);
    u->engine = tg__engine_find(kind);
    u->models = models_json ? json_loads(models_json, 0, NULL) : NULL;
    if (n_ctx) { /* what llama-server's /props says, read as discovery reads it */
        json_t *props = json_pack("{s:{s:I},s:I}", "default_generation_settings", "n_ctx", (json_int_t)n_ctx,
                                  "total_slots", (json_int_t)slots);
        tg__engine_read_probe(u, "/props", props);
        json_decref(props);
    }
    u->ok = u->models != NULL;
    s->upinfo = u;
    s->n_upinfo = 1;
    return u;
}

static inline void fx_free(tg__server *s) {
    tg__models_free(s);
    tg__vram_free(s); /* the live VRAM loop's state (vram.h) */
    tg__modelfiles_free(s);
    tg__discovery_free(s);
    tg__pool_free_all(&s->pools);
    tg__metrics_free(&s->metrics);
    tg__config_unref(s->cfg);
}

#endif
