/*
 * gateway/bufcap.c: the global cap on buffered request bytes (bufcap.h).
 * The default is sized from the machine once (sysconf), so a box with
 * little memory refuses early instead of being killed for it.
 */
#include "gateway/bufcap.h"

#include <stdio.h>
#include <unistd.h>

size_t tg__bufcap_limit(size_t configured) {
    static size_t from_memory;
    if (configured) return configured;
    if (!from_memory) {
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        uint64_t mem = pages > 0 && psize > 0 ? (uint64_t)pages * (uint64_t)psize : (uint64_t)1 << 30;
        uint64_t q = mem / 4;
        if (q < (64u << 20)) q = 64u << 20;
        from_memory = q > SIZE_MAX ? SIZE_MAX : (size_t)q;
    }
    return from_memory;
}

int tg__bufcap_take(tg__bufcap *b, size_t limit, size_t n) {
    if (n > limit || b->used > limit - n) {
        b->refused++;
        return 0;
    }
    b->used += n;
    if (b->used > b->peak) b->peak = b->used;
    return 1;
}

void tg__bufcap_give(tg__bufcap *b, size_t n) { b->used = n > b->used ? 0 : b->used - n; }

void tg__bufcap_message(char *out, size_t size, const tg__bufcap *b, size_t limit, size_t n) {
    snprintf(out, size,
             "tokgate is holding %zu bytes of request bodies; this one (%zu more) would pass the %zu-byte "
             "limits.max_buffered_bytes cap; retry later",
             b->used, n, limit);
}
