/* gateway/catalog.h: the bodies of the three endpoints that describe the
 * served models (catalog.c): /v1/models, /api.json, /v1/limits, and the
 * models' part of /metrics. */
#ifndef TG_GATEWAY_CATALOG_H
#define TG_GATEWAY_CATALOG_H

#include <event2/buffer.h>

typedef struct tg__server tg__server;

void tg__catalog_models(tg__server *s, struct evbuffer *out);
void tg__catalog_api_json(tg__server *s, const char *host_header, struct evbuffer *out);
void tg__catalog_limits(tg__server *s, struct evbuffer *out);
/* The per-model limit gauges that end the /metrics text. */
void tg__catalog_metrics(tg__server *s, struct evbuffer *out);

#endif
