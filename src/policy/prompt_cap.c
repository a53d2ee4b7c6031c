/*
 * prompt_cap.c: the prompt cap, after helexa neuron #67 (doc/context-limits.md,
 * "After #67"): a prompt above the model's derived input budget
 * (input = context - output reserve, recomputed from live VRAM and prefill
 * throughput) is refused up front, before any upstream work, instead of
 * failing or OOMing mid-prefill.
 *
 * The refusal speaks every dialect agents look for:
 *   HTTP 400, type invalid_request_error, code context_length_exceeded (the
 *   OpenAI API's code, which SDKs, LiteLLM and compaction logic match on),
 *   param "messages" ("prompt" for /v1/completions), a message that begins
 *   "This model's maximum context length is L tokens." (OpenAI's wording,
 *   which agents also match by text), and llama.cpp's n_prompt_tokens and
 *   n_ctx fields (llama-server's exceed_context_size_error) with
 *   n_ctx = the context window.
 */
#include <inttypes.h>
#include <stdio.h>

#include "policy/policy_int.h"

tg_status tg__reject_prompt_cap(const tg_policy_input *in, tg_decision *d, uint64_t prompt,
                                int exact, const char *extra) {
    const tg_limits *l = in->limits;
    int chat = in->request->kind == TG_REQ_CHAT;
    char msg[640];
    snprintf(msg, sizeof msg,
             "This model's maximum context length is %" PRIu64 " tokens. However, your %s "
             "resulted in %s%" PRIu64 " tokens, which exceeds the input budget of %" PRIu64
             " tokens (%" PRIu64 " reserved for output). Please reduce the length of the %s.%s%s",
             l->context, chat ? "messages" : "prompt", exact ? "" : "an estimated ", prompt,
             l->input, l->context >= l->input ? l->context - l->input : 0,
             chat ? "messages" : "prompt", extra ? " " : "", extra ? extra : "");
    tg_status st = tg__reject(d, 400, "context_length_exceeded", chat ? "messages" : "prompt", msg);
    if (st != TG_OK) return st;
    json_t *inner = json_object_get(d->error, "error");
    if (json_object_set_new(inner, "n_prompt_tokens", json_integer((json_int_t)prompt)) != 0 ||
        json_object_set_new(inner, "n_ctx", json_integer((json_int_t)l->context)) != 0) {
        json_decref(d->error);
        d->error = NULL;
        return TG_ENOMEM;
    }
    return TG_OK;
}
