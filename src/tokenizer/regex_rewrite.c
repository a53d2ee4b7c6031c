/*
 * regex_rewrite.c: rewrites the Unicode classes of a PCRE2 pattern into
 * explicit Unicode 16 classes (the contract is in regex_rewrite.h).
 *
 * The scanner follows PCRE2's own lexical rules only as far as it must to know
 * (a) whether a byte is inside a character class, (b) whether a backslash
 * starts an escape, and (c) whether (?i) is in force; everything it does not
 * rewrite is copied unchanged, so PCRE2 still reports the pattern's own syntax
 * errors.
 */
#include "tokenizer/regex_rewrite.h"

#include <stdint.h>
#include <string.h>

#include "tokenizer/unicode_class.h"

#define MAX_DEPTH 256
#define ALL_GC ((uint32_t)((1u << TG_GC_COUNT) - 1u))
#define GC(x) (1u << TG_GC_##x)
#define MASK_L (GC(Lu) | GC(Ll) | GC(Lt) | GC(Lm) | GC(Lo))
#define MASK_M (GC(Mn) | GC(Mc) | GC(Me))
#define MASK_N (GC(Nd) | GC(Nl) | GC(No))
#define MASK_P (GC(Pc) | GC(Pd) | GC(Ps) | GC(Pe) | GC(Pi) | GC(Pf) | GC(Po))
#define MASK_S (GC(Sm) | GC(Sc) | GC(Sk) | GC(So))
#define MASK_Z (GC(Zs) | GC(Zl) | GC(Zp))
#define MASK_C (GC(Cc) | GC(Cf) | GC(Cs) | GC(Co) | GC(Cn))

/* What a class item stands for. */
enum { SET_GC, SET_WS, SET_WORD, SET_ANY };

typedef struct {
    int kind;
    uint32_t mask; /* SET_GC: categories */
    int negated;
} item;

/* Names accepted after \p, normalised (lower case, no ' ', '_', '-'). */
static const struct {
    const char *name;
    uint32_t mask;
} NAMES[] = {
    {"l", MASK_L}, {"letter", MASK_L}, {"l&", GC(Lu) | GC(Ll) | GC(Lt)},
    {"lc", GC(Lu) | GC(Ll) | GC(Lt)}, {"casedletter", GC(Lu) | GC(Ll) | GC(Lt)},
    {"lu", GC(Lu)}, {"uppercaseletter", GC(Lu)}, {"ll", GC(Ll)}, {"lowercaseletter", GC(Ll)},
    {"lt", GC(Lt)}, {"titlecaseletter", GC(Lt)}, {"lm", GC(Lm)}, {"modifierletter", GC(Lm)},
    {"lo", GC(Lo)}, {"otherletter", GC(Lo)},
    {"m", MASK_M}, {"mark", MASK_M}, {"combiningmark", MASK_M},
    {"mn", GC(Mn)}, {"nonspacingmark", GC(Mn)}, {"mc", GC(Mc)}, {"spacingmark", GC(Mc)},
    {"me", GC(Me)}, {"enclosingmark", GC(Me)},
    {"n", MASK_N}, {"number", MASK_N}, {"nd", GC(Nd)}, {"decimalnumber", GC(Nd)},
    {"nl", GC(Nl)}, {"letternumber", GC(Nl)}, {"no", GC(No)}, {"othernumber", GC(No)},
    {"p", MASK_P}, {"punctuation", MASK_P}, {"pc", GC(Pc)}, {"connectorpunctuation", GC(Pc)},
    {"pd", GC(Pd)}, {"dashpunctuation", GC(Pd)}, {"ps", GC(Ps)}, {"openpunctuation", GC(Ps)},
    {"pe", GC(Pe)}, {"closepunctuation", GC(Pe)}, {"pi", GC(Pi)}, {"initialpunctuation", GC(Pi)},
    {"pf", GC(Pf)}, {"finalpunctuation", GC(Pf)}, {"po", GC(Po)}, {"otherpunctuation", GC(Po)},
    {"s", MASK_S}, {"symbol", MASK_S}, {"sm", GC(Sm)}, {"mathsymbol", GC(Sm)},
    {"sc", GC(Sc)}, {"currencysymbol", GC(Sc)}, {"sk", GC(Sk)}, {"modifiersymbol", GC(Sk)},
    {"so", GC(So)}, {"othersymbol", GC(So)},
    {"z", MASK_Z}, {"separator", MASK_Z}, {"zs", GC(Zs)}, {"spaceseparator", GC(Zs)},
    {"zl", GC(Zl)}, {"lineseparator", GC(Zl)}, {"zp", GC(Zp)}, {"paragraphseparator", GC(Zp)},
    {"c", MASK_C}, {"other", MASK_C}, {"cc", GC(Cc)}, {"control", GC(Cc)},
    {"cf", GC(Cf)}, {"format", GC(Cf)}, {"cs", GC(Cs)}, {"surrogate", GC(Cs)},
    {"co", GC(Co)}, {"privateuse", GC(Co)}, {"cn", GC(Cn)}, {"unassigned", GC(Cn)},
};

