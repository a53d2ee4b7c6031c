/*
 * tokgate/adaptive.h: thinking budgets learned from use (thinking_mode
 * "adaptive", docs/policy.md rule 5).
 *
 * Per model, a table records how many thinking tokens answers used, by
 * request class, and answers the next budget for a class:
 *
 *   class   = (prompt band, code or tools present, effort the client asked)
 *             band: <1K | 1K-4K | 4K-16K | 16K-64K | >=64K prompt tokens
 *             code: the request has tools, or a message holds a ``` fence
 *             asked: none | low | medium | high (reasoning_effort)
 *   budget  = the configured quantile (p90 by default) of the class's
 *             samples, by the nearest-rank definition below, clamped to the
 *             mode's bounds [conservative, aggressive] = [base x 0.25,
 *             base x 2]; with fewer than min_samples samples, the catalogue
 *             budget of the mode the client asked for (none, medium: base;
 *             low: base x 0.25; high: base x 2), source "catalogue".
 *
 * Samples: answers that finished by themselves (finish_reason stop or
 * tool_calls, not cut by the thinking budget or max_tokens) record the
 * thinking tokens they used. An answer cut by its budget B is a censored
 * sample: it needed more than B. It is recorded as min(2 B, upper bound), so
 * that a class whose answers are cut more often than 1 - quantile grows its
 * budget; recording only finished answers would truncate the class's
 * distribution at its budget and the quantile could only fall
 * (bench/thinking_sim.c shows both).
 *
 * Memory: each class keeps a ring of its most recent TG_ADAPTIVE_WINDOW
 * samples (a sliding window, not a random reservoir): bounded (window x 4
 * bytes per class, 40 classes per model, at most TG_ADAPTIVE_MAX_MODELS
 * models), deterministic, follows drift (a model update, a new client), and
 * the quantile over the window is exact. A log-bucket histogram would keep
 * all history in less memory but gives the quantile only to a bucket's
 * width, and never forgets.
 *
 * Quantile, nearest rank (Hyndman & Fan type 1; Wikipedia "Percentile",
 * "The nearest-rank method"): of n sorted samples x[1..n], the q-quantile is
 * x[ceil(q n)] (x[1] for q n <= 1). Always one of the samples.
 *
 * State file (tg_adaptive_save / tg_adaptive_load): JSON,
 *   {"format": "tokgate-adaptive", "version": 1, "window": W,
 *    "models": {"<model>": {"<class name>": [oldest ... newest], ...}, ...}}
 * written to PATH.tmp, fsync'd, renamed over PATH (and the folder fsync'd):
 * a crash leaves the old file or the new one, never half of one. Loading
 * refuses (TG_ECORRUPT, err naming what is wrong) a file that is not JSON,
 * another format or version, an unknown class name, a sample that is not an
 * integer in 0..TG_ADAPTIVE_MAX_SAMPLE, more than TG_ADAPTIVE_MAX_MODELS
 * models, or a file over TG_ADAPTIVE_MAX_FILE bytes; the table is then left
 * empty. A class with more samples than the window keeps the newest.
 *
 * Thread safety: one table is shared by every thread; each call takes the
 * table's mutex (lookups on worker threads, records on the event loop). All
 * strings are borrowed for the call only.
 */
#ifndef TOKGATE_ADAPTIVE_H
#define TOKGATE_ADAPTIVE_H

#include <stddef.h>
#include <stdint.h>

#include "tokgate/error.h"
#include "tokgate/policy.h"

