/*
 * bpe_runs.c: the BPE merge core's compressed forms for long words that
 * repeat (tg__bpe_run_word, called by bpe.c's bpe_word for words of more
 * than NAIVE_MAX symbols): runs of one symbol merged as (token, count)
 * elements, and one unit of 2..4 symbols repeated. Each batch is checked
 * against HF's order (lowest rank, leftmost); when a check fails the word,
 * in a state HF passes through, goes back to bpe.c's symbol path (heap or
 * rank buckets), so results are HF's for any merge list.
 */
#include <string.h>
#include <stdlib.h>

#include "tokenizer/bpe_core.h"

/*
 * Runs of one repeated symbol in compressed form: a word of many symbols
 * but few runs (100 KB of spaces is one run) is a list of elements (token,
 * count). HF's next merge is the pair of lowest rank, leftmost; the pairs
 * are, per element, (token, token) inside it when its count is 2 or more,
 * and (token, next element's token) between elements. A merge between
 * elements takes one from each and puts the merged token between them. A
 * merge inside an element of count c is, in HF, c/2 merges left to right
 * (leftmost first: "t t t t t" -> "tt tt t"); they run as one batch when no
 * pair they create in between ranks lower than the batch's, which the batch
 * checks ((tt, tt), (tt, t), and (left neighbour, tt)): then the element
 * becomes (tt, c/2) and, when c is odd, one t after it. Elements next to each
 * other with the same token are joined. When a check fails or the list grows
 * past RUN_ELEMS, the word as it stands (a state HF passes through) goes to
 * the rank buckets or the heap, which finish it exactly. So a run costs a few
 * hundred pair lookups however long it is.
 */
#define RUN_ELEMS 64 /* elements at most; a word starts compressed with up to RUN_ELEMS / 2 runs */

typedef struct relem {
    uint32_t id, count;
} relem;

/* The rank of pair (l, r), UINT32_MAX for none. */
static inline uint32_t pair_rank(const tg__bpe *b, mcache_ent *mc, uint32_t l, uint32_t r, uint32_t *nid) {
    uint32_t rk;
    return mc_find(b, mc, l, r, &rk, nid) ? rk : UINT32_MAX;
}

/* Inserts (id, 1) at e[at], shifting the rest; 0 when there is no room. */
static int run_insert(relem *e, size_t *n, size_t at, uint32_t id) {
    if (*n == RUN_ELEMS) return 0;
    memmove(e + at + 1, e + at, (*n - at) * sizeof *e);
    e[at] = (relem){id, 1};
    (*n)++;
    return 1;
}

/* Drops empty elements and joins neighbours with the same token. */
static void run_tidy(relem *e, size_t *n) {
    size_t o = 0;
    for (size_t i = 0; i < *n; i++) {
        if (e[i].count == 0) continue;
        if (o && e[o - 1].id == e[i].id) e[o - 1].count += e[i].count;
        else e[o++] = e[i];
    }
    *n = o;
}

/* Applies merges to e[0..*n) until none applies (1) or the compressed form
 * cannot take the next one (0: e holds a state HF passes through; *fail is
 * the element whose batch HF would interleave with other merges, SIZE_MAX
 * when the list is full). */
static int run_merge(const tg__bpe *b, mcache_ent *mc, relem *e, size_t *n, size_t *fail) {
    *fail = SIZE_MAX;
    for (;;) {
        uint32_t best = UINT32_MAX, bnid = 0, nid, rk;
        size_t bi = 0;
        int inside = 0;
        for (size_t i = 0; i < *n; i++) {
            if (e[i].count >= 2 && (rk = pair_rank(b, mc, e[i].id, e[i].id, &nid)) < best) {
                best = rk; bnid = nid; bi = i; inside = 1;
            }
            if (i + 1 < *n && (rk = pair_rank(b, mc, e[i].id, e[i + 1].id, &nid)) < best) {
                best = rk; bnid = nid; bi = i; inside = 0;
            }
        }
        if (best == UINT32_MAX) return 1;
        if (!inside) { /* between e[bi] and e[bi + 1] */
            e[bi].count--;
            e[bi + 1].count--;
            if (!run_insert(e, n, bi + 1, bnid)) { e[bi].count++; e[bi + 1].count++; return 0; }
        } else {
            uint32_t t = e[bi].id, c = e[bi].count;
            if ((c >= 4 && pair_rank(b, mc, bnid, bnid, &nid) < best) ||
                (c >= 3 && pair_rank(b, mc, bnid, t, &nid) < best) ||
                (bi > 0 && pair_rank(b, mc, e[bi - 1].id, bnid, &nid) < best)) {
                *fail = bi;
                return 0; /* HF would merge a new pair in the middle of the batch */
            }
            if ((c & 1) && *n == RUN_ELEMS) return 0;
            e[bi].id = bnid;
            e[bi].count = c / 2;
            if (c & 1) run_insert(e, n, bi + 1, t);
        }
        run_tidy(e, n);
    }
}

