/*
 * gateway/status.h: the operator's views of the daemon (status.c):
 * GET /readyz (ready to serve: every model section discovered, every served
 * model's limits known) and GET /status (a self-contained HTML page that
 * fetches /v1/limits and /metrics and refreshes itself). routes.c calls
 * these; they read the server's model table and discovery state only.
 */
#ifndef TG_GATEWAY_STATUS_H
#define TG_GATEWAY_STATUS_H

#include <event2/buffer.h>

typedef struct tg__server tg__server;

/* Writes the readiness JSON to out; returns 200 when ready, else 503. */
int tg__status_readyz(const tg__server *s, struct evbuffer *out);
/* Writes the status page (HTML, no external assets) to out. */
void tg__status_page(struct evbuffer *out);

#endif
