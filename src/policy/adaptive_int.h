/*
 * policy/adaptive_int.h: what adaptive.c (the table) and adaptive_state.c
 * (its file) share; nothing else sees the table's layout.
 */
#ifndef TG_POLICY_ADAPTIVE_INT_H
#define TG_POLICY_ADAPTIVE_INT_H

#include <pthread.h>

#include "tokgate/adaptive.h"

typedef struct tg__ring {
    uint32_t n, next;                 /* samples held, next slot to write */
    uint32_t v[TG_ADAPTIVE_WINDOW];
} tg__ring;

typedef struct tg__amodel {
    char *name;
    tg__ring *cls[TG_ADAPTIVE_CLASSES]; /* NULL until the class's first sample */
} tg__amodel;

struct tg_adaptive {
    pthread_mutex_t mu;
    tg_adaptive_cfg cfg;
    tg__amodel *models;
    size_t n, cap;
};

/* All below: the caller holds a->mu. */
void tg__adaptive_clear(tg_adaptive *a);
/* The model NAME, created when CREATE (NULL: out of memory, or the table full). */
tg__amodel *tg__adaptive_model(tg_adaptive *a, const char *name, int create);
/* The class's ring, created on first use (NULL: out of memory). */
tg__ring *tg__adaptive_ring(tg__amodel *m, size_t cls);
size_t tg__ring_samples(const tg__ring *r, uint32_t window, uint32_t *out);
void tg__ring_push(tg__ring *r, uint32_t window, uint32_t v);
const char *tg__adaptive_band_name(unsigned b);
const char *tg__adaptive_code_name(unsigned c);
const char *tg__adaptive_asked_name(unsigned a);

#endif
