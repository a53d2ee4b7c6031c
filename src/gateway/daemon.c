/*
 * gateway/daemon.c: the daemon's lifetime (daemon.h; its state is the
 * tg__server of server.h).
 *
 * Start: build the config, bind the listener (loopback by default), build
 * the model table, start discovery, run the event loop.
 * SIGHUP: rebuild the config from the same file and flags; on success swap
 * it in (new requests use it, requests in flight keep theirs through their
 * reference) and rebuild the model table; on failure keep the old one and
 * log why. The listen address is not changed by a reload.
 * Accepting: accept.c (the connection cap, the back-off at EMFILE).
 * SIGTERM/SIGINT: drain. Stop accepting, close idle connections, let
 * requests in flight finish (their connections close after the answer), and
 * exit when none is left or after drain_timeout, whichever comes first. A
 * second signal exits at once. Everything is freed on the way out.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "gateway/daemon.h"
#include "gateway/accept.h"
#include "gateway/client.h"
#include "gateway/config_load.h"
#include "gateway/discovery.h"
#include "gateway/engine_poll.h"
#include "gateway/engine_count.h"
#include "gateway/log.h"
#include "gateway/modelfiles.h"
#include "gateway/options.h"
#include "gateway/models.h"
#include "gateway/vram.h"
#include "gateway/proxy.h"
#include "gateway/routes.h"
#include "gateway/server.h"
#include "gateway/summary.h"
#include "gateway/upstream.h"
#include "gateway/workers.h"

/* The drain deadline: streams in flight end with an SSE error event, then
 * the loop exits once they are flushed, or a second later at most. */
static void drain_deadline(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__server *s = arg;
    if (s->draining > 1) {
        event_base_loopexit(s->base, NULL);
        return;
    }
    tg__log(s, TG__LOG_WARN, "drain deadline reached with %zu connection(s) open; closing them", s->n_clients);
    s->draining = 2;
    for (tg__client *c = s->clients, *next; c; c = next) {
        next = c->next;
        if (c->ex) tg__exchange_drain_cut(c->ex);
    }
    struct timeval tv = {1, 0};
    if (s->n_clients == 0 || !s->ev_drain || event_add(s->ev_drain, &tv) != 0) event_base_loopexit(s->base, NULL);
}

static void on_term(evutil_socket_t sig, short what, void *arg) {
    (void)what;
    tg__server *s = arg;
    if (s->draining) {
        tg__log(s, TG__LOG_WARN, "second signal: exiting now");
        event_base_loopexit(s->base, NULL);
        return;
    }
    s->draining = 1;
    s->pools.draining = 1;
    tg__log(s, TG__LOG_INFO, "signal %d: draining %zu connection(s), at most %gs", (int)sig, s->n_clients,
            s->cfg->drain_timeout);
    if (s->listener) {
        evconnlistener_free(s->listener);
        s->listener = NULL;
    }
    /* Idle keep-alive connections go now; busy ones close after their answer. */
    tg__client *c = s->clients;
    while (c) {
        tg__client *next = c->next;
        if (c->state == TG__C_HEAD && evbuffer_get_length(bufferevent_get_input(c->bev)) == 0) tg__client_free(c);
        c = next;
    }
    double d = s->cfg->drain_timeout;
    struct timeval tv = {(time_t)d, (suseconds_t)((d - (double)(time_t)d) * 1e6)};
    s->ev_drain = evtimer_new(s->base, drain_deadline, s);
    if (s->ev_drain) event_add(s->ev_drain, &tv);
    tg__server_maybe_exit(s);
}

static void on_hup(evutil_socket_t sig, short what, void *arg) {
    (void)sig;
    (void)what;
    tg__server *s = arg;
    tg__config *nc = NULL;
    tg_error err;
    if (tg__config_from_args(s->argc, s->argv, &nc, &err) != TG_OK) {
        tg__log(s, TG__LOG_ERROR, "reload failed, keeping the running config: %s", err.msg);
        return;
    }
    if (strcmp(nc->listen_host, s->cfg->listen_host) != 0 || nc->listen_port != s->cfg->listen_port)
        tg__log(s, TG__LOG_WARN, "reload: the listen address cannot change without a restart; keeping %s:%d",
                s->cfg->listen_host, s->cfg->listen_port);
    if (s->listen_public && !nc->n_api_keys && !nc->allow_unauthenticated) {
        tg__log(s, TG__LOG_ERROR, "reload refused, keeping the running config: it has no API keys and %s:%d is not "
                "a loopback address (set api_keys, or allow_unauthenticated)", s->cfg->listen_host, s->cfg->listen_port);
        tg__config_unref(nc);
        return;
    }
    tg__config *old = s->cfg;
    s->cfg = nc;
    if (nc->workers != old->workers) tg__log(s, TG__LOG_WARN, "reload: --workers changes need a restart");
    tg__log_set_quiet(nc->quiet);
    tg__log_set_format(nc->log_format);
    char aerr[256];
    if (tg__log_access_open(nc->access_log, nc->access_log_buffer, aerr, sizeof aerr) != 0) /* reopened: rotation */
        tg__log(s, TG__LOG_ERROR, "reload: %s; access lines go where they went", aerr);
    if (tg__models_rebuild(s, &err) != TG_OK) {
        tg__log(s, TG__LOG_ERROR, "reload: %s; keeping the running config", err.msg);
        s->cfg = old;
        tg__config_unref(nc);
        tg__models_rebuild(s, &err);
        return;
    }
    tg__config_unref(old);
    tg__accept_configure(s);
    tg__log(s, TG__LOG_INFO, "reloaded: %zu model section(s), %zu model(s) served", nc->n_models, s->table ? s->table->n : 0);
    tg__discovery_start(s);
    tg__engine_poll_start(s);
}

