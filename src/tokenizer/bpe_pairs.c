/*
 * tokenizer/bpe_pairs.c: the pair filter in front of the BPE merge table
 * (bpe_core.h pf_maybe, used by mc_find for long words). Built once per model
 * from the merge table: each merge's pair sets 3 bits of one 64-bit word, at
 * about 8 bits a merge (a 0.5-4% false-positive rate for trained lists), so a
 * pair with no merge is answered from L2 instead of a probe of the 4-8 MB
 * table. A false positive only costs that probe; a pair with a merge always
 * passes, so answers are those of the table.
 */
#include <stdlib.h>

#include "tokenizer/bpe_core.h"

void tg__bpe_pair_filter_build(tg__bpe *b) {
    size_t words = 64;
    while (words * 8 < b->n_merges && words < ((size_t)1 << 15)) words *= 2; /* >= 8 bits a merge, at most 256 KB */
    uint64_t *f = calloc(words, sizeof *f);
    b->pair_filter = f;
    b->pf_mask = words - 1;
    if (!f) return;
    for (size_t i = 0; i <= b->merge_mask; i++) {
        uint64_t k = b->merges[i].key;
        if (k == MERGE_EMPTY) continue;
        uint64_t x = pf_hash(k - 1);
        f[(size_t)(x >> 40) & b->pf_mask] |= pf_bits(x);
    }
}
