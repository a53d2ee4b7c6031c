/*
 * tokenizer/tokenizer_internal.h: the tokenizer's internal model, shared by the
 * files of src/tokenizer/ and by loaders that build a tokenizer from something
 * other than tokenizer.json (GGUF vocabularies).
 *
 * A tg_tokenizer mirrors HF tokenizers' pipeline, one struct per stage:
 *
 *   text ─► added tokens (raw)  ─► normalizer ─► added tokens (normalized)
 *        ─► pre-tokenizer steps ─► BPE model ─► post-processor ─► ids
 *   ids  ─► decoder steps (per chunk between added tokens) ─► text
 *
 * Every stage is built from its tokenizer.json description (a jansson json_t)
 * by tg__*_from_json; nested Sequences are flattened into arrays of steps
 * (composition is associative, so this is exact).
 *
 * Building from other sources (GGUF): fill a tg__bpe_spec with the vocabulary
 * and merges (strings exactly as tokenizer.json's model.vocab/model.merges hold
 * them: byte-level strings for GPT-2 style vocabularies, "▁"-strings for
 * SentencePiece ones), a tg__added_spec array, and pass the normalizer,
 * pre-tokenizer, post-processor and decoder as json_t objects shaped like
 * tokenizer.json's (build them with jansson: json_pack is convenient; NULL for
 * null) to tg__tokenizer_build. It validates everything exactly as the
 * tokenizer.json loader does (the loader itself goes through it).
 *
 * Ownership: the builder copies what it needs; the caller keeps its inputs.
 */
#ifndef TG_TOKENIZER_INTERNAL_H
#define TG_TOKENIZER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <jansson.h>

#include "tokgate/error.h"
#include "tokgate/tokenizer.h"
#include "util/buf.h"

#define TG__NO_ID UINT32_MAX

/* Limits (named in the errors that enforce them). */
#define TG__MAX_VOCAB (16u * 1024u * 1024u)        /* ids */
#define TG__MAX_MERGES (32u * 1024u * 1024u)
#define TG__MAX_TOKEN_BYTES (64u * 1024u)          /* one vocab/added token */
#define TG__MAX_TEXT_BYTES ((size_t)1 << 31)       /* one encode call */
#define TG__MAX_STEPS 64                           /* flattened pipeline steps */

/* A byte string with its length (may hold NUL). */
typedef struct tg__bytes {
    const char *p;
    size_t n;
} tg__bytes;

/* a[0..n) == b[0..n), inline for the short strings tokens are (two
 * overlapping word compares up to 16 bytes; memcmp beyond). */
static inline int tg__bytes_eq(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    if (n >= 8 && n <= 16) {
        uint64_t p, q, r, s;
        memcpy(&p, x, 8);
        memcpy(&q, y, 8);
        memcpy(&r, x + n - 8, 8);
        memcpy(&s, y + n - 8, 8);
        return ((p ^ q) | (r ^ s)) == 0;
    }
    if (n >= 4 && n < 8) {
        uint32_t p, q, r, s;
        memcpy(&p, x, 4);
        memcpy(&q, y, 4);
        memcpy(&r, x + n - 4, 4);
        memcpy(&s, y + n - 4, 4);
        return ((p ^ q) | (r ^ s)) == 0;
    }
    if (n < 4) return n == 0 || (x[0] == y[0] && x[n / 2] == y[n / 2] && x[n - 1] == y[n - 1]);
    return memcmp(x, y, n) == 0;
}

/* ---- string table: id -> bytes, and optionally bytes -> id ------------ */
typedef struct tg__strent {
    uint32_t off;        /* offset of the string in pool */
    uint32_t len;        /* its length, UINT32_MAX for an absent id */
} tg__strent;

