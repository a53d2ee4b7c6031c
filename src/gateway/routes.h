/* gateway/routes.h: which handler answers a request (routes.c). */
#ifndef TG_GATEWAY_ROUTES_H
#define TG_GATEWAY_ROUTES_H

#include <stddef.h>

#include "gateway/config.h"
#include "gateway/engine.h"

typedef struct tg__client tg__client;

enum { TG__ROUTE_UNKNOWN = -1, TG__ROUTE_OWN = 0 }; /* tg__route_hit.kind besides engine.h's TG__ER_* */

/* Where a request goes. */
typedef struct tg__route_hit {
    int route;           /* TG__R_* (metrics.h); TG__R_NONE: refused or unknown */
    int kind;            /* TG__ROUTE_OWN, an engine route's TG__ER_*, or TG__ROUTE_UNKNOWN */
    const char *allow;   /* the one method the route takes ("GET" admits HEAD); NULL: any */
    const char *instead; /* TG__ER_REFUSE: the budgeted route to use, or NULL */
    int wrong_method;    /* the path is a route, not for this method (405, allow says which) */
} tg__route_hit;

/* The route of a canonical request target (path.h; its query ignored) and
 * method: tokgate's own routes, then cfg's passthrough_paths, then the
 * engine's table (engine.h; e NULL: every adapter's). */
void tg__route_lookup(const tg__config *cfg, const tg__engine *e, const char *target, size_t n, const char *method,
                      size_t method_len, tg__route_hit *out);
/* 1 when `key` is one of cfg's API keys; the time depends only on the
 * configured keys' lengths, never on how much of `key` matches. */
int tg__api_key_ok(const tg__config *cfg, const char *key, size_t len);

/* A complete request on `c`: route it, check its key, answer or relay it. */
void tg__route_dispatch(tg__client *c);

#endif
