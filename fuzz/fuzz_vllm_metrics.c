/*
 * fuzz_vllm_metrics.c: libFuzzer target for the vLLM adapter's readers of
 * what a vLLM server answers (src/gateway/engines/vllm.c): the tiny
 * Prometheus text scanner behind GET /metrics (probe read_text), the error
 * mapping (map_error) and a continuation leg's event reader.
 *
 * Input: the bytes of one /metrics answer, also read as an error body and,
 * when it is JSON, as a /v1/completions stream chunk. Invariants, beyond
 * "no crash, no leak": the KV pool read is 0 or at least one block; the
 * live use read is a fraction in 0..1 when the input says so or any value
 * it gives; a mapped error is JSON with error.code "context_length_exceeded".
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const tg__engine *e = &tg__engine_vllm;
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    for (const tg__engine_probe *p = e->probes; p->path; p++)
        if (p->read_text) (void)p->read_text(&u, (const char *)data, size);
    int st = 0;
    char *m = e->map_error((const char *)data, size, 400, &st);
    if (m) {
        json_t *o = json_loads(m, 0, NULL);
        const char *code = json_string_value(json_object_get(json_object_get(o, "error"), "code"));
        if (!o || !code || strcmp(code, "context_length_exceeded") || st != 400) abort();
        json_decref(o);
        free(m);
    }
    json_t *ev = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(ev)) {
        tg__leg_event le;
        if (e->cont->read_event(ev, &le) == TG__LEG_EVENT && le.ids && !json_is_array(le.ids)) abort();
    }
    json_decref(ev);
    return 0;
}