typedef struct tg__strtab {
    uint32_t count;      /* ids 0..count-1 */
    tg__strent *ent;     /* count entries: where each id's string is */
    char *pool;
    size_t pool_len, pool_cap;
    uint64_t *slots;     /* open addressing: hash tag << 32 | id+1, 0 empty; NULL: no index */
    size_t mask;
} tg__strtab;

/* A big table (hash slots), zeroed: calloc, or, from 2 MiB up, an anonymous
 * mapping, 2 MiB-aligned, with transparent huge pages asked for (fewer page
 * faults and TLB misses on its random accesses). Free with tg__table_free
 * and the same size. */
void *tg__table_alloc(size_t bytes);
void tg__table_free(void *p, size_t bytes);
tg_status tg__strtab_init(tg__strtab *t, uint32_t count, size_t pool_hint);
void tg__strtab_free(tg__strtab *t);
/* Sets id's string (copies it); fails on a duplicate id. */
tg_status tg__strtab_set(tg__strtab *t, uint32_t id, const char *s, size_t n, tg_error *err);
/* Builds the bytes -> id index; when two ids hold equal strings the larger id
 * wins (as HF's HashMap built by iterating the vocab would be unspecified, we
 * refuse instead: returns TG_ECORRUPT naming the string). */
tg_status tg__strtab_index(tg__strtab *t, int refuse_duplicates, tg_error *err);
uint32_t tg__strtab_find(const tg__strtab *t, const char *s, size_t n);
/* tg__strtab_find for many keys, overlapping their cache misses. */
void tg__strtab_find_batch(const tg__strtab *t, const tg__bytes *keys, size_t n, uint32_t *out);
static inline int tg__strtab_has(const tg__strtab *t, uint32_t id) {
    return id < t->count && t->ent[id].len != UINT32_MAX;
}
static inline tg__bytes tg__strtab_get(const tg__strtab *t, uint32_t id) {
    tg__bytes b = {t->pool + t->ent[id].off, t->ent[id].len};
    return b;
}
uint64_t tg__hash_bytes(const void *p, size_t n);
/* First occurrence of needle[0..nn) in h[0..hn), or NULL (portable memmem). */
const uint8_t *tg__memmem(const uint8_t *h, size_t hn, const void *needle, size_t nn);

/* ---- byte-level (GPT-2) byte <-> unicode mapping ----------------------- */
/* The code point GPT-2 maps byte b to. */
uint32_t tg__bytelevel_char(uint8_t b);
/* The byte for code point cp, or -1 when cp is not one of the 256 chars. */
int tg__bytelevel_byte(uint32_t cp);
/* Maps a byte-level string back to raw bytes into out (capacity >= n);
 * returns 1 and the length, or 0 when a char is not a byte-level char. */
int tg__bytelevel_unmap(const char *s, size_t n, char *out, size_t *out_len);

/* ---- regex (PCRE2, Oniguruma dialect translated) ----------------------- */
typedef struct tg__regex {
    void *code;          /* pcre2_code_8 */
    int fast_kind;       /* > 0: tg__pretok_fast_* implements it */
    char *literal;       /* non-NULL: a plain string pattern (memmem) */
    size_t literal_len;
} tg__regex;

/* Compiles an HF regex source (Oniguruma syntax); refuses constructs whose
 * meaning differs in PCRE2 and cannot be translated, naming them. */
tg_status tg__regex_compile(tg__regex *re, const char *src, size_t len, tg_error *err);
/* A literal string pattern (HF `{"String": ...}`), matched by memmem. */
tg_status tg__regex_literal(tg__regex *re, const char *s, size_t len, tg_error *err);
void tg__regex_free(tg__regex *re);

/* Per-call matcher state (PCRE2 match data). tg__matcher_init lends the
 * calling thread's cached set (made once per thread, freed at thread exit)
 * when it is not already lent out (a nested call gets a fresh set), so a
 * small call costs no allocation; tg__matcher_free gives it back. */
