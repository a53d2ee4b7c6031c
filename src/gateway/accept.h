/*
 * gateway/accept.h: the accept loop's policy (accept.c): the connection
 * cap (max_connections) and the back-off at EMFILE/ENFILE. daemon.c binds
 * the listener with tg__accept_cb and tg__accept_error_cb, calls
 * tg__accept_configure at start and reload; client.c reports each connection
 * that closes or goes idle through its hooks (conn_changed = tg__accept_update).
 */
#ifndef TG_GATEWAY_ACCEPT_H
#define TG_GATEWAY_ACCEPT_H

#include <event2/listener.h>

typedef struct tg__server tg__server;

/* The cap in force: max_connections, or derived from RLIMIT_NOFILE. */
size_t tg__accept_max_connections(size_t configured);
void tg__accept_configure(tg__server *s);
/* Listens or pauses as the cap and the back-off say (a no-op while draining). */
void tg__accept_update(tg__server *s);
void tg__accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen, void *arg);
void tg__accept_error_cb(struct evconnlistener *l, void *arg);
void tg__accept_free(tg__server *s);

#endif