/* 1 for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
static int is_loopback(const struct sockaddr *sa) {
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family != AF_INET6) return 0;
    const struct in6_addr *a = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    if (IN6_IS_ADDR_LOOPBACK(a)) return 1;
    return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
}

/* Anyone who reaches a non-loopback address could spend the engine: without
 * api_keys that needs allow_unauthenticated, said on purpose. 0 or -1. */
static int check_exposure(tg__server *s, const struct evutil_addrinfo *res, const char *addr) {
    for (const struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!is_loopback(ai->ai_addr)) s->listen_public = 1;
    if (s->cfg->n_api_keys || s->cfg->allow_unauthenticated) return 0;
    for (const struct evutil_addrinfo *ai = res; ai; ai = ai->ai_next)
        if (!is_loopback(ai->ai_addr)) {
            tg__log(s, TG__LOG_ERROR,
                    "refusing to listen on %s without API keys: it is not a loopback address, so anyone who reaches "
                    "it could use the engine; set api_keys (--api-key KEY), or allow_unauthenticated "
                    "(--allow-unauthenticated) if that is what you want",
                    addr);
            return -1;
        }
    return 0;
}

/* The listen host is a numeric address or a name resolved at start
 * (getaddrinfo: "localhost" is 127.0.0.1 or ::1); the first address that
 * binds is the listener. */
static int bind_listener(tg__server *s) {
    char addr[300], port[16];
    const char *h = s->cfg->listen_host;
    snprintf(addr, sizeof addr, strchr(h, ':') ? "[%s]:%d" : "%s:%d", h, s->cfg->listen_port);
    snprintf(port, sizeof port, "%d", s->cfg->listen_port);
    struct evutil_addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    hints.ai_flags = EVUTIL_AI_PASSIVE | EVUTIL_AI_NUMERICSERV | EVUTIL_AI_ADDRCONFIG;
    int gai = evutil_getaddrinfo(h, port, &hints, &res);
    if (gai != 0) {
        tg__log(s, TG__LOG_ERROR, "cannot listen on %s: the host does not resolve (%s)", addr, evutil_gai_strerror(gai));
        return -1;
    }
    if (check_exposure(s, res, addr) != 0) {
        evutil_freeaddrinfo(res);
        return -1;
    }
    int e = 0;
    for (struct evutil_addrinfo *ai = res; ai && !s->listener; ai = ai->ai_next) {
        s->listener = evconnlistener_new_bind(s->base, tg__accept_cb, s, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
                                              ai->ai_addr, (int)ai->ai_addrlen);
        if (!s->listener) e = EVUTIL_SOCKET_ERROR();
    }
    evutil_freeaddrinfo(res);
    if (!s->listener) {
        tg__log(s, TG__LOG_ERROR, "cannot listen on %s: %s", addr, evutil_socket_error_to_string(e));
        return -1;
    }
    evconnlistener_set_error_cb(s->listener, tg__accept_error_cb);
    s->accepting = 1;
    tg__accept_configure(s);
    tg__log(s, TG__LOG_INFO, "listening on http://%s (%zu model section(s)%s, at most %zu connections)", addr,
            s->cfg->n_models, s->cfg->n_api_keys ? ", API keys required" : "", s->max_conns);
    return 0;
}

/* The help text, built once from the option tables (options.h) and kept. */
const char *tg_daemon_usage(void) {
    static char *text; /* built once from the tables, kept until exit */
    if (!text) {
        tgx_buf b;
        tgx_buf_init(&b, 1u << 20);
        if (tg__serve_usage(&b) == TG_OK) text = b.data;
        else tgx_buf_free(&b);
    }
    return text ? text : "usage: tokgate serve [options] (out of memory building the help)\n";
}