typedef struct tg__matcher {
    void *md;            /* pcre2_match_data_8 */
    void *mctx;          /* pcre2_match_context_8 */
    void *jit_stack;
    void *lent;          /* the thread's cache entry this set came from, or NULL */
} tg__matcher;
tg_status tg__matcher_init(tg__matcher *m, tg_error *err);
void tg__matcher_free(tg__matcher *m);
/* First match at or after pos in s[0..n) (lookbehind sees s[0..pos)):
 * returns 1 with [*ms,*me), 0 when none, < 0 on a matcher error (limits). */
int tg__regex_next(const tg__regex *re, tg__matcher *m, const uint8_t *s, size_t n, size_t pos,
                   size_t *ms, size_t *me);

/* Iterates matches as HF's find_iter (Oniguruma FindMatches) does: an empty
 * match right where the previous match ended is skipped by retrying one char
 * later. */
typedef struct tg__match_iter {
    const tg__regex *re;
    tg__matcher *m;
    const uint8_t *s;
    size_t n, pos;
    size_t last_end;
    int have_last;
    int fast;            /* fast-path kind in use, 0: PCRE2 */
} tg__match_iter;
void tg__match_iter_init(tg__match_iter *it, const tg__regex *re, tg__matcher *m,
                         const uint8_t *s, size_t n);
int tg__match_iter_next(tg__match_iter *it, size_t *ms, size_t *me);

/* ---- normalizers -------------------------------------------------------- */
typedef enum {
    TG__NORM_NFC, TG__NORM_NFD, TG__NORM_NFKC, TG__NORM_NFKD,
    TG__NORM_REPLACE, TG__NORM_PREPEND, TG__NORM_LOWERCASE, TG__NORM_STRIP
} tg__norm_kind;

typedef struct tg__norm_step {
    tg__norm_kind kind;
    tg__regex re;        /* REPLACE */
    char *content;       /* REPLACE: replacement; PREPEND: prefix */
    size_t content_len;
    int strip_left, strip_right;
} tg__norm_step;

typedef struct tg__normalizer {
    tg__norm_step *steps;
    size_t n;
} tg__normalizer;

tg_status tg__normalizer_from_json(tg__normalizer *nz, const json_t *j, tg_error *err);
void tg__normalizer_free(tg__normalizer *nz);
/* Normalizes s[0..n) into out (appended). Input and output are valid UTF-8.
 * *kept_start (may be NULL) is set to 0 when a step removed the text's first
 * char(s) (Strip on the left, Replace of a leading match by nothing), i.e.
 * when HF's offsets_original() of the result no longer starts at 0; else 1. */
/* 1 when NFC leaves c as is next to ASCII and other such chars (normalizer.c's
 * quick check; exposed for test_nfc_stable.c). */
int tg__nfc_stable(uint32_t c);
tg_status tg__normalize(const tg__normalizer *nz, tg__matcher *m, const char *s, size_t n,
                        tgx_buf *out, tgx_buf *tmp, int *kept_start, tg_error *err);

/* ---- pre-tokenizers ------------------------------------------------------ */
typedef enum {
    TG__SPLIT_REMOVED, TG__SPLIT_ISOLATED, TG__SPLIT_MERGED_PREV,
    TG__SPLIT_MERGED_NEXT, TG__SPLIT_CONTIGUOUS
} tg__split_behavior;

typedef enum {
    TG__PT_SPLIT,        /* regex or string, behavior, invert */
    TG__PT_BYTELEVEL,    /* add_prefix_space, use_regex (GPT-2 regex) */
    TG__PT_METASPACE,    /* replacement, prepend_scheme, split */
    TG__PT_DIGITS,       /* individual_digits */
    TG__PT_WHITESPACE,   /* \w+|[^\w\s]+ kept */
    TG__PT_WSSPLIT,      /* split on White_Space, removed */
    TG__PT_PUNCT         /* punctuation chars, behavior */
} tg__pt_kind;

enum { TG__PREPEND_ALWAYS, TG__PREPEND_FIRST, TG__PREPEND_NEVER };

