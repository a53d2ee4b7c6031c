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
 * A model with no tokenizer and no template (and no engine count) is decided
 * on its estimate, which reads only messages and tools: that estimate is
 * cached the same way, keyed with a NULL tokenizer and template (routes.c,
 * fast_counts; gateway/budget.c decides a hit with TG_COUNT_ESTIMATE).
 *
 * A cold chat (a miss) for a model rendered in the HF dialect is counted
 * from its bytes too (tg__rfast_count_cold: tg_chat_count_body_cached, no
 * jansson tree, no per-message tokenization): the exact total, and zeroed
 * per-message counts. Only truncation (policy/truncate.c, entered when the
 * prompt is over the cap) and the policy's length check read those, so a
 * decision on them is the whole path's whenever it forwards without entering
 * truncation (tg__rfast_accepts); any other decision, a message that is not
 * an object with a string "role", or a count that fails is decided again on
 * the whole path, which answers as it always did. Such entries are kept
 * total-only; a hit on one passes the same check.
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
#include "tokgate/template.h"

#define TG__RFAST_SLOTS 4096
#define TG__RFAST_MAX_ITEMS 4096

typedef struct tg__rfast {
    int on;                  /* the body scanned as a plain chat object: try the fast path */
    int hit;                 /* counts came from the cache */
    int have_key;            /* key computed: a whole decision fills the cache */
    int cold;                /* counts from tg__rfast_count_cold (hit is set too) */
    int total_only;          /* counts' items are zeros: tg__rfast_accepts must hold */
    int counted;             /* the caller's note (routes.c): 0 counts not sought yet, 1 there, -1 not */
    uint8_t key[16];
    tg__req_scan scan;
    tg_prompt_counts counts; /* on a hit (items owned, or items_inl: free with tg__rfast_drop_counts) */
    uint64_t items_inl[4];   /* a hit's items for a chat of up to 4 messages (no allocation) */
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
/* Stores a total-only entry: TOTAL (exact) for a chat of N_ITEMS messages. */
void tg__rfast_put_total(const uint8_t key[16], uint64_t total, size_t n_items);
/* The cold count of BODY (f->on, the key made): when every message is an
 * object with a string "role" (else 0: the whole parse refuses it) and CHAT
 * renders it in the HF dialect and CACHE's tokenizer counts it, 1 with
 * f->counts the exact total and zeroed items (f->hit, f->cold, f->total_only). */
int tg__rfast_count_cold(tg__rfast *f, const char *body, size_t len, const tg_chat *chat, tg_count_cache *cache);
/* 1 when every element of BODY's "messages" (f->on) is an object with an
 * unescaped "role" whose last value is a string (tg__rfast_count_cold's check;
 * 0 on anything else, also on what the whole parse would accept). */
int tg__rfast_messages_shaped(const tg__rfast *f, const char *body);
/* 0 when D, decided on total-only counts, may differ from the whole path's
 * (it did not forward, or it entered truncation); 1 otherwise. */
int tg__rfast_accepts(const tg__rfast *f, const tg_decision *d);
/* Forgets total-only counts (the whole path counts again; the key stays, so
 * its whole count replaces the entry). */
void tg__rfast_drop_counts(tg__rfast *f);
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