/* The symbols of e[0..n) in y (each of length 1: only 0 means merged
 * away); returns their count. */
static size_t run_expand(sym *y, const relem *e, size_t n) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < e[i].count; j++, k++)
            y[k] = (sym){e[i].id, (int32_t)k - 1, (int32_t)k + 1, 1};
    if (k) y[k - 1].next = -1;
    return k;
}

/* The word in y[0..k) as runs, when it has at most RUN_ELEMS / 2 of
 * them: their count, else 0. */
static size_t run_split(const sym *y, size_t k, relem *e) {
    size_t n = 0;
    for (size_t i = 0; i < k; i++) {
        if (n && e[n - 1].id == y[i].id) { e[n - 1].count++; continue; }
        if (n == RUN_ELEMS / 2) return 0;
        e[n++] = (relem){y[i].id, 1};
    }
    return n;
}

/*
 * A word that is one unit of 2..UNIT_MAX symbols repeated (a byte-level "é"
 * is 2 symbols, "中" 3, an emoji 4): while the lowest-rank pair lies inside
 * the unit, HF merges it in every copy, left to right; that is one batch
 * when no pair the merged token forms on the way (inside a copy, between
 * merged copies, between a merged and an unmerged copy) ranks lower. The
 * unit shrinks by one symbol a batch; at one symbol the word is a run
 * (above). Otherwise the word as it stands goes to the symbol path.
 */
#define UNIT_MAX 4

/* The period p (2..UNIT_MAX) of y[0..k) when it is a whole number of
 * copies (at least 2) of its first p symbols, which go to u; else 0. */
static size_t unit_period(const sym *y, size_t k, uint32_t *u) {
    for (size_t p = 2; p <= UNIT_MAX && 2 * p <= k; p++) {
        if (k % p) continue;
        size_t i = p;
        while (i < k && y[i].id == y[i - p].id) i++;
        if (i < k) continue;
        for (i = 0; i < p; i++) u[i] = y[i].id;
        return p;
    }
    return 0;
}

/* 1 when every pair around token z in unit u[0..p) (merged from old, whose
 * copies follow) ranks above best. */
static int unit_batch_ok(const tg__bpe *b, mcache_ent *mc, const uint32_t *u, size_t p, uint32_t old0,
                         uint32_t z, uint32_t best) {
    uint32_t nid;
    for (size_t j = 0; j < p; j++) { /* inside the unit, and between two merged copies (j = p - 1) */
        uint32_t l = u[j], r = j + 1 < p ? u[j + 1] : u[0];
        if ((l == z || r == z) && pair_rank(b, mc, l, r, &nid) < best) return 0;
    }
    /* a merged copy before an unmerged one */
    return u[p - 1] != z || pair_rank(b, mc, z, old0, &nid) > best;
}

/* Shrinks unit u[0..*p) (copies of it: at least 2) by batches until it is
 * one symbol (1), no pair of the word has a merge (2: the copies are the
 * result), or the next merge is not a batch inside it (0). */
static int unit_merge(const tg__bpe *b, mcache_ent *mc, uint32_t *u, size_t *p) {
    while (*p > 1) {
        uint32_t best = UINT32_MAX, z = 0, nid, rk;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < *p; i++)
            if ((rk = pair_rank(b, mc, u[i], u[i + 1], &nid)) < best) { best = rk; z = nid; bi = i; }
        rk = pair_rank(b, mc, u[*p - 1], u[0], &nid); /* between two copies */
        if (best == UINT32_MAX && rk == UINT32_MAX) return 2;
        if (best == UINT32_MAX || rk < best) return 0;
        uint32_t old0 = u[0];
        uint32_t nu[UNIT_MAX];
        memcpy(nu, u, *p * sizeof *u);
        nu[bi] = z;
        memmove(nu + bi + 1, nu + bi + 2, (*p - bi - 2) * sizeof *nu);
        if (!unit_batch_ok(b, mc, nu, *p - 1, old0, z, best)) return 0;
        memcpy(u, nu, (*p - 1) * sizeof *u);
        (*p)--;
    }
    return 1;
}

