/* gateway/filters/model_name.h: the served model's name in an answer's
 * top-level "model" (model_name.c). */
#ifndef TG_GATEWAY_FILTERS_MODEL_NAME_H
#define TG_GATEWAY_FILTERS_MODEL_NAME_H

#include <stddef.h>

#include "gateway/filters/filter.h"

/* A filter that replaces the string value of every top-level "model" key
 * (one JSON answer, or each `data:` event of an SSE stream) with `served`,
 * and passes every other byte on as it arrives. It holds nothing back: the
 * upstream's value is dropped as it streams. NULL on allocation failure. */
tg__filter *tg__model_name_filter_new(const char *served);
/* Frees the memory of ended filters this thread keeps for its next ones
 * (issue 17: a malloc and a free less per answer); the pools' end calls it. */
void tg__model_name_spares_free(void);

/* A whole JSON answer whose top-level "model" strings lie at `spans`
 * (usage.c tg__usage_filter_whole found them, the answer checked as valid
 * JSON): passed on in one piece with the served name over each, as the
 * byte machine would write it; the bytes themselves, no copy, when every
 * one holds the served name already. Starts the filter afresh after. */
void tg__model_name_whole(tg__filter *f, const char *p, size_t n, const tg__model_spans *spans);

/* Tests: 0 turns off the runs skipped without the byte machine (every byte
 * through it, the reference the runs are checked against); 1 (the default)
 * on. Process-wide; not for the daemon. */
void tg__model_name_runs(int on);

#endif