/* Discovery's news: the model table is rebuilt from what it learned. */
static void on_discovered(tg__server *s) {
    tg_error err;
    if (tg__models_rebuild(s, &err) != TG_OK) tg__log(s, TG__LOG_ERROR, "%s", err.msg);
}

static void on_access_flush(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    (void)arg;
    tg__log_access_flush();
}

/* What a client calls up into: the router and its request's exchange. */
static const tg__client_hooks client_hooks = {tg__route_dispatch, tg__exchange_on_client_drain,
                                              tg__exchange_active, tg__exchange_free, tg__accept_update};

int tg_daemon_run(int argc, char **argv) {
    tg__server s;
    memset(&s, 0, sizeof s);
    s.argc = argc;
    s.argv = argv;
    s.client_hooks = &client_hooks;
    s.on_discovered = on_discovered;
    tg_error err;
    if (tg__config_from_args(argc, argv, &s.cfg, &err) != TG_OK) {
        fprintf(stderr, "tokgate serve: %s\n", err.msg);
        return 2;
    }
    tg__log_set_quiet(s.cfg->quiet);
    tg__log_set_format(s.cfg->log_format);
    {
        char aerr[256];
        if (tg__log_access_open(s.cfg->access_log, s.cfg->access_log_buffer, aerr, sizeof aerr) != 0) {
            fprintf(stderr, "tokgate serve: %s\n", aerr);
            tg__config_unref(s.cfg);
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    { /* gwlat (issue 17): epoll changes applied once per loop turn, so a write
       * event added and removed in the same turn (tg__bev_flush) costs no
       * syscall; tokgate never dup()s a watched descriptor, the flag's caveat */
        struct event_config *ec = event_config_new();
        if (ec) event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
        s.base = ec ? event_base_new_with_config(ec) : event_base_new();
        if (ec) event_config_free(ec);
    }
    s.pools.base = s.base;
    s.started = (double)time(NULL);
    s.metrics.started = s.started;
    int rc = 1;
    if (!s.base) goto out;
    if (bind_listener(&s) != 0) goto out;
    tg__adaptive_start(&s); /* before the models: each points at its table */
    if (tg__models_rebuild(&s, &err) != TG_OK) {
        tg__log(&s, TG__LOG_ERROR, "%s", err.msg);
        goto out;
    }
    s.ev_term = evsignal_new(s.base, SIGTERM, on_term, &s);
    s.ev_int = evsignal_new(s.base, SIGINT, on_term, &s);
    s.ev_hup = evsignal_new(s.base, SIGHUP, on_hup, &s);
    if (!s.ev_term || !s.ev_int || !s.ev_hup) goto out;
    event_add(s.ev_term, NULL);
    event_add(s.ev_int, NULL);
    event_add(s.ev_hup, NULL);
    if (s.cfg->workers) {
        s.workers = tg__workers_new(s.base, (int)s.cfg->workers);
        if (!s.workers) tg__log(&s, TG__LOG_WARN, "no worker threads; request bodies are handled on the event loop");
    }
    tg__discovery_start(&s);
    tg__engine_poll_start(&s);
    tg__vram_start(&s);
    /* held access lines (access_log_buffer) are written at least each second */
    struct event *ev_alog = event_new(s.base, -1, EV_PERSIST, on_access_flush, NULL);
    if (ev_alog) event_add(ev_alog, &(struct timeval){1, 0});
    event_base_dispatch(s.base);
    if (ev_alog) event_free(ev_alog);
    rc = 0;
    tg__log(&s, TG__LOG_INFO, "stopped");
out:
    while (s.clients) {
        tg__client *c = s.clients;
        c->in_process = 0;
        tg__client_free(c);
    }
    s.draining = 0;
    s.pools.draining = 0;
    tg__workers_free(s.workers);
    tg__count_caches_free();
    tg__engine_poll_free(&s);
    tg__ecount_cache_free();
    tg__discovery_free(&s);
    tg__models_free(&s);
    tg__adaptive_stop(&s); /* saved once more; no worker looks it up now */
    tg__vram_free(&s);
    tg__modelfiles_free(&s);
    tg__pool_free_all(&s.pools);
    tg__metrics_free(&s.metrics);
    tg__sum_cache_free(&s);
    if (s.listener) evconnlistener_free(s.listener);
    if (s.ev_term) event_free(s.ev_term);
    if (s.ev_int) event_free(s.ev_int);
    if (s.ev_hup) event_free(s.ev_hup);
    if (s.ev_drain) event_free(s.ev_drain);
    tg__accept_free(&s);
    if (s.base) event_base_free(s.base);
    tg__log_access_close();
    tg__config_unref(s.cfg);
    return rc;
}