/* y[0..copies * p) as copies of u[0..p); returns the count. */
static size_t unit_expand(sym *y, const uint32_t *u, size_t p, size_t copies) {
    size_t k = copies * p;
    for (size_t i = 0; i < k; i++) y[i] = (sym){u[i % p], (int32_t)i - 1, (int32_t)i + 1, 1};
    y[k - 1].next = -1;
    return k;
}

/*
 * One long run in a window, when its batch fails (Gemma-3's runs of "▁":
 * its merge list ranks (▁▁, ▁) and (▁▁, ▁▁) below (▁, ▁), so HF grows a
 * token at the run's left end one merge at a time, which no batch can
 * express). The word is out + w + t^c + R: out the tokens left of the
 * window, frozen (pm[i]: the lowest rank of a pair inside out[0..i]); w at
 * most WIN_MAX tokens; the run (t, c); R the elements right of the run,
 * inert (rmin: the lowest rank of a pair inside R or between t and R). Each
 * step is HF's: the lowest-rank pair, leftmost, among out's last token, w and
 * the run's first two symbols (the leftmost (t, t)), taken only when it ranks
 * below every pair inside out (all to its left) and every pair of R, and
 * only while c >= 2; otherwise the state, one HF passes through, goes back
 * to the element list (or to the symbol path). A merge with out's last token
 * takes that token back into the window. When w outgrows WIN_MAX its first
 * token is frozen.
 *
 * Cycles: when two freeze events see the same last token of out and the same
 * window, no token was taken back between them, every rank merged between
 * them is below the lowest pair inside out, and c >= 2, the steps between
 * them depended on nothing else (the run's length only through c >= 2), so
 * they repeat exactly while c stays >= 2: the tokens frozen between them (S)
 * are appended that many times. The pairs the copies add (inside S, and
 * (last of S, first of S), which is (out's last token at the first event,
 * first of S)) were all added to out between the events, so pm stays as it
 * is. A run of 100 KB then costs a few cycles of steps.
 */
#define WIN_MAX 4    /* window tokens; one more freezes the first */
#define WIN_HIST 8   /* freeze events kept for finding a cycle */
#define WIN_ROUNDS 16 /* windows per word before the symbol path takes over */

typedef struct wevent {
    uint32_t key[WIN_MAX + 1]; /* out's last token, then w */
    size_t nout, c, taken;
    uint32_t top; /* the highest rank merged since the event before */
} wevent;

typedef struct wsim {
    uint32_t *out, *pm;
    size_t nout, nw, c, taken; /* taken: tokens taken back from out */
    uint32_t w[WIN_MAX + 1], t, rmin, top;
    wevent ev[WIN_HIST];
    size_t nev;
} wsim;

static inline uint32_t ws_floor(const wsim *s) { return s->nout ? s->pm[s->nout - 1] : UINT32_MAX; }

static void ws_push(const tg__bpe *b, mcache_ent *mc, wsim *s, uint32_t id) {
    uint32_t nid, r = UINT32_MAX;
    if (s->nout) {
        r = pair_rank(b, mc, s->out[s->nout - 1], id, &nid);
        if (s->pm[s->nout - 1] < r) r = s->pm[s->nout - 1];
    }
    s->pm[s->nout] = r;
    s->out[s->nout++] = id;
}

/* A freeze event (w holds WIN_MAX tokens): applies the repeats when it
 * closes a cycle with an earlier one, else records it. */
