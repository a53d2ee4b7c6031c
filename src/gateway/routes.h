/* gateway/routes.h: which handler answers a request (routes.c). */
#ifndef TG_GATEWAY_ROUTES_H
#define TG_GATEWAY_ROUTES_H

typedef struct tg__client tg__client;

/* A complete request on `c`: route it, check its key, answer or relay it. */
void tg__route_dispatch(tg__client *c);

#endif