typedef struct tg__pt_step {
    tg__pt_kind kind;
    tg__regex re;                /* SPLIT, BYTELEVEL(use_regex), WHITESPACE */
    int has_re;
    tg__split_behavior behavior; /* SPLIT, PUNCT */
    int invert;
    int add_prefix_space;        /* BYTELEVEL */
    char repl[8];                /* METASPACE replacement char, UTF-8 */
    size_t repl_len;
    int prepend_scheme;          /* METASPACE */
    int split;                   /* METASPACE */
    int individual_digits;       /* DIGITS */
    int after_bl;                /* after a ByteLevel step: HF runs it on the byte-level text
                                    (one char per raw byte, tg__bytelevel_char) */
} tg__pt_step;

typedef struct tg__pretokenizer {
    tg__pt_step *steps;
    size_t n;
    int byte_level;   /* a step is ByteLevel: the model sees raw bytes */
    int direct_kind;  /* > 0: the whole chain is one fast-path regex split, Isolated, not
                         inverted, then only identity steps (ByteLevel without regex or
                         prefix space): pieces are the regex's matches and gaps, taken
                         straight from tg__pretok_fast_next (pretokenizer.c) */
} tg__pretokenizer;

tg_status tg__pretokenizer_from_json(tg__pretokenizer *pt, const json_t *j, tg_error *err);
void tg__pretokenizer_free(tg__pretokenizer *pt);

/* Receives each final pre-token (never empty), in order. */
typedef tg_status (*tg__piece_fn)(void *ctx, const uint8_t *p, size_t n);

/* Receives consecutive pre-tokens in a batch: the i-th is s[ends[i-1]..ends[i])
 * (the first starts at start), k >= 1 of them, each non-empty. */
typedef tg_status (*tg__pieces_fn)(void *ctx, const uint8_t *s, size_t start, const size_t *ends, size_t k);

typedef struct tg__pt_run {
    const tg__pretokenizer *pt;
    tg__matcher *m;
    tgx_buf bufs[TG__MAX_STEPS]; /* per-step scratch for rewritten pieces */
    tg__piece_fn sink;
    void *sink_ctx;
    tg__pieces_fn sink_many; /* optional, same ctx: the direct chain hands its pieces over in batches */
} tg__pt_run;

void tg__pt_run_init(tg__pt_run *r, const tg__pretokenizer *pt, tg__matcher *m, tg__piece_fn sink,
                     void *sink_ctx);
void tg__pt_run_free(tg__pt_run *r);
/* Pre-tokenizes one normalized segment, streaming pieces to the sink.
 * at_start: the segment begins at offset 0 of the original text (Metaspace
 * prepend_scheme "first"). */
tg_status tg__pretokenize(tg__pt_run *r, const uint8_t *s, size_t n, int at_start, tg_error *err);

/* Compiles an HF pattern object {"String": s} or {"Regex": r}. */
tg_status tg__pattern_from_json(tg__regex *re, const json_t *p, const char *where, tg_error *err);
/* Refuses keys of o outside the NULL-terminated list `allowed`, naming them. */
tg_status tg__check_keys(const json_t *o, const char *const *allowed, const char *where, tg_error *err);

/* ---- BPE model ------------------------------------------------------------ */
/* A merge as offsets (tokenizer.json's decoder writes these: 16 bytes a merge,
 * no copy). l/r: byte offset of the left/right token in the spec's merge_src,
 * or, with TG__MERGE_POOL set, in its merge_pool; ln/rn: their lengths. */
typedef struct tg__merge_ref {
    uint32_t l, ln, r, rn;
} tg__merge_ref;
#define TG__MERGE_POOL 0x80000000u

