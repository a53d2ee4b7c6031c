/* gateway/catalog.h: the bodies of the three endpoints that describe the
 * served models (catalog.c): /v1/models, /api.json, /v1/limits, and the
 * models' part of /metrics. */
#ifndef TG_GATEWAY_CATALOG_H
#define TG_GATEWAY_CATALOG_H

#include <event2/buffer.h>
#include <stddef.h>

typedef struct tg__server tg__server;

void tg__catalog_models(tg__server *s, struct evbuffer *out);
/* GET /v1/models/{id}: the model `id` names (a served name, alias or the
 * upstream's id) as /v1/models lists it; -1 (nothing written) when none. */
int tg__catalog_model(tg__server *s, const char *id, struct evbuffer *out);
/* `base_url` is the gateway's own root as the client reached it, without a
 * trailing slash ("https://gw.example"); "api" is it plus "/v1". */
void tg__catalog_api_json(tg__server *s, const char *base_url, struct evbuffer *out);

/* What a request says about how the client reached the gateway. Each field
 * is a header's value (NULL when absent) with its length. */
typedef struct tg__catalog_origin {
    const char *host;
    size_t host_len;
    const char *forwarded; /* RFC 7239 Forwarded: its first element's proto= and host= */
    size_t forwarded_len;
    const char *xf_proto; /* X-Forwarded-Proto (first of a list) */
    size_t xf_proto_len;
    const char *xf_host; /* X-Forwarded-Host (first of a list) */
    size_t xf_host_len;
    int trust_forwarded; /* 0: the three above are ignored */
    const char *listen_host;
    int listen_port;
} tg__catalog_origin;
/* "SCHEME://HOST[:PORT]" into out: the scheme from Forwarded proto= or
 * X-Forwarded-Proto when it is http or https, else http; the host from
 * Forwarded host=, X-Forwarded-Host, Host, the first that is a valid
 * host[:port] (a name, IPv4 or [IPv6]; never reflected unvalidated), else
 * the listen address. */
void tg__catalog_base_url(const tg__catalog_origin *o, char *out, size_t outsz);
void tg__catalog_limits(tg__server *s, struct evbuffer *out);
/* The per-model limit gauges that end the /metrics text. */
void tg__catalog_metrics(tg__server *s, struct evbuffer *out);

#endif
