/*
 * gateway/discovery.h: what each upstream says it serves (discovery.c).
 *
 * At start and every discovery_interval seconds (sooner while an upstream
 * has not answered) each upstream is asked what it serves (GET /v1/models
 * and every engine adapter's probe paths, engine.h); the answers land
 * in the server's tg__upinfo list, and the server's on_discovered callback
 * (server.c: rebuild the model table) runs once an upstream's probes are
 * all back. Discovery calls nothing above it by name.
 */
#ifndef TG_GATEWAY_DISCOVERY_H
#define TG_GATEWAY_DISCOVERY_H

#include <jansson.h>
#include <stdint.h>

#include "gateway/engine.h"

typedef struct tg__server tg__server;

/* tg__upinfo, what discovery learned about one upstream, is engine.h's:
 * the adapters' probe readers fill it. */

/* Starts (or restarts, after a reload) the discovery timer. */
void tg__discovery_start(tg__server *s);
tg__upinfo *tg__upinfo_find(const tg__server *s, const char *pool_key);
void tg__discovery_free(tg__server *s);
/* The next discovery round within `secs` (a replica went out of service:
 * the active check that brings it back, health.h). */
void tg__discovery_soon(tg__server *s, double secs);

#endif
