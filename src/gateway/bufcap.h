/*
 * gateway/bufcap.h: the global cap on buffered request bytes
 * (limits.max_buffered_bytes; bufcap.c).
 *
 * Every request body is counted from its head (Content-Length, or chunk by
 * chunk) until its answer ends, across all connections: it is what the
 * daemon holds for it (the client's buffer, then the upstream request it
 * moves into, sent by reference). A body that would pass the cap is
 * refused with 503 and Retry-After before it is read (client.c). An error
 * answer held to be said in tokgate's shape (proxy.c) counts too; past the
 * cap it is relayed as it came. Other answers need no count: the relay
 * pauses the upstream at high_watermark per connection.
 */
#ifndef TG_GATEWAY_BUFCAP_H
#define TG_GATEWAY_BUFCAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct tg__bufcap {
    size_t used;       /* bytes counted now */
    size_t peak;
    uint64_t refused;  /* bodies refused at the cap */
} tg__bufcap;

/* The cap in force: `configured`, or for 0 a quarter of the machine's
 * memory (at least 64 MiB). */
size_t tg__bufcap_limit(size_t configured);
/* Counts n more bytes: 1, or 0 (nothing counted, refused counted) when
 * they would pass `limit`. */
int tg__bufcap_take(tg__bufcap *b, size_t limit, size_t n);
void tg__bufcap_give(tg__bufcap *b, size_t n);
/* The refusal's message, naming the cap and the numbers. */
void tg__bufcap_message(char *out, size_t size, const tg__bufcap *b, size_t limit, size_t n);

#endif