#ifdef __cplusplus
extern "C" {
#endif

#define TG_ADAPTIVE_WINDOW 256u         /* samples kept per class */
#define TG_ADAPTIVE_MAX_MODELS 1024u    /* models per table */
#define TG_ADAPTIVE_MAX_SAMPLE 10000000u /* thinking tokens of one answer */
#define TG_ADAPTIVE_MAX_FILE (64u << 20) /* state file bytes */
#define TG_ADAPTIVE_VERSION 1

enum { TG_ADAPTIVE_BANDS = 5, TG_ADAPTIVE_ASKED = 4, TG_ADAPTIVE_CLASSES = TG_ADAPTIVE_BANDS * 2 * TG_ADAPTIVE_ASKED };

typedef struct tg_adaptive_class {
    uint8_t band;  /* 0 <1K, 1 1K-4K, 2 4K-16K, 3 16K-64K, 4 >=64K */
    uint8_t code;  /* tools or a code fence present */
    uint8_t asked; /* 0 none, 1 low, 2 medium, 3 high */
} tg_adaptive_class;

typedef struct tg_adaptive_cfg {
    uint32_t quantile_ppm; /* 900000: p90 (1..1000000) */
    uint32_t min_samples;  /* 20: samples before the quantile replaces the catalogue (1..window) */
    uint32_t window;       /* TG_ADAPTIVE_WINDOW: ring size (1..TG_ADAPTIVE_WINDOW) */
} tg_adaptive_cfg;

/* What a lookup answered. */
typedef struct tg_adaptive_pick {
    uint64_t budget;      /* thinking tokens (within [lo, hi]) */
    uint32_t samples;     /* samples held for the class */
    int from_samples;     /* 1: the quantile; 0: the catalogue budget */
} tg_adaptive_pick;

/* cfg NULL or zero fields: the defaults above. NULL when out of memory. */
TG_API tg_adaptive *tg_adaptive_new(const tg_adaptive_cfg *cfg);
TG_API void tg_adaptive_free(tg_adaptive *a);
TG_API void tg_adaptive_cfg_init(tg_adaptive_cfg *cfg);

/* The class of request R with PROMPT_TOKENS counted tokens. */
TG_API tg_adaptive_class tg_adaptive_classify(const tg_request *r, uint64_t prompt_tokens);
/* "1k-4k/code/high" style names (tg_adaptive_class_parse returns 0, or -1
 * for an unknown name). The name is at most 32 bytes with its NUL. */
TG_API void tg_adaptive_class_name(tg_adaptive_class c, char *buf, size_t cap);
TG_API int tg_adaptive_class_parse(const char *s, tg_adaptive_class *out);
TG_API size_t tg_adaptive_class_index(tg_adaptive_class c);
TG_API tg_adaptive_class tg_adaptive_class_at(size_t index);

/* The nearest-rank Q_PPM-quantile of V[0..N) (V is sorted in place); 0
 * when N is 0. */
TG_API uint64_t tg_quantile_nearest_rank(uint32_t *v, size_t n, uint32_t q_ppm);

/* The budget for MODEL's class C: the quantile clamped to [LO, HI], or
 * CATALOGUE (also clamped) below min_samples. A NULL table gives the
 * catalogue. */
TG_API tg_adaptive_pick tg_adaptive_lookup(tg_adaptive *a, const char *model, tg_adaptive_class c,
                                           uint64_t catalogue, uint64_t lo, uint64_t hi);

/* Records one answer of MODEL's class C that used THINKING tokens. CUT: the
 * thinking budget BUDGET (or max_tokens) stopped it, so the sample recorded is
 * min(2 BUDGET, HI) (see above). Values above TG_ADAPTIVE_MAX_SAMPLE are
 * recorded as it. TG_ELIMIT when the table holds TG_ADAPTIVE_MAX_MODELS
 * other models; TG_ENOMEM. */
TG_API tg_status tg_adaptive_record(tg_adaptive *a, const char *model, tg_adaptive_class c, uint64_t thinking,
                                    int cut, uint64_t budget, uint64_t hi);

/* Calls FN for each model and class holding samples (under the mutex: FN
 * must not call back into A). SAMPLES is the count held; BUDGET what
 * tg_adaptive_lookup would answer with no clamp (0 below min_samples). */
typedef void (*tg_adaptive_visit_fn)(void *ud, const char *model, tg_adaptive_class c, uint32_t samples,
                                     uint64_t quantile);
TG_API void tg_adaptive_visit(tg_adaptive *a, tg_adaptive_visit_fn fn, void *ud);

/* The state file (format above). Save: TG_EIO naming the path and errno's
 * text. Load: TG_ENOTFOUND when PATH does not exist (not an error for a
 * first start), TG_EIO, TG_ECORRUPT or TG_ELIMIT naming the file and what
 * is wrong; on any error the table is left empty. */
TG_API tg_status tg_adaptive_save(tg_adaptive *a, const char *path, tg_error *err);
TG_API tg_status tg_adaptive_load(tg_adaptive *a, const char *path, tg_error *err);
/* The parser behind tg_adaptive_load, over LEN bytes of DATA (the fuzz
 * target's entry); errors as above without the path. */
TG_API tg_status tg_adaptive_load_buf(tg_adaptive *a, const char *data, size_t len, tg_error *err);
/* The file's JSON (new reference; NULL out of memory). */
TG_API json_t *tg_adaptive_to_json(tg_adaptive *a);

#ifdef __cplusplus
}
#endif
#endif
