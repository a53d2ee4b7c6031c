/*
 * gateway/server.h: the daemon's top: event base, listener, signals (drain
 * on TERM/INT, reload on HUP), and the lifetime of everything below
 * (server.c). The struct is the daemon's shared state; the layers below
 * read what they need of it and reach back up only through callbacks the
 * server hands them (client hooks, discovery's on_discovered).
 *
 * Threads: one event loop; heavy request work (parsing, counting) runs on
 * worker threads (workers.h) against a held model table and config.
 */
#ifndef TG_GATEWAY_SERVER_H
#define TG_GATEWAY_SERVER_H

#include <event2/event.h>
#include <event2/listener.h>
#include <stddef.h>

#include "gateway/config.h"
#include "gateway/metrics.h"

typedef struct tg__server tg__server;
typedef struct tg__client tg__client;
typedef struct tg__pool tg__pool;
typedef struct tg__model_table tg__model_table;
typedef struct tg__modelfile tg__modelfile;
typedef struct tg__upinfo tg__upinfo;
typedef struct tg__client_hooks tg__client_hooks;

struct tg__server {
    struct event_base *base;
    int nvml_note_said; /* "no NVML" logged once (live_limits.c) */
    struct evconnlistener *listener;
    tg__config *cfg;
    int argc;
    char **argv;
    struct event *ev_term, *ev_int, *ev_hup, *ev_drain, *ev_discover;
    tg__client *clients; /* all open client connections */
    size_t n_clients;
    const tg__client_hooks *client_hooks; /* what a client calls up into */
    tg__pool *pools;
    tg__model_table *table;
    tg__modelfile *files;
    size_t n_files;
    struct tg__workers *workers;
    tg__upinfo *upinfo;
    size_t n_upinfo;
    /* Discovery's news (server.c: rebuild the model table). */
    void (*on_discovered)(tg__server *s);
    tg__metrics metrics;
    int draining;
    int exit_code;
    double started;
};

/* Exits the loop when draining and no client is left. */
void tg__server_maybe_exit(tg__server *s);

#endif