static tg_status refuse(tg_error *err, const char *what, size_t wlen, size_t at) {
    return tg_error_set(err, TG_EUNSUPPORTED,
                        "regex construct %.*s at offset %zu is not supported (its meaning depends "
                        "on PCRE2's Unicode 14 tables, and it has no Unicode 16 rewrite)",
                        (int)(wlen > 64 ? 64 : wlen), what, at);
}

/* One range, without surrogates (PCRE2 refuses them in UTF mode). */
static tg_status put_range(tgx_buf *out, uint32_t lo, uint32_t hi) {
    tg_status st;
    if (lo <= 0xDFFFu && hi >= 0xD800u) {
        if (lo < 0xD800u && (st = put_range(out, lo, 0xD7FFu))) return st;
        if (hi > 0xDFFFu && (st = put_range(out, 0xE000u, hi))) return st;
        return TG_OK;
    }
    if (lo == hi) return tgx_buf_printf(out, "\\x{%X}", (unsigned)lo);
    return tgx_buf_printf(out, "\\x{%X}-\\x{%X}", (unsigned)lo, (unsigned)hi);
}

static uint32_t run_start(size_t i) { return tg__uc_gc_runs[i] >> 5; }
static uint32_t run_end(size_t i) {
    return i + 1 < tg__uc_gc_nruns ? run_start(i + 1) - 1u : 0x10FFFFu;
}

/* Ranges of the code points whose Unicode 16 category is in mask, merged. */
static tg_status put_gc_ranges(tgx_buf *out, uint32_t mask) {
    tg_status st;
    int open = 0;
    uint32_t lo = 0, hi = 0;
    for (size_t i = 0; i < tg__uc_gc_nruns; i++) {
        if (!(mask & (1u << (tg__uc_gc_runs[i] & 31u)))) continue;
        if (open && run_start(i) == hi + 1u) {
            hi = run_end(i);
            continue;
        }
        if (open && (st = put_range(out, lo, hi))) return st;
        open = 1;
        lo = run_start(i);
        hi = run_end(i);
    }
    return open ? put_range(out, lo, hi) : TG_OK;
}

