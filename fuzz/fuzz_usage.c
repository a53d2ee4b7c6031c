/*
 * fuzz_usage.c: libFuzzer target for the usage filter's reading of a
 * non-streamed answer (src/gateway/filters/usage.c): its scanner (scan_body,
 * no DOM) against jansson, the reference it stands in for.
 *
 * Input: the bytes of one answer body. Invariant, beyond "no crash, no
 * leak": the scanner's reading (tg__usage's prompt/completion tokens,
 * timings, reasoning tokens, finish_reason) equals jansson's (dom_only),
 * and the filter passes every byte on unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/filters/usage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_body(const uint8_t *data, size_t size, int dom_only, tg__usage *u) {
    tg__usage_init(u, 0);
    u->dom_only = dom_only;
    tg__usage_feed(u, (const char *)data, size);
    tg__usage_finish(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg__usage a, b;
    read_body(data, size, 0, &a);
    read_body(data, size, 1, &b);
    int same = a.prompt_tokens == b.prompt_tokens && a.completion_tokens == b.completion_tokens &&
               ((a.prompt_n == b.prompt_n) || (a.prompt_n != a.prompt_n && b.prompt_n != b.prompt_n)) &&
               ((a.prompt_ms == b.prompt_ms) || (a.prompt_ms != a.prompt_ms && b.prompt_ms != b.prompt_ms)) &&
               a.reasoning_tokens == b.reasoning_tokens && !strcmp(a.finish, b.finish);
    tg__usage_free(&a);
    tg__usage_free(&b);
    if (!same) abort();
    return 0;
}
