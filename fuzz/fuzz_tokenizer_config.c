/*
 * fuzz_tokenizer_config.c: libFuzzer target for tokenizer_config.json
 * parsing (src/tokenizer/tokenizer_config.c: the fast scanner's validation
 * and top-level span of "added_tokens_decoder", then jansson over the rest).
 * Invariants, beyond "no crash, no leak": a document jansson refuses (read
 * with integers as reals, as the parser reads them: model_max_length
 * overflows 64 bits in real files) is refused, whatever the fast scanner's
 * cut did; a refusal says why; a parse that succeeds leaves add_bos/add_eos
 * in {-1, 0, 1} and every named template with a source.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

static void must(int cond, const char *what) {
    if (!cond) {
        fprintf(stderr, "invariant broken: %s\n", what);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n > (1u << 20)) return 0;
    char *doc = malloc(n ? n : 1); /* exactly n bytes: reads past the end are caught */
    if (!doc) return 0;
    memcpy(doc, d, n);
    tg__config cfg;
    memset(&cfg, 0, sizeof cfg);
    tg_error err;
    memset(&err, 0, sizeof err);
    tg_status st = tg__config_parse(doc, n, &cfg, &err);
    json_error_t je;
    json_t *ref = json_loadb(doc, n, JSON_DECODE_INT_AS_REAL, &je); /* as the parser reads it */
    if (!ref) must(st != TG_OK, "a document jansson refuses is refused");
    if (st != TG_OK) must(err.msg[0] != '\0', "a refusal says why");
    else {
        must(cfg.add_bos >= -1 && cfg.add_bos <= 1 && cfg.add_eos >= -1 && cfg.add_eos <= 1, "add_bos/add_eos");
        for (size_t i = 0; i < cfg.n_templates; i++) must(cfg.template_srcs[i] != NULL, "named templates have sources");
        tg__config_free(&cfg);
    }
    json_decref(ref);
    free(doc);
    return 0;
}
