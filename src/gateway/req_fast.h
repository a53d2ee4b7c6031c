/*
 * gateway/req_fast.h: a long chat decided without a tree of its conversation
 * (issue 17: "scan the request once, count messages from the bytes, no DOM
 * on the hot path").
 *
 * The whole-request count cache. A chat's counts (tg_budget_count's: the
 * exact rendered total and the per-message counts truncation works with)
 * depend only on the bytes of the members the chat template and the counter
 * read, on the tokenizer, the template and the dialect. The key is
 * SipHash-1-3-128 (per-process random key) over exactly those: every
 * top-level member except the listed sampling/budget fields the renderer
 * never sees (req_fast.c, excluded_key), in document order, plus the model's
 * tokenizer, template and dialect. A hit skips the parse of the conversation,
 * the render and the tokenizer; a miss takes the whole path and fills the
 * cache. Shared by the worker threads (one mutex, held for a lookup or an
 * insert), bounded (TG__RFAST_SLOTS entries, chats up to TG__RFAST_MAX_ITEMS
 * messages).
 *
 * The forwarded body of a fast decision is spliced from the client's bytes:
 * the members the policy changed (max_tokens, thinking fields, model ...) are
 * written in place of the last of their duplicates, members it added are
 * appended, members it removed and earlier duplicates are dropped, and every
 * other member is copied byte for byte. Upstream parses the same JSON value
 * that re-serialising the decided tree gave (tests/gateway/test_req_fast.c).
 */
#ifndef TG_GATEWAY_REQ_FAST_H
#define TG_GATEWAY_REQ_FAST_H

#include <stddef.h>
#include <stdint.h>

#include "policy/req_scan.h"
#include "tokgate/policy.h"

#define TG__RFAST_SLOTS 4096
#define TG__RFAST_MAX_ITEMS 4096

typedef struct tg__rfast {
    int on;                  /* the body scanned as a plain chat object: try the fast path */
    int hit;                 /* counts came from the cache */
    int have_key;            /* key computed: a whole decision fills the cache */
    uint8_t key[16];
    tg__req_scan scan;
    tg_prompt_counts counts; /* on a hit (items owned) */
} tg__rfast;

/* Scans BODY when ELIGIBLE (a chat route, OpenAI-shaped): fast->on when it
 * is a JSON object with a messages array and no escaped key. */
void tg__rfast_begin(tg__rfast *f, const char *body, size_t len, int eligible);
void tg__rfast_end(tg__rfast *f);

/* The key of BODY for a model counted with TOK and CHAT in DIALECT. */
void tg__rfast_key(tg__rfast *f, const char *body, const void *tok, const void *chat, int dialect);
/* 1 and f->counts filled on a hit. */
int tg__rfast_lookup(tg__rfast *f);
/* Stores COUNTS (copied) under KEY; chats above TG__RFAST_MAX_ITEMS messages are not kept. */
void tg__rfast_put(const uint8_t key[16], const tg_prompt_counts *counts);
/* Empties the cache (tests; the daemon's exit). */
void tg__rfast_clear(void);

/* 1 when decision D, made on the scanned request (BEFORE its root), can be
 * forwarded by splicing: a forward that kept the messages as they were (its
 * escalation body too, spliced the same way), no adaptive thinking. */
int tg__rfast_spliceable(const tg_budget_decision *d, const json_t *before);
/* The body to forward: BODY with AFTER's changes against BEFORE spliced in.
 * NULL when out of memory. */
char *tg__rfast_splice(const char *body, const tg__req_scan *sc, const json_t *before, const json_t *after,
                       size_t *out_len);

#endif
