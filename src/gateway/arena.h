/*
 * gateway/arena.h: one arena per request (after h2o's h2o_mem_pool_t).
 *
 * Everything a request needs while it lives (its parsed head, header copies,
 * rewritten strings) is carved from one arena and released at once when the
 * exchange ends, so a request cannot leak piecemeal. Blocks grow by doubling
 * up to a per-block ceiling; a single allocation larger than a block gets its
 * own block. The arena has a total ceiling: past it, allocation returns NULL
 * and the caller answers with an error instead of growing without bound.
 */
#ifndef TG_GATEWAY_ARENA_H
#define TG_GATEWAY_ARENA_H

#include <stddef.h>

typedef struct tg__arena_block tg__arena_block;

typedef struct tg__arena {
    tg__arena_block *head;
    size_t used_total; /* bytes handed out, all blocks */
    size_t max_total;  /* ceiling; 0 = unlimited */
} tg__arena;

void tg__arena_init(tg__arena *a, size_t max_total);
/* Frees every block; the arena may be used again afterwards. */
void tg__arena_reset(tg__arena *a);
/* Empties the arena for the next request, keeping its largest block of at
 * most 16 KiB for reuse (a request's head and header table fit in one): no
 * malloc and free a request on a kept-alive connection. tg__arena_reset
 * frees it too. */
void tg__arena_recycle(tg__arena *a);
/* n bytes aligned for any type; NULL when the ceiling or malloc says no. */
void *tg__arena_alloc(tg__arena *a, size_t n);
/* A NUL-terminated copy of n bytes of p (p may hold no NUL). */
char *tg__arena_strndup(tg__arena *a, const char *p, size_t n);
char *tg__arena_printf(tg__arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