typedef struct tg__bpe_spec {
    size_t n_vocab;
    const tg__bytes *vocab;       /* vocab[id]; an entry with p == NULL is a hole */
    tg__strtab *tokens;           /* or, when non-NULL, the vocabulary as a table (not
                                     indexed): tg__bpe_build takes it over and zeroes
                                     *tokens; vocab and n_vocab are then unused */
    size_t n_merges;
    const tg__bytes *merge_left;  /* merge i (rank i) = left[i] + right[i] */
    const tg__bytes *merge_right;
    const tg__merge_ref *merge_refs; /* or, when non-NULL, merge i = merge_refs[i] */
    const char *merge_src, *merge_pool;
    tg__bytes unk_token;          /* p == NULL: none */
    tg__bytes continuing_subword_prefix; /* p == NULL: none */
    tg__bytes end_of_word_suffix;        /* p == NULL: none */
    int byte_fallback, fuse_unk, ignore_merges;
} tg__bpe_spec;

#define TG__BPE_MAX_CROSS 16 /* merged tokens joining a char to a following U+2581 that still allow splitting */

typedef struct tg__merge_slot {
    uint64_t key;        /* ((left << 32) | right) + 1; 0 empty */
    uint32_t rank;
    uint32_t new_id;
} tg__merge_slot;

typedef struct tg__bpe {
    tg__strtab tokens;       /* id -> string exactly as in the vocabulary, indexed */
    tg__strtab model;        /* unused (kept zeroed) */
    tg__strtab odd;          /* unused (kept zeroed) */
    const tg__strtab *mt;    /* the table BPE looks symbols up in: &tokens */
    int byte_mode;           /* symbols start as single bytes (ByteLevel pre-tokenizer) */
    uint32_t byte_id[256];   /* byte_mode: id of each single byte */
    uint32_t fallback_id[256]; /* byte_fallback: id of "<0xNN>" */
    uint32_t ascii_id[128];  /* !byte_mode, no subword prefix/suffix: id of each ASCII char
                                as a one-char symbol (TG__NO_ID: absent), so the common
                                initial symbols need no vocabulary lookup */
    tg__merge_slot *merges;
    size_t merge_mask;
    size_t n_merges;
    uint64_t *pair_filter; /* bpe_core.h pf_maybe: a blocked Bloom filter of the merge table's
                              pairs, 3 bits in one word each (NULL: none); long words ask it
                              before the big table, whose probes miss the caches */
    size_t pf_mask;        /* its words - 1 */
    uint32_t unk_id;
    int fuse_unk, byte_fallback, ignore_merges;
    size_t longest; /* the longest vocabulary string in bytes (0: not known); ignore_merges skips
                       the whole-word lookup of longer pre-tokens */
    char *cont_prefix, *eow_suffix;
    size_t cont_prefix_len, eow_suffix_len;
    struct tg__word_cache *wcache; /* pre-token -> ids across calls and threads (word_cache.h);
                                      NULL: none (out of memory at build) */
    struct tg__word_cache *wcache_big; /* the same for pre-tokens of 40 bytes and more (512-byte slots) */
    struct tg__word_cache *wcache_tiny; /* and for keys of 1..8 bytes with 1..4 ids (32-byte slots); NULL off little-endian */
    /* Split before U+2581 (bpe_split.c): set when no merge can join a char
     * other than U+2581 to a following U+2581, except the few merged tokens
     * listed in cross[] (checked against the text at each such boundary). */
    int ws_split;
    size_t n_cross;
    struct tg__bpe_cross {
        const char *s;   /* the merged token's bytes (in tokens.pool) */
        uint32_t len;    /* its length */
        uint32_t at;     /* offset of a U+2581 that follows another char */
    } cross[TG__BPE_MAX_CROSS];
    /* With ws_split, also split between ASCII chars a and c when bit c of
     * ascii_cut[a] is set: both are one-char tokens and no merged token
     * holds the two next to each other (bpe_split.c). */
    uint64_t ascii_cut[128][2];
} tg__bpe;

