/*
 * gateway/engine_poll.h: reads each engine's live state (busy slots,
 * queued requests) every admission.engine_poll_ms for admission, so that
 * several gateways on one engine never over-commit it (engine_poll.c;
 * issue 14 item 3).
 */
#ifndef TG_GATEWAY_ENGINE_POLL_H
#define TG_GATEWAY_ENGINE_POLL_H

#include <stdint.h>

#include "gateway/config.h"

typedef struct tg__server tg__server;
typedef struct tg__pool tg__pool;

/* Starts (or, after a reload, restarts or stops) the poll timer. */
void tg__engine_poll_start(tg__server *s);
void tg__engine_poll_free(tg__server *s);
/* Before an acquire: the upstream's KV capacity (tokens, before the share),
 * its slots when the slot gate is on (admission.share below 1 or the poll
 * on) and the share, into pool->adm (tg__adm_configure). */
void tg__fleet_admission(tg__server *s, const tg__config *cfg, tg__pool *pool, uint64_t capacity);

#endif
