/*
 * fuzz_adaptive_state.c: libFuzzer target for the learned thinking budgets'
 * state file parser (src/policy/adaptive_state.c, tg_adaptive_load_buf; the
 * format is in include/tokgate/adaptive.h).
 *
 * Input: the bytes of one state file. Invariants, beyond "no crash, no
 * leak": a refused file leaves the table empty and names what is wrong; an
 * accepted one round-trips (its JSON, loaded into a second table, gives the
 * same JSON), every class holds at most the window, and every quantile is
 * one of its class's samples' range (0..TG_ADAPTIVE_MAX_SAMPLE).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/adaptive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct seen {
    uint32_t window;
    size_t classes;
} seen;

static void visit(void *ud, const char *model, tg_adaptive_class c, uint32_t samples, uint64_t q) {
    seen *s = ud;
    (void)model;
    (void)c;
    if (samples == 0 || samples > s->window || q > TG_ADAPTIVE_MAX_SAMPLE) abort();
    s->classes++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_adaptive_cfg cfg = {900000u, 1u, 16u}; /* a small window: inputs overflow it */
    tg_adaptive *a = tg_adaptive_new(&cfg);
    if (!a) return 0;
    tg_error err;
    memset(&err, 0, sizeof err);
    tg_status st = tg_adaptive_load_buf(a, (const char *)data, size, &err);
    seen s = {16u, 0};
    tg_adaptive_visit(a, visit, &s);
    if (st != TG_OK) {
        if (s.classes != 0 || (st != TG_ENOMEM && err.msg[0] == '\0')) abort();
    } else {
        json_t *j1 = tg_adaptive_to_json(a);
        char *t1 = j1 ? json_dumps(j1, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        tg_adaptive *b = tg_adaptive_new(&cfg);
        if (t1 && b) {
            if (tg_adaptive_load_buf(b, t1, strlen(t1), &err) != TG_OK) abort();
            json_t *j2 = tg_adaptive_to_json(b);
            if (j2 && !json_equal(j1, j2)) abort();
            json_decref(j2);
        }
        tg_adaptive_free(b);
        free(t1);
        json_decref(j1);
    }
    tg_adaptive_free(a);
    return 0;
}
