/*
 * gateway/server.h: the daemon's shared state, one struct. daemon.c owns
 * its lifetime (event base, listener, signals, start and drain); the layers
 * below read what they need of it and reach back up only through callbacks
 * it hands them (client hooks, discovery's on_discovered). This header
 * includes only what the struct holds, so any layer may include it without
 * closing a circle.
 *
 * Threads: one event loop; heavy request work (parsing, counting) runs on
 * worker threads (workers.h) against a held model table and config.
 */
#ifndef TG_GATEWAY_SERVER_H
#define TG_GATEWAY_SERVER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stddef.h>

#include "gateway/bufcap.h"
#include "gateway/config.h"
#include "gateway/log.h"
#include "gateway/metrics.h"
#include "gateway/upstream.h"

typedef struct tg__server tg__server;
typedef struct tg__client tg__client;
typedef struct tg__model_table tg__model_table;
typedef struct tg__modelfile tg__modelfile;
typedef struct tg__upinfo tg__upinfo;
typedef struct tg__client_hooks tg__client_hooks;

struct tg__server {
    struct event_base *base;
    int nvml_note_said; /* "no NVML" logged once (live_limits.c) */
    struct evconnlistener *listener;
    int listen_public; /* the listener's address is not loopback (daemon.c: keys or allow_unauthenticated) */
    /* The accept loop (accept.c): the cap in force, whether the listener is
     * enabled, the EMFILE back-off and its rate-limited warnings. */
    size_t max_conns;
    int accepting, accept_backoff;
    double accept_delay;
    struct event *ev_accept_retry;
    tg__log_limit accept_log, cap_log;
    tg__config *cfg;
    int argc;
    char **argv;
    struct event *ev_term, *ev_int, *ev_hup, *ev_drain, *ev_discover;
    tg__client *clients; /* all open client connections */
    size_t n_clients;
    const tg__client_hooks *client_hooks; /* what a client calls up into */
    tg__pools pools;      /* upstream connection pools (base set at start) */
    tg__model_table *table;
    tg__modelfile *files;
    size_t n_files;
    struct tg__workers *workers;
    tg__upinfo *upinfo;
    size_t n_upinfo;
    /* Discovery's news (server.c: rebuild the model table). */
    void (*on_discovered)(tg__server *s);
    tg__metrics metrics;
    tg__bufcap bufcap;    /* request bytes held across all connections (bufcap.h) */
    int draining;
    int exit_code;
    double started;
    struct tg__adaptive_state *adaptive; /* learned thinking budgets (adaptive.h); NULL: none */
    struct tg__vram *vram; /* the live free-VRAM loop (vram.c); NULL until first read */
    struct tg__sumcache *sumcache; /* summaries by the prefix they replace (summary.h); NULL: none yet */
};

/* Exits the loop when draining and no client is left. */
static inline void tg__server_maybe_exit(tg__server *s) {
    if (s->draining && s->n_clients == 0) event_base_loopexit(s->base, NULL);
}

#endif
