/*
 * fuzz_regex_rewrite.c: tg__regex_rewrite_unicode (regex_rewrite.h) on
 * arbitrary patterns.
 *
 * Input: a pattern, then a NUL byte, then a subject (no NUL: the whole input
 * is the pattern and the subject is empty). Invariants:
 *  - the rewriter never reads or writes out of bounds and either succeeds or
 *    fails with a message;
 *  - if it succeeds and PCRE2 compiles the original pattern, PCRE2 compiles the
 *    rewritten one too (the rewriter changes classes, never syntax);
 *  - on an ASCII subject, where Unicode 14 and 16, PCRE2's \s \w \d and
 *    Oniguruma's agree, the original and the rewritten pattern find the same
 *    first match (both with a match limit; a limit hit skips the comparison).
 * A difference aborts with both patterns.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/regex_rewrite.h"

static pcre2_code *compile(const char *p, size_t n, int *ec) {
    PCRE2_SIZE eo;
    return pcre2_compile((PCRE2_SPTR)p, n, PCRE2_UTF | PCRE2_UCP, ec, &eo, NULL);
}

static int first_match(pcre2_code *re, pcre2_match_context *mc, const uint8_t *s, size_t n, size_t *a,
                       size_t *b) {
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!md) return -100;
    int rc = pcre2_match(re, s, n, 0, 0, md, mc);
    if (rc > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        *a = ov[0];
        *b = ov[1];
    }
    pcre2_match_data_free(md);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 512) return 0;
    const uint8_t *nul = memchr(data, 0, size);
    size_t plen = nul ? (size_t)(nul - data) : size;
    const uint8_t *subj = nul ? nul + 1 : data + size;
    size_t slen = nul ? size - plen - 1 : 0;
    tgx_buf out;
    tg_error err;
    tgx_buf_init(&out, 4u << 20);
    tg_status st = tg__regex_rewrite_unicode((const char *)data, plen, &out, &err);
    if (st) {
        if (err.msg[0] == 0) abort();
        tgx_buf_free(&out);
        return 0;
    }
    int ec1, ec2;
    pcre2_code *r1 = compile((const char *)data, plen, &ec1);
    pcre2_code *r2 = r1 ? compile(out.data ? out.data : "", out.len, &ec2) : NULL;
    if (r1 && !r2 && ec2 != 120 /* too large */) {
        PCRE2_UCHAR m[160];
        pcre2_get_error_message(ec2, m, sizeof m);
        fprintf(stderr, "original compiles, rewritten does not (%s):\n%.*s\n=> %.*s\n", (const char *)m,
                (int)plen, (const char *)data, (int)out.len, out.data);
        abort();
    }
    int ascii = 1;
    for (size_t i = 0; i < slen; i++)
        if (subj[i] >= 0x80) ascii = 0;
    if (r1 && r2 && ascii) {
        pcre2_match_context *mc = pcre2_match_context_create(NULL);
        pcre2_set_match_limit(mc, 20000);
        pcre2_set_depth_limit(mc, 2000);
        size_t a1 = 0, b1 = 0, a2 = 0, b2 = 0;
        int m1 = first_match(r1, mc, subj, slen, &a1, &b1);
        int m2 = first_match(r2, mc, subj, slen, &a2, &b2);
        int lim = m1 == PCRE2_ERROR_MATCHLIMIT || m2 == PCRE2_ERROR_MATCHLIMIT ||
                  m1 == PCRE2_ERROR_DEPTHLIMIT || m2 == PCRE2_ERROR_DEPTHLIMIT || m1 == -100 || m2 == -100;
        if (!lim && ((m1 > 0) != (m2 > 0) || (m1 > 0 && (a1 != a2 || b1 != b2)))) {
            fprintf(stderr, "ASCII subject, different first match: %d [%zu,%zu) vs %d [%zu,%zu)\n%.*s\n=> %.*s\n",
                    m1, a1, b1, m2, a2, b2, (int)plen, (const char *)data, (int)out.len, out.data);
            abort();
        }
        pcre2_match_context_free(mc);
    }
    pcre2_code_free(r1);
    pcre2_code_free(r2);
    tgx_buf_free(&out);
    return 0;
}