/* Members of Unicode 16 categories `mask`, compactly (see the header). */
static tg_status put_gc_positive(tgx_buf *out, uint32_t mask) {
    tg_status st;
    uint32_t spelled = 0; /* categories whose PCRE2 set is not inside the wanted set */
    for (size_t i = 0; i < tg__uc_pcre2_ndiffs; i++) {
        const tg__uc_diff *d = &tg__uc_pcre2_diffs[i];
        if ((mask & (1u << d->gc14)) && !(mask & (1u << d->gc16))) spelled |= 1u << d->gc14;
    }
    for (unsigned g = 0; g < TG_GC_COUNT; g++) {
        if (!(mask & (1u << g)) || (spelled & (1u << g))) continue;
        if ((st = tgx_buf_printf(out, "\\p{%s}", tg__uc_gc_names[g]))) return st;
    }
    if (spelled && (st = put_gc_ranges(out, spelled))) return st;
    for (size_t i = 0; i < tg__uc_pcre2_ndiffs; i++) {
        const tg__uc_diff *d = &tg__uc_pcre2_diffs[i];
        if ((mask & (1u << d->gc16)) && !(spelled & (1u << d->gc16)) && (st = put_range(out, d->lo, d->hi)))
            return st;
    }
    return TG_OK;
}

/* Inclusive range list r[0..2n), or its complement. */
static tg_status put_list(tgx_buf *out, const uint32_t *r, size_t n, int complement) {
    tg_status st;
    if (!complement) {
        for (size_t i = 0; i < n; i++)
            if ((st = put_range(out, r[2 * i], r[2 * i + 1]))) return st;
        return TG_OK;
    }
    uint32_t next = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[2 * i] > next && (st = put_range(out, next, r[2 * i] - 1u))) return st;
        next = r[2 * i + 1] + 1u;
    }
    return next <= 0x10FFFFu ? put_range(out, next, 0x10FFFFu) : TG_OK;
}

/* The members of it (inside a class): positive sets compactly, negated ones as
 * complement ranges. */
static tg_status put_members(tgx_buf *out, const item *it, int negated) {
    switch (it->kind) {
    case SET_WS: return put_list(out, tg__uc_white_space, tg__uc_white_space_n, negated);
    case SET_WORD: return put_list(out, tg__uc_word, tg__uc_word_n, negated);
    case SET_ANY: return negated ? TG_OK : tgx_buf_puts(out, "\\p{Any}");
    default: return negated ? put_gc_ranges(out, ALL_GC & ~it->mask) : put_gc_positive(out, it->mask);
    }
}

/* Parses the property name after \p or \P at pat[i] (i just past the letter).
 * Sets *it and *next (index after the name). */
static tg_status parse_property(const char *pat, size_t len, size_t at, size_t i, int neg, item *it,
                                size_t *next, tg_error *err) {
    const char *name;
    size_t nlen;
    if (i >= len) return refuse(err, pat + at, len - at, at);
    if (pat[i] == '{') {
        size_t j = i + 1;
        while (j < len && pat[j] != '}') j++;
        if (j >= len) return refuse(err, pat + at, len - at, at);
        name = pat + i + 1;
        nlen = j - i - 1;
        *next = j + 1;
    } else {
        name = pat + i;
        nlen = 1;
        *next = i + 1;
    }
    if (nlen > 0 && name[0] == '^') {
        neg = !neg;
        name++;
        nlen--;
    }
    char norm[48];
    size_t k = 0;
    for (size_t j = 0; j < nlen; j++) {
        char c = name[j];
        if (c == ' ' || c == '_' || c == '-') continue;
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (k + 1 >= sizeof norm) return refuse(err, pat + at, *next - at, at);
        norm[k++] = c;
    }
    norm[k] = 0;
    it->negated = neg;
    it->mask = 0;
    if (strcmp(norm, "any") == 0) {
        it->kind = SET_ANY;
        return TG_OK;
    }
    for (size_t j = 0; j < sizeof NAMES / sizeof NAMES[0]; j++) {
        if (strcmp(norm, NAMES[j].name) == 0) {
            it->kind = SET_GC;
            it->mask = NAMES[j].mask;
            return TG_OK;
        }
    }
    return tg_error_set(err, TG_EUNSUPPORTED,
                        "regex property %.*s at offset %zu is not supported (only general categories "
                        "such as L, Lu, N, Nd, P, S, Z, their long names, L& and Any)",
                        (int)(*next - at > 64 ? 64 : *next - at), pat + at, at);
}

