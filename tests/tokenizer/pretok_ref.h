/*
 * tests/tokenizer/pretok_ref.h: the reference side of the pre-tokenizer fast
 * path checks: every fast-path kind's pattern compiled with PCRE2 exactly as
 * the general path compiles it (Unicode 16 classes by tg__regex_rewrite_unicode,
 * then PCRE2_UTF|PCRE2_UCP, JIT when available), and
 * a "next match from pos" over it with pcre2_match's own semantics. Shared by
 * tests/tokenizer/test_pretok_fast.c, fuzz/fuzz_pretok_fast.c and
 * bench/pretok_bench.c; header-only so each stays one file.
 */
#ifndef TG_TESTS_PRETOK_REF_H
#define TG_TESTS_PRETOK_REF_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/pretok_fast.h"
#include "tokenizer/regex_rewrite.h"

#define PRETOK_REF_MAX 64

typedef struct {
    pcre2_code *re[PRETOK_REF_MAX + 1];
    pcre2_match_data *md[PRETOK_REF_MAX + 1];
    int kinds;
} pretok_ref;

/* Compiles every kind's pattern; exits with a message if PCRE2 refuses one
 * (a fast-path pattern PCRE2 cannot compile would be a bug in the table). */
static inline void pretok_ref_init(pretok_ref *r) {
    memset(r, 0, sizeof *r);
    r->kinds = tg__pretok_fast_kinds();
    if (r->kinds > PRETOK_REF_MAX) { fprintf(stderr, "too many kinds\n"); exit(2); }
    for (int k = 1; k <= r->kinds; k++) {
        int err;
        PCRE2_SIZE off;
        const char *raw = tg__pretok_fast_pattern(k);
        tgx_buf u16;
        tg_error e;
        tgx_buf_init(&u16, (size_t)4 << 20);
        if (tg__regex_rewrite_unicode(raw, strlen(raw), &u16, &e)) {
            fprintf(stderr, "rewrite of kind %d failed: %s\n", k, e.msg);
            exit(2);
        }
        r->re[k] = pcre2_compile((PCRE2_SPTR)u16.data, u16.len, PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
        tgx_buf_free(&u16);
        if (!r->re[k]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            fprintf(stderr, "PCRE2 refuses kind %d (%s) at %zu: %s\n", k, tg__pretok_fast_name(k),
                    (size_t)off, (const char *)msg);
            exit(2);
        }
        (void)pcre2_jit_compile(r->re[k], PCRE2_JIT_COMPLETE);
        r->md[k] = pcre2_match_data_create_from_pattern(r->re[k], NULL);
    }
}

static inline void pretok_ref_free(pretok_ref *r) {
    for (int k = 1; k <= r->kinds; k++) {
        pcre2_match_data_free(r->md[k]);
        pcre2_code_free(r->re[k]);
    }
}

/* PCRE2's next match of kind at or after pos: 1 and [*ms,*me), 0 for none,
 * -1 for a PCRE2 error, reported on stderr. s must be valid UTF-8 (checked by
 * the caller once): PCRE2_NO_UTF_CHECK, because without it pcre2_match checks
 * s[pos..n) again on every call, which makes a match loop quadratic. */
static inline int pretok_ref_next(pretok_ref *r, int kind, const uint8_t *s, size_t n, size_t pos,
                                  size_t *ms, size_t *me) {
    int rc = pcre2_match(r->re[kind], (PCRE2_SPTR)s, n, pos, PCRE2_NO_UTF_CHECK, r->md[kind], NULL);
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    if (rc < 0) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(rc, msg, sizeof msg);
        fprintf(stderr, "pcre2_match error %d: %s\n", rc, (const char *)msg);
        return -1;
    }
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md[kind]);
    *ms = ov[0];
    *me = ov[1];
    return 1;
}

#endif