/* Prefetches the shared-cache set piece p[0..n) would be looked up in
 * (bpe.c) and returns the piece's hash for fn below (0: none computed):
 * bpe_split.c calls it for a batch of pieces before encoding them, so their
 * cache misses overlap. */
uint64_t tg__bpe_prefetch_piece(const tg__bpe *b, const uint8_t *p, size_t n);
/* Decides b->ws_split and fills b->cross (bpe_split.c); called once the
 * merges are resolved. */
void tg__bpe_split_setup(tg__bpe *b);
/* Calls fn(b, s, piece, len, h, out, err) on each piece of p[0..n) between
 * safe split points (all of it when b->ws_split is 0), h the piece's hash
 * from tg__bpe_prefetch_piece or 0; stops at an error. */
typedef struct tg__bpe_scratch tg__bpe_scratch;
typedef tg_status (*tg__bpe_piece_fn)(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                                      uint64_t h, tg_tokens *out, tg_error *err);
tg_status tg__bpe_split_each(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, tg_tokens *out,
                             tg_error *err, tg__bpe_piece_fn fn);
/* The ids of one pre-token by BPE alone, no cache (bpe.c; for sp_raw.c). */
tg_status tg__bpe_encode_word(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n, tg_tokens *out,
                              tg_error *err);

/* byte_mode: the pre-tokenizer ends with ByteLevel, so every piece reaching
 * the model is byte-level text; the model then keeps raw bytes internally. */
tg_status tg__bpe_build(tg__bpe *b, const tg__bpe_spec *spec, int byte_mode, tg_error *err);
void tg__bpe_free(tg__bpe *b);
/* The id of a vocabulary string (as tokenizer.json writes it), or TG__NO_ID. */
uint32_t tg__bpe_find_token(const tg__bpe *b, const char *s, size_t n);

/* Per-call scratch for BPE (symbols, heap, pre-token cache). */
typedef struct tg__bpe_scratch tg__bpe_scratch;
tg__bpe_scratch *tg__bpe_scratch_new(void);
void tg__bpe_scratch_free(tg__bpe_scratch *s);
/* Tokenizes one pre-token (model form: raw bytes in byte_mode) and appends
 * the ids to out. */
tg_status tg__bpe_encode(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *p, size_t n,
                         tg_tokens *out, tg_error *err);
/* The same for k consecutive pre-tokens: the i-th is base[ends[i-1]..ends[i])
 * (the first starts at start); the ids are those of k tg__bpe_encode calls.
 * Shared-cache hits are copied out inline, with no call per pre-token. */
tg_status tg__bpe_encode_pieces(const tg__bpe *b, tg__bpe_scratch *s, const uint8_t *base, size_t start,
                                const size_t *ends, size_t k, tg_tokens *out, tg_error *err);

/* ---- added tokens --------------------------------------------------------- */
typedef struct tg__added_spec {
    uint32_t id;
    tg__bytes content;
    int special, lstrip, rstrip, single_word, normalized;
} tg__added_spec;

typedef struct tg__added_token {
    uint32_t id;
    char *content;
    size_t content_len;
    int special, lstrip, rstrip, single_word, normalized;
} tg__added_token;

/* A byte trie over the patterns of one matching set (leftmost-longest). */
typedef struct tg__trie tg__trie;

typedef struct tg__added {
    tg__added_token *tokens;  /* in tokenizer.json order */
    size_t n;
    tg__trie *raw;            /* normalized == false: matched on raw text */
    tg__trie *norm;           /* normalized == true: contents normalized, matched after */
    uint32_t max_id;          /* largest added id + 1 */
    uint32_t *by_id;          /* id -> index in tokens, TG__NO_ID */
    size_t by_id_len;
    tg__strtab specials;      /* contents of special tokens, indexed (HF is_special_token) */
} tg__added;

/* One added-token match inside a text. */
typedef struct tg__added_hit {
    size_t start, end;        /* after lstrip/rstrip */
    uint32_t id;
} tg__added_hit;