static void ws_event(wsim *s) {
    uint32_t key[WIN_MAX + 1];
    key[0] = s->out[s->nout - 1];
    memcpy(key + 1, s->w, WIN_MAX * sizeof *key);
    uint32_t top = s->top; /* the highest rank merged since event i */
    for (size_t i = s->nev; i-- > 0;) {
        const wevent *v = &s->ev[i];
        if (!memcmp(v->key, key, sizeof key) && v->taken == s->taken && top < ws_floor(s) && v->c > s->c &&
            s->c >= 2) {
            size_t d = v->c - s->c, len = s->nout - v->nout, from = v->nout;
            size_t reps = (s->c - 2) / d;
            uint32_t floor = ws_floor(s);
            for (size_t r = 0; r < reps; r++)
                for (size_t j = 0; j < len; j++) {
                    s->out[s->nout] = s->out[from + j];
                    s->pm[s->nout++] = floor;
                }
            s->c -= reps * d;
            s->nev = 0;
            s->top = 0;
            return;
        }
        if (v->top > top) top = v->top;
    }
    if (s->nev == WIN_HIST) memmove(s->ev, s->ev + 1, --s->nev * sizeof *s->ev);
    wevent *v = &s->ev[s->nev++];
    memcpy(v->key, key, sizeof key);
    v->nout = s->nout;
    v->c = s->c;
    v->taken = s->taken;
    v->top = s->top;
    s->top = 0;
}

/* One step of HF's (above); 0 when its next merge is not the window's. */
static int ws_step(const tg__bpe *b, mcache_ent *mc, wsim *s, uint32_t rtt, uint32_t ntt) {
    uint32_t v[WIN_MAX + 4], best = UINT32_MAX, bnid = 0, nid, rk;
    size_t nv = 0, off = 0, bp = 0;
    if (s->nout) { v[nv++] = s->out[s->nout - 1]; off = 1; }
    memcpy(v + nv, s->w, s->nw * sizeof *v);
    nv += s->nw;
    v[nv++] = s->t;
    v[nv++] = s->t;
    for (size_t p = 0; p + 2 < nv; p++) /* every pair but the run's (t, t) */
        if ((rk = pair_rank(b, mc, v[p], v[p + 1], &nid)) < best) { best = rk; bnid = nid; bp = p; }
    if (rtt < best) { best = rtt; bnid = ntt; bp = nv - 2; }
    if (best == UINT32_MAX || best >= ws_floor(s) || best >= s->rmin) return 0;
    if (best > s->top) s->top = best;
    if (bp < off) { /* out's last token and the next: taken back */
        s->nout--;
        s->taken++;
        if (!s->nw) { s->nw = 1; s->c--; }
        s->w[0] = bnid;
    } else if (bp + 2 < nv) { /* w[j] and w[j + 1], or w's last and the run's first */
        size_t j = bp - off;
        s->w[j] = bnid;
        if (j + 1 < s->nw) memmove(s->w + j + 1, s->w + j + 2, (--s->nw - j - 1) * sizeof *s->w);
        else s->c--;
    } else { /* the run's first two */
        s->w[s->nw++] = bnid;
        s->c -= 2;
    }
    if (s->nw > WIN_MAX) {
        ws_push(b, mc, s, s->w[0]);
        memmove(s->w, s->w + 1, --s->nw * sizeof *s->w);
        ws_event(s);
    }
    return 1;
}

/* Appends (id, count) to e[0..*n), joining an equal neighbour; 0 when full. */
static int run_add(relem *e, size_t *n, uint32_t id, size_t count) {
    if (!count) return 1;
    if (*n && e[*n - 1].id == id) { e[*n - 1].count += (uint32_t)count; return 1; }
    if (*n == RUN_ELEMS) return 0;
    e[(*n)++] = (relem){id, (uint32_t)count};
    return 1;
}

/* The state s stopped in, with R = e[f + 1..*n): into e when it fits in
 * RUN_ELEMS elements (1), else into y[0..*k) as symbols (0). */
static int ws_store(const wsim *s, relem *e, size_t *n, size_t f, sym *y, size_t *k) {
    relem ne[RUN_ELEMS];
    size_t nn = 0;
    int fits = 1;
    for (size_t i = 0; i < s->nout && fits; i++) fits = run_add(ne, &nn, s->out[i], 1);
    for (size_t i = 0; i < s->nw && fits; i++) fits = run_add(ne, &nn, s->w[i], 1);
    fits = fits && run_add(ne, &nn, s->t, s->c);
    for (size_t i = f + 1; i < *n && fits; i++) fits = run_add(ne, &nn, e[i].id, e[i].count);
    if (fits) {
        memcpy(e, ne, nn * sizeof *e);
        *n = nn;
        return 1;
    }
    size_t m = 0;
#define PUT(ID) do { y[m] = (sym){(ID), (int32_t)m - 1, (int32_t)m + 1, 1}; m++; } while (0)
    for (size_t i = 0; i < s->nout; i++) PUT(s->out[i]);
    for (size_t i = 0; i < s->nw; i++) PUT(s->w[i]);
    for (size_t i = 0; i < s->c; i++) PUT(s->t);
    for (size_t i = f + 1; i < *n; i++)
        for (uint32_t j = 0; j < e[i].count; j++) PUT(e[i].id);
#undef PUT
    y[m - 1].next = -1;
    *k = m;
    return 0;
}