/* Length of a POSIX class "[:name:]" / "[:^name:]" at pat[i], or 0. */
static size_t posix_class_len(const char *pat, size_t len, size_t i) {
    if (i + 1 >= len || pat[i] != '[' || (pat[i + 1] != ':' && pat[i + 1] != '.' && pat[i + 1] != '='))
        return 0;
    char t = pat[i + 1];
    size_t j = i + 2;
    if (j < len && pat[j] == '^') j++;
    while (j < len && ((pat[j] >= 'a' && pat[j] <= 'z') || (pat[j] >= 'A' && pat[j] <= 'Z'))) j++;
    if (j + 1 < len && pat[j] == t && pat[j + 1] == ']') return j + 2 - i;
    return 0;
}

tg_status tg__regex_rewrite_unicode(const char *pat, size_t len, tgx_buf *out, tg_error *err) {
    /* option stack: bit 0 caseless (i), bit 1 extended (x), bit 2 extended-more (xx); [0] is the pattern */
    unsigned char opt[MAX_DEPTH + 1];
    size_t depth = 0;
    int in_class = 0;
    size_t class_body = 0; /* index of the first byte that may close the class */
    size_t i = 0;
    tg_status st = TG_OK;
    opt[0] = 0;
#define PUTN(p, k) do { if ((st = tgx_buf_append(out, (p), (k)))) goto fail; } while (0)
    while (i < len) {
        char c = pat[i];
        if (c == '\\') {
            if (i + 1 >= len) { PUTN(pat + i, 1); i++; continue; }
            char e = pat[i + 1];
            if (e == 'Q') { /* literal up to \E or the end */
                size_t j = i + 2;
                while (j < len && !(pat[j] == '\\' && j + 1 < len && pat[j + 1] == 'E')) j++;
                j = j < len ? j + 2 : len;
                PUTN(pat + i, j - i);
                i = j;
                continue;
            }
            if (e == 'c' && i + 2 < len) { PUTN(pat + i, 3); i += 3; continue; }
            item it = {SET_GC, 0, 0};
            size_t next = i + 2;
            switch (e) {
            case 'p': case 'P':
                if ((st = parse_property(pat, len, i, i + 2, e == 'P', &it, &next, err))) return st;
                break;
            case 's': case 'S': it.kind = SET_WS; it.negated = e == 'S'; break;
            case 'd': case 'D': it.mask = GC(Nd); it.negated = e == 'D'; break;
            case 'w': case 'W': it.kind = SET_WORD; it.negated = e == 'W'; break;
            case 'b': case 'B': case 'X':
                if (in_class && e == 'b') { PUTN(pat + i, 2); i += 2; continue; }
                return refuse(err, pat + i, 2, i);
            default:
                PUTN(pat + i, 2);
                i += 2;
                continue;
            }
            if (it.kind == SET_ANY) { /* version independent: keep */
                PUTN(pat + i, next - i);
                i = next;
                continue;
            }
            int caseless = opt[depth] & 1;
            if (in_class) {
                if (caseless)
                    return tg_error_set(err, TG_EUNSUPPORTED,
                                        "regex class item %.*s at offset %zu inside a caseless (?i) "
                                        "class is not supported", (int)(next - i), pat + i, i);
                /* [\d-z]: PCRE2 refuses it, and after the rewrite it would silently
                 * become a range from the last inserted code point */
                if (next + 1 < len && pat[next] == '-' && pat[next + 1] != ']')
                    return tg_error_set(err, TG_EUNSUPPORTED,
                                        "regex class item %.*s at offset %zu starts a range",
                                        (int)(next - i), pat + i, i);
                if ((st = put_members(out, &it, it.negated))) goto fail;
            } else {
                if (caseless) PUTN("(?-i:", 5);
                PUTN(it.negated ? "[^" : "[", it.negated ? 2u : 1u);
                if ((st = put_members(out, &it, 0))) goto fail;
                PUTN("]", 1);
                if (caseless) PUTN(")", 1);
            }
            i = next;
            continue;
        }
        if (in_class) {
            if (c == '[') {
                size_t pl = posix_class_len(pat, len, i);
                if (pl) return refuse(err, pat + i, pl, i);
            } else if (c == ']' && i >= class_body) {
                in_class = 0;
            }
            PUTN(&c, 1);
            i++;
            continue;
        }
        if (c == '[') {
            in_class = 1;
            /* PCRE2 (parse_regex) skips \E, an empty \Q\E and, under (?xx), spaces
             * and tabs at a class's start, around one '^': "[\E]a]" and "[^\E]a]"
             * hold ']' and 'a' */
            size_t j = i + 1;
            int neg = 0;
            for (;;) {
                if (j + 1 < len && pat[j] == '\\' && pat[j + 1] == 'E') j += 2;
                else if (j + 3 < len && memcmp(pat + j, "\\Q\\E", 4) == 0) j += 4;
                else if ((opt[depth] & 4) && j < len && (pat[j] == ' ' || pat[j] == '\t')) j++;
                else if (!neg && j < len && pat[j] == '^') { neg = 1; j++; }
                else break;
            }
            class_body = j + 1; /* a ']' right after them is a member */
            PUTN(pat + i, j - i);
            i = j;
            continue;
        }
        if ((opt[depth] & 2) && c == '#') { /* (?x) comment to end of line */
            size_t j = i;
            while (j < len && pat[j] != '\n') j++;
            PUTN(pat + i, j - i);
            i = j;
            continue;
        }
        if (c == '(') {
            if (i + 1 < len && (pat[i + 1] == '*' || (pat[i + 1] == '?' && i + 2 < len && pat[i + 2] == '#'))) {
                /* (*VERB) or (?#comment): copied through the ')' */
                size_t j = i;
                while (j < len && pat[j] != ')') j++;
                j = j < len ? j + 1 : len;
                PUTN(pat + i, j - i);
                i = j;
                continue;
            }
            unsigned char o = opt[depth];
            size_t j = i + 1;
            if (j < len && pat[j] == '?') {
                size_t k = j + 1;
                int on = 1;
                unsigned char no = o;
                while (k < len && (pat[k] == '^' || pat[k] == '-' || (pat[k] >= 'a' && pat[k] <= 'z') ||
                                   (pat[k] >= 'A' && pat[k] <= 'Z'))) {
                    unsigned char bit = pat[k] == 'i' ? 1 : pat[k] == 'x' ? 2 : 0;
                    /* "xx" is extended-more (bit 2) on top of x; "-x" ends both */
                    if (bit == 2 && (!on || (k + 1 < len && pat[k + 1] == 'x'))) {
                        bit = 6;
                        if (on) k++;
                    }
                    if (pat[k] == '^') no = 0;
                    else if (pat[k] == '-') on = 0;
                    else if (bit) no = (unsigned char)(on ? (no | bit) : (no & ~bit));
                    k++;
                }
                if (k > j + 1 && k < len && pat[k] == ')') { /* (?flags): rest of this group */
                    opt[depth] = no;
                    PUTN(pat + i, k + 1 - i);
                    i = k + 1;
                    continue;
                }
                if (k > j + 1 && k < len && pat[k] == ':') o = no;
            }
            if (depth >= MAX_DEPTH)
                return tg_error_set(err, TG_ELIMIT, "regex groups nested deeper than %d at offset %zu",
                                    MAX_DEPTH, i);
            opt[++depth] = o;
            PUTN(&c, 1);
            i++;
            continue;
        }
        if (c == ')' && depth > 0) depth--;
        PUTN(&c, 1);
        i++;
    }
    return TG_OK;
fail:
    return tg_error_set(err, st, "regex rewrite: the rewritten pattern exceeds its buffer (%zu bytes): %s",
                        out->len, tg_status_str(st));
#undef PUTN
}
