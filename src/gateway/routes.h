/* gateway/routes.h: which handler answers a request (routes.c). */
#ifndef TG_GATEWAY_ROUTES_H
#define TG_GATEWAY_ROUTES_H

#include <stddef.h>

#include "gateway/config.h"

typedef struct tg__client tg__client;

/* The route of a request target (its query ignored) and the one method it
 * takes there ("GET" also admits HEAD; NULL for pass-through). */
int tg__route_match(const char *target, size_t n, const char **allow);
/* 1 when `key` is one of cfg's API keys; the time depends only on the
 * configured keys' lengths, never on how much of `key` matches. */
int tg__api_key_ok(const tg__config *cfg, const char *key, size_t len);

/* A complete request on `c`: route it, check its key, answer or relay it. */
void tg__route_dispatch(tg__client *c);

#endif
