/*
 * fuzz_engine_count.c: libFuzzer target for the engines' count readers and
 * request builders (issue 19; engine.h tg__engine_count): vLLM's /tokenize
 * answer (TokenizeResponse) and SGLang's /v1/tokenize answer, and the count
 * requests built from a client body (gateway/engine_count.c sends them).
 *
 * Input: one engine answer, also read as a client request body. Invariants
 * beyond "no crash, no leak": a read count is positive and, when the answer
 * has a "tokens" list, equals its length; a failed read says why; a built
 * count request is a JSON object that carries the model name given.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_read(const tg__engine_count *c, const char *p, size_t n) {
    uint64_t count = 0;
    char why[256] = "";
    if (c->read(p, n, &count, why, sizeof why) == 0) {
        if (!count) abort();
        json_t *o = json_loadb(p, n, 0, NULL);
        json_t *t = json_object_get(o, "tokens");
        if (t && json_array_size(t) != count) abort();
        json_decref(o);
    } else if (!why[0]) {
        abort();
    }
}

static void check_body(const tg__engine_count *c, const json_t *req) {
    for (int chat = 0; chat <= 1; chat++) {
        json_t *b = c->body(req, chat, "served-name");
        if (b && (!json_is_object(b) || strcmp(json_string_value(json_object_get(b, "model")), "served-name") != 0)) abort();
        json_decref(b);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const tg__engine *engines[] = {&tg__engine_vllm, &tg__engine_sglang};
    json_t *req = json_loadb((const char *)data, size, 0, NULL);
    for (size_t i = 0; i < sizeof engines / sizeof engines[0]; i++) {
        const tg__engine_count *c = engines[i]->count;
        if (!c) abort();
        check_read(c, (const char *)data, size);
        if (json_is_object(req)) check_body(c, req);
    }
    json_decref(req);
    return 0;
}
