/*
 * policy/req_scan.h: one strict pass over a request body that finds its
 * top-level members without building a tree (issue 17: a 156 KB chat costs a
 * jansson DOM ~9 ms; this pass ~0.1 ms).
 *
 * It accepts exactly what json_loadb(JSON_ALLOW_NUL) accepts for an object
 * (tests/policy/test_req_scan.c and fuzz/fuzz_req_scan.c hold it to jansson):
 * strict UTF-8, no control bytes in strings, escapes as RFC 8259 with paired
 * surrogates, no NUL in keys, integers within long long, reals that do not
 * overflow, nesting at most 2048, only whitespace after the object. What it
 * records is where each top-level member lies in the bytes, so the small
 * fields can be parsed alone (tg__request_parse_scanned) and the forwarded
 * body spliced from the original (gateway/req_fast.c).
 */
#ifndef TG_POLICY_REQ_SCAN_H
#define TG_POLICY_REQ_SCAN_H

#include <stddef.h>
#include <string.h>

#include "tokgate/error.h"
#include "tokgate/policy.h"

typedef struct tg__req_member {
    size_t kstart, kend;  /* the key's bytes between its quotes (escapes undecoded) */
    size_t vstart, vend;  /* the value's bytes */
    int key_escaped;      /* the key holds a backslash escape */
    char type;            /* the value's first byte: { [ " t f n, or - or a digit */
    size_t n_elems;       /* an array's element count */
} tg__req_member;

#define TG__REQ_SCAN_INLINE 12 /* members held in the struct itself (no allocation for a usual request) */

typedef struct tg__req_scan {
    tg__req_member *m;    /* in document order, duplicates included: inl, or malloc'd past TG__REQ_SCAN_INLINE
                             (so a scan is used where it was made, never copied) */
    tg__req_member inl[TG__REQ_SCAN_INLINE];
    size_t n, cap;
    int any_escaped_key;  /* some top-level key holds an escape */
    int raw_nul;          /* a raw NUL byte jansson skips (after a number or a literal): the
                             bytes are not JSON to any other parser, so nothing is spliced */
} tg__req_scan;

/* Scans S[0..N). TG_OK: a JSON object, members in out (free with
 * tg__req_scan_free). TG_EINVAL: not an object; TG_ECORRUPT: not JSON as
 * jansson reads it (err names the byte offset). TG_ENOMEM. */
tg_status tg__req_scan_run(const char *s, size_t n, tg__req_scan *out, tg_error *err);
/* The last member named KEY (literal bytes; duplicates: the last wins, as
 * jansson and Python's json take it), or NULL. */
static inline const tg__req_member *tg__req_scan_get(const tg__req_scan *sc, const char *s, const char *key) {
    size_t kl = strlen(key); /* inline: a literal KEY's length is known when compiled, its compare one word or two */
    for (size_t i = sc->n; i-- > 0;) {
        const tg__req_member *m = &sc->m[i];
        if (!m->key_escaped && m->kend - m->kstart == kl && memcmp(s + m->kstart, key, kl) == 0) return m;
    }
    return NULL;
}
void tg__req_scan_free(tg__req_scan *sc);

/* A chat request's fields from a scanned body (DATA, scanned into SC), as
 * tg_request_parse_as(TG_REQ_CHAT) reads them, except that the conversation
 * (messages, tools, functions, documents, prompt) stays bytes: root holds
 * every other member, parsed alone, and "messages" as one null per message
 * (the policy counts them; what they say is in the caller's cached counts).
 * The messages are NOT checked: only a body whose messages an earlier whole
 * parse accepted may be read this way (the gateway's whole-request cache,
 * keyed by their bytes). TG_EINVAL: the body needs the whole parse (no
 * messages array, an escaped key, ...); the same errors as the whole parse
 * for the small fields (a "model" not a string, ...). */
tg_status tg__request_parse_scanned(const char *data, const tg__req_scan *sc, tg_request *out, tg_error *err);

/* tg_budget_decide with the prompt's counts already made (COUNTS, borrowed,
 * by tg_budget_count or a cache of its results; METHOD how). The decision's
 * request shares R's values below its top level (tg__policy_decide_shared):
 * free it before R, and copy a nested container before editing it. */
tg_status tg__budget_decide_counts(const tg_request *r, const tg_budget_model *m, const tg_prompt_counts *counts,
                                   tg_count_method method, tg_budget_decision *out, tg_error *err);

/* The small chat decided with no tree at all (issue 17: the gateway's
 * `max_tokens` chat cost two jansson objects, a copy and their frees, ~9K
 * instructions). A scanned plain chat (tg__request_parse_scanned's) whose
 * members the policy reads are all simple: "model" a string with no escape
 * (or null), "stream" a literal, "n" an integer or null,
 * "max_completion_tokens" and "max_tokens" integers or null, no
 * chat_template_kwargs (but null), no reasoning_effort, thinking_mode,
 * max_thinking_tokens or truncation (the rewrite removes the last three: a
 * change), no key of 128 bytes or more. Every other member is copied as it
 * came and read by nothing the decision takes. */
typedef struct tg__req_lite {
    tg_request r;            /* root NULL; r.model points into model */
    size_t n_messages;
    int have_n;              /* "n": an integer (its value in n) */
    long long n;
    int have_mct, have_mt;   /* max_completion_tokens, max_tokens: integers (not null) */
    long long mct, mt;
    char model[256];
} tg__req_lite;

/* 1 and OUT filled as tg__request_parse_scanned would fill its request
 * (fields, not root) when SC (of DATA) is such a chat; 0 otherwise (OUT
 * unspecified: the scanned or whole parse reads it, errors included). */
int tg__request_parse_lite(const char *data, const tg__req_scan *sc, tg__req_lite *out);

/* tg__budget_decide_counts on Q with no tree: *decided 1 when the decision
 * forwards Q as it came: no refusal, no truncation, no escalation, and
 * the rewrite (max_tokens written into the fields Q has, or added) leaves
 * every member as it was; then OUT is that decision (d.request NULL, rewritten
 * 0, escalated NULL). *decided 0 and OUT empty otherwise: the scanned tree decides. */
tg_status tg__budget_decide_counts_lite(const tg__req_lite *q, const tg_budget_model *m, const tg_prompt_counts *counts,
                                        tg_count_method method, tg_budget_decision *out, int *decided, tg_error *err);

#endif