/* Runs e[f] (count >= 2) of e[0..*n) (a word of *k symbols) in a window
 * (above). *where: 0 when no merge was made (e unchanged), 1 when the state
 * is back in e, 2 when it is in y[0..*k) as symbols. */
static tg_status run_window(const tg__bpe *b, mcache_ent *mc, sym *y, size_t *k, relem *e, size_t *n, size_t f,
                            int *where) {
    wsim s;
    memset(&s, 0, sizeof s);
    *where = 0;
    s.out = malloc((*k + 1) * sizeof *s.out); /* a word of k symbols has at most k tokens */
    s.pm = malloc((*k + 1) * sizeof *s.pm);
    if (!s.out || !s.pm) {
        free(s.out);
        free(s.pm);
        return TG_ENOMEM;
    }
    for (size_t i = 0; i < f; i++)
        for (uint32_t j = 0; j < e[i].count; j++) ws_push(b, mc, &s, e[i].id);
    uint32_t nid, ntt = 0, rk;
    uint32_t rtt = pair_rank(b, mc, e[f].id, e[f].id, &ntt);
    s.t = e[f].id;
    s.c = e[f].count;
    s.rmin = UINT32_MAX;
    for (size_t i = f + 1; i < *n; i++) {
        if (e[i].count >= 2 && (rk = pair_rank(b, mc, e[i].id, e[i].id, &nid)) < s.rmin) s.rmin = rk;
        if ((rk = pair_rank(b, mc, e[i - 1].id, e[i].id, &nid)) < s.rmin) s.rmin = rk;
    }
    int moved = 0;
    while (s.c >= 2 && ws_step(b, mc, &s, rtt, ntt)) moved = 1;
    if (moved) *where = ws_store(&s, e, n, f, y, k) ? 1 : 2;
    free(s.out);
    free(s.pm);
    return TG_OK;
}

/* Merges the word in y[0..k) by runs and appends its ids to out;
 * *done = 0 when it is not one (y unchanged) or the runs handed back
 * a state to finish by the symbols (y then holds it, *k its count). */
tg_status tg__bpe_run_word(const tg__bpe *b, sym *y, mcache_ent *mc, size_t *k, tg_tokens *out, int *done) {
    relem e[RUN_ELEMS];
    size_t n = run_split(y, *k, e);
    *done = 0;
    if (n == 0) { /* many runs: one unit repeated, or the symbol path */
        uint32_t u[UNIT_MAX];
        size_t p = unit_period(y, *k, u), copies = p ? *k / p : 0;
        if (!p || copies > UINT32_MAX) return TG_OK;
        int um = unit_merge(b, mc, u, &p);
        if (um != 1) {
            *k = unit_expand(y, u, p, copies);
            if (um == 0) return TG_OK;
            tg_status st = tg__bpe_reserve_ids(out, *k);
            if (st) return st;
            for (size_t i = 0; i < *k; i++) out->ids[out->len++] = y[i].id;
            *done = 1;
            return TG_OK;
        }
        e[0] = (relem){u[0], (uint32_t)copies};
        n = 1;
    }
    for (int round = 0;; round++) {
        size_t fail;
        if (run_merge(b, mc, e, &n, &fail)) break;
        int where = 0;
        tg_status st;
        if (fail != SIZE_MAX && round < WIN_ROUNDS && (st = run_window(b, mc, y, k, e, &n, fail, &where)))
            return st;
        if (where == 2) return TG_OK;
        if (where == 0) {
            *k = run_expand(y, e, n);
            return TG_OK;
        }
    }
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += e[i].count;
    tg_status st = tg__bpe_reserve_ids(out, total);
    if (st) return st;
    for (size_t i = 0; i < n; i++)
        for (uint32_t j = 0; j < e[i].count; j++) out->ids[out->len++] = e[i].id;
    *done = 1;
    return TG_OK;
}
