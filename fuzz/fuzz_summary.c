/*
 * fuzz_summary.c: libFuzzer target for summarizing compaction's readers
 * (src/policy/summarize.c): the summary read from an upstream's chat answer
 * (tg_summary_text), and, when the input is a chat request, the transcript,
 * the prefix key and the compacted chat built over its older non-system
 * messages.
 *
 * Invariants, beyond "no crash, no leak": a summary read is non-empty with
 * no whitespace at either end; the compacted chat has the messages it kept
 * plus one; the same input gives the same key.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

static void as_chat(const json_t *req) {
    const json_t *ms = json_object_get(req, "messages");
    size_t n = json_array_size(ms), k = 0;
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) return;
    for (size_t i = 0; i < n / 2; i++) {
        const char *role = json_string_value(json_object_get(json_array_get(ms, i), "role"));
        if (!role || (strcmp(role, "system") && strcmp(role, "developer"))) idx[k++] = i;
    }
    free(tg_summary_transcript(req, idx, k));
    tg_summary_key a = tg_summary_key_of(req, idx, k, NULL, 64), b = tg_summary_key_of(req, idx, k, NULL, 64);
    if (a.h[0] != b.h[0] || a.h[1] != b.h[1]) abort();
    json_decref(tg_summary_request(req, idx, k, "p", 64));
    tg_error e;
    json_t *out = tg_summary_compact(req, idx, k, "s", NULL, NULL, NULL, &e);
    if (out && json_array_size(json_object_get(out, "messages")) != n - k + 1) abort();
    json_decref(out);
    free(idx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_error e;
    char *t = tg_summary_text((const char *)data, size, &e);
    if (t) {
        size_t n = strlen(t);
        if (!n || blank(t[0]) || blank(t[n - 1])) abort();
        free(t);
    }
    json_t *req = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_array(json_object_get(req, "messages"))) as_chat(req);
    json_decref(req);
    return 0;
}
