/*
 * loopback_pool.h: for the tests that drive tokgate's upstream side over
 * real sockets (test_answer_cork.c, test_up_flat.c): a listening socket on
 * 127.0.0.1 at a free port, and a pool set on a fresh event base pointed at
 * it. The test accepts on the socket and plays the upstream by hand.
 */
#ifndef TG_TEST_LOOPBACK_POOL_H
#define TG_TEST_LOOPBACK_POOL_H

#include <arpa/inet.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "gateway/upstream.h"
#include "tg_test.h"

/* *lfd listens (non-blocking) on a fresh loopback port; *pools is cleared
 * with a new event base (pools->base, the caller's to free after
 * tg__pool_free_all); returns the pool for that port. */
static inline tg__pool *loopback_pool(tg__pools *pools, int *lfd) {
    *lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t sl = sizeof sa;
    TG_CHECK(bind(*lfd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(*lfd, 4) == 0);
    TG_CHECK(getsockname(*lfd, (struct sockaddr *)&sa, &sl) == 0);
    evutil_make_socket_nonblocking(*lfd);
    memset(pools, 0, sizeof *pools);
    pools->base = event_base_new();
    return tg__pool_get(pools, "127.0.0.1", ntohs(sa.sin_port));
}

#endif