tg__trie *tg__trie_new(void);
void tg__trie_free(tg__trie *t);
tg_status tg__trie_add(tg__trie *t, const char *s, size_t n, uint32_t token_index);
/* Finds the next leftmost-longest pattern match at or after pos. */
int tg__trie_next(const tg__trie *t, const uint8_t *s, size_t n, size_t pos, size_t *ms,
                  size_t *me, uint32_t *token_index);

/* ---- post-processor --------------------------------------------------------- */
typedef struct tg__postproc {
    uint32_t *prefix, *suffix; /* ids around the sequence when add_special */
    size_t n_prefix, n_suffix;
} tg__postproc;

tg_status tg__postproc_from_json(tg__postproc *pp, const json_t *j, tg_error *err);
void tg__postproc_free(tg__postproc *pp);

/* ---- decoders ----------------------------------------------------------------- */
typedef enum {
    TG__DEC_BYTELEVEL, TG__DEC_REPLACE, TG__DEC_BYTEFALLBACK, TG__DEC_FUSE,
    TG__DEC_STRIP, TG__DEC_METASPACE
} tg__dec_kind;

typedef struct tg__dec_step {
    tg__dec_kind kind;
    tg__regex re;            /* REPLACE */
    char *content;           /* REPLACE: replacement; STRIP: char */
    size_t content_len;
    size_t strip_start, strip_stop;
    char repl[8];            /* METASPACE */
    size_t repl_len;
    int prepend_scheme;
} tg__dec_step;

typedef struct tg__decoder {
    tg__dec_step *steps;
    size_t n;
    int present;             /* 0: tokenizer.json decoder is null (join with " ") */
    int separable;           /* decode(a ++ b) == decode(a) ++ decode(b, not at start) at stable cuts */
    int has_bytelevel, has_bytefallback;
} tg__decoder;

tg_status tg__decoder_from_json(tg__decoder *d, const json_t *j, tg_error *err);
void tg__decoder_free(tg__decoder *d);

/* ---- configuration (tokenizer_config.json) ------------------------------------ */
typedef struct tg__config {
    uint32_t bos_id, eos_id, pad_id, unk_id; /* TG__NO_ID when unknown */
    int add_bos, add_eos;                    /* -1 unknown */
    char *bos_token, *eos_token;
    char *chat_template;                     /* default template, or NULL */
    char **template_names, **template_srcs;  /* named templates (list form) */
    size_t n_templates;
    uint32_t *eog_ids;                       /* end-of-generation ids */
    size_t n_eog;
} tg__config;

void tg__config_free(tg__config *c);

/* ---- the tokenizer --------------------------------------------------------------- */
struct tg_tokenizer {
    tg__normalizer norm;
    tg__pretokenizer pretok;
    tg__bpe bpe;
    tg__added added;
    tg__postproc post;
    tg__decoder dec;
    tg__config cfg;
    uint32_t vocab_size;   /* max id + 1 over model and added tokens */
    struct tg__sp_conf {   /* sp_raw.c's path (Gemma-3), set by tg__sp_raw_setup */
        uint32_t ws_id;    /* the id of "\u2581"; TG__NO_ID: the path is off */
        int skip;          /* 1: no pair of bytes in 'a'..'z' less excl[] is ever cut */
        uint8_t n_excl, excl[4];
    } sp_raw;
};


/* The constructor every loader ends in (see top of file). On success *out is
 * a complete tokenizer; cfg (may be NULL) is moved into it (zeroed on return
 * either way when non-NULL). */
tg_status tg__tokenizer_build(const tg__bpe_spec *model, const tg__added_spec *added,
                              size_t n_added, const json_t *normalizer,
                              const json_t *pre_tokenizer, const json_t *post_processor,
                              const json_t *decoder, tg__config *cfg, tg_tokenizer **out,
                              tg_error *err);

