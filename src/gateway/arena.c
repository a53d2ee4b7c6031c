/* gateway/arena.c: the per-request arena (see arena.h). */
#include "gateway/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_FIRST_BLOCK 2048u
#define ARENA_MAX_BLOCK (64u * 1024u)
#define ARENA_ALIGN 16u
#define ARENA_KEEP_MAX (16u * 1024u) /* the largest block tg__arena_recycle keeps */

struct tg__arena_block {
    tg__arena_block *next;
    size_t size; /* usable bytes after the header */
    size_t used;
    _Alignas(16) unsigned char mem[];
};

void tg__arena_init(tg__arena *a, size_t max_total) {
    a->head = NULL;
    a->used_total = 0;
    a->max_total = max_total;
}

void tg__arena_reset(tg__arena *a) {
    tg__arena_block *b = a->head;
    while (b) {
        tg__arena_block *next = b->next;
        free(b);
        b = next;
    }
    a->head = NULL;
    a->used_total = 0;
}

void tg__arena_recycle(tg__arena *a) {
    tg__arena_block *keep = NULL;
    for (tg__arena_block *b = a->head; b; b = b->next)
        if (b->size <= ARENA_KEEP_MAX && (!keep || b->size > keep->size)) keep = b;
    tg__arena_block *b = a->head;
    while (b) {
        tg__arena_block *next = b->next;
        if (b != keep) free(b);
        b = next;
    }
    if (keep) {
        keep->used = 0;
        keep->next = NULL;
    }
    a->head = keep;
    a->used_total = 0;
}

void *tg__arena_alloc(tg__arena *a, size_t n) {
    if (n == 0) n = 1;
    if (n > SIZE_MAX - ARENA_ALIGN) return NULL;
    size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
    if (a->max_total && (rounded > a->max_total || a->used_total > a->max_total - rounded))
        return NULL;
    tg__arena_block *b = a->head;
    if (!b || b->size - b->used < rounded) {
        size_t size = b ? b->size * 2 : ARENA_FIRST_BLOCK;
        if (size > ARENA_MAX_BLOCK) size = ARENA_MAX_BLOCK;
        if (size < rounded) size = rounded;
        tg__arena_block *nb = malloc(sizeof *nb + size);
        if (!nb) return NULL;
        nb->size = size;
        nb->used = 0;
        nb->next = a->head;
        a->head = nb;
        b = nb;
    }
    void *p = b->mem + b->used;
    b->used += rounded;
    a->used_total += rounded;
    return p;
}

char *tg__arena_strndup(tg__arena *a, const char *p, size_t n) {
    if (n == SIZE_MAX) return NULL;
    char *s = tg__arena_alloc(a, n + 1);
    if (!s) return NULL;
    if (n) memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

char *tg__arena_printf(tg__arena *a, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *s = tg__arena_alloc(a, (size_t)n + 1);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}