/* tg__tokenizer_build with flags:
 * TG__BUILD_HF_ADDED_IDS: give added tokens the ids HF's deserialization
 * gives them, ignoring tg__added_spec.id: in order, a token whose content is
 * already known (an earlier added token, else the model vocabulary) takes that
 * id; a new one takes max(assigned ids) + 1, or the model's vocabulary size
 * (number of entries) while no assigned id reaches it. Empty contents and
 * exact repeats are ignored. tokenizer.json loading uses this (HF does not
 * read the "id" field back); GGUF loading gives explicit ids (flags 0). */
#define TG__BUILD_HF_ADDED_IDS 1u
tg_status tg__tokenizer_build_ex(const tg__bpe_spec *model, const tg__added_spec *added,
                                 size_t n_added, const json_t *normalizer,
                                 const json_t *pre_tokenizer, const json_t *post_processor,
                                 const json_t *decoder, tg__config *cfg, unsigned flags,
                                 tg_tokenizer **out, tg_error *err);

/* Loaders over buffers (tokenizer_json.c, tokenizer_config.c). */
tg_status tg__tokenizer_from_json_buf(const char *json, size_t len, const char *config_json,
                                      size_t config_len, tg_tokenizer **out, tg_error *err);
/* On failure cfg holds nothing (it is freed). */
tg_status tg__config_parse(const char *json, size_t len, tg__config *cfg, tg_error *err);
/* Resolves token names in cfg (bos/eos strings) to ids using t. */
void tg__config_resolve(tg_tokenizer *t);

/* Token id -> its string as in the vocabulary (added tokens included). */
int tg__token_string(const tg_tokenizer *t, uint32_t id, tg__bytes *out);
/* 1 when id is an added token marked special. */
int tg__is_special(const tg_tokenizer *t, uint32_t id);

/* Decoding core (decoder.c). Decodes ids as HF's TokenizerImpl::decode does
 * (ids -> token strings, skipping unknown ids and, when skip_special, special
 * tokens; then the decoder chain over the whole list), appending to out.
 * `at_start` is 0 when the ids continue an earlier decode: the first token is
 * then not "first" for Metaspace/Strip, and a null decoder joins it with " ". */
tg_status tg__decode_ids(const tg_tokenizer *t, const uint32_t *ids, size_t n, int skip_special,
                         int at_start, tgx_buf *out, tg_error *err);
/* Number of leading ids (0..n) after which decoding is separable: no later id
 * can change the text of ids[0..cut) (no byte-fallback group or incomplete
 * byte-level UTF-8 sequence spans the cut). ids must already be filtered
 * (unknown and skipped specials removed). */
size_t tg__decode_stable_cut(const tg_tokenizer *t, const uint32_t *ids, size_t n);
/* The same, when the caller knows that the last bf_run ids (and no more, or
 * bf_run == n) are byte-fallback byte tokens (tg__decode_is_byte_token): the
 * byte run is not scanned again (the stream keeps that count, so a long run
 * costs O(1) per id, not O(run)). */
size_t tg__decode_stable_cut_run(const tg_tokenizer *t, const uint32_t *ids, size_t n, size_t bf_run);
/* 1 when the decoder has a ByteFallback step and id is a <0xHH> token. */
int tg__decode_is_byte_token(const tg_tokenizer *t, uint32_t id);
/* 1 when id survives HF decode's filter (known id, not a skipped special). */
int tg__decode_keeps(const tg_tokenizer *t, uint32_t id, int skip_special);

/* Appends to out the bytes of s with invalid UTF-8 replaced by U+FFFD, one per
 * maximal ill-formed subpart (Rust String::from_utf8_lossy). */
tg_status tg__utf8_lossy(tgx_buf *out, const char *s, size_t n);
/* Length of a trailing proper prefix of a valid UTF-8 sequence (0-3). */
size_t tg__utf8_incomplete_tail(const char *s, size_t n);

#endif
