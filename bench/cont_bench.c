/*
 * bench/cont_bench.c: what reading a stream costs the gateway per token
 * when the answer may continue in place (src/gateway/cont.c): every chunk
 * is split out of the SSE bytes, parsed, its ids kept, its logprobs
 * stripped and the chunk written again. The chunks are shaped as
 * llama-server sends them with logprobs (one token each, a 151K-vocab id,
 * top_logprobs 1). Reported: microseconds of CPU per chunk for the first
 * leg (read + strip), for a /completion leg (read + reshape into a chat
 * chunk), and for a plain copy of the same bytes, the relay's floor.
 * Nothing here asserts a time.
 *
 * Build and run (after `make`):
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude -Isrc bench/cont_bench.c build/libtokgate.a \
 *      $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lm -o /tmp/cont_bench && /tmp/cont_bench [chunks]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gateway/cont.h"
#include "gateway/engine.h"

static double cpu(void) { return (double)clock() / CLOCKS_PER_SEC; }

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 200000;
    tgx_buf chat, comp;
    tgx_buf_init(&chat, SIZE_MAX);
    tgx_buf_init(&comp, SIZE_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned id = (unsigned)(i * 7919u % 151643u);
        tgx_buf_printf(&chat,
                       "data: {\"choices\":[{\"finish_reason\":null,\"index\":0,\"delta\":{\"content\":\" word%zu\"},"
                       "\"logprobs\":{\"content\":[{\"id\":%u,\"token\":\" word%zu\",\"bytes\":[32,119,111,114,100],"
                       "\"logprob\":-0.4123456789,\"top_logprobs\":[{\"id\":%u,\"token\":\" word%zu\",\"bytes\":"
                       "[32,119,111,114,100],\"logprob\":-0.4123456789}]}]}}],\"created\":1795318240,\"id\":"
                       "\"chatcmpl-XJD8T5UX6XGtGmGJF2o0gytgOoPknkwY\",\"model\":\"qwen3-32b\",\"system_fingerprint\":"
                       "\"b1-de3ff81\",\"object\":\"chat.completion.chunk\"}\n\n",
                       i, id, i, id, i);
        tgx_buf_printf(&comp,
                       "data: {\"index\":0,\"content\":\" word%zu\",\"tokens\":[%u],\"stop\":false,\"id_slot\":0,"
                       "\"tokens_predicted\":%zu,\"tokens_evaluated\":1234}\n\n",
                       i, id, i + 1);
    }
    tg__cont_cfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.engine = tg__engine_llama_server.cont;
    cfg.max_tokens = (uint64_t)n * 4;
    cfg.strip_logprobs = 1;
    json_t *req = json_pack("{s:f}", "temperature", 0.6);
    const size_t piece = 4096; /* what one socket read hands over, roughly */
    double best_chat = 1e9, best_comp = 1e9, best_copy = 1e9;
    for (int round = 0; round < 3; round++) {
        tg__cont *k = tg__cont_new(&cfg, req);
        tgx_buf out;
        tgx_buf_init(&out, SIZE_MAX);
        double t0 = cpu();
        for (size_t o = 0; o < chat.len; o += piece) {
            tg__cont_feed(k, chat.data + o, chat.len - o < piece ? chat.len - o : piece, &out);
            tgx_buf_reset(&out);
        }
        double t1 = cpu();
        if (t1 - t0 < best_chat) best_chat = t1 - t0;
        tg__cont_leg_end(k);
        tg__cont_free(k);
        /* a continuation leg: the same protocol after a (synthetic) escalation */
        cfg.escalate_to = cfg.max_tokens * 2;
        k = tg__cont_new(&cfg, req);
        tg__cont_feed(k, "data: {\"choices\":[{\"finish_reason\":\"length\",\"index\":0,\"delta\":{}}],\"id\":\"x\"}\n\n",
                      78, &out);
        tg__cont_leg_end(k);
        tg__cont_escalate(k);
        tg_error err;
        tg__cont_set_prompt(k, "{\"prompt\":\"P\"}", 14, &err);
        char *body = NULL;
        size_t blen = 0;
        tg__cont_next_body(k, &body, &blen, &out, &err);
        free(body);
        tgx_buf_reset(&out);
        t0 = cpu();
        for (size_t o = 0; o < comp.len; o += piece) {
            tg__cont_feed(k, comp.data + o, comp.len - o < piece ? comp.len - o : piece, &out);
            tgx_buf_reset(&out);
        }
        t1 = cpu();
        if (t1 - t0 < best_comp) best_comp = t1 - t0;
        tg__cont_free(k);
        cfg.escalate_to = 0;
        t0 = cpu();
        for (size_t o = 0; o < chat.len; o += piece) {
            size_t m = chat.len - o < piece ? chat.len - o : piece;
            tgx_buf_append(&out, chat.data + o, m);
            tgx_buf_reset(&out);
        }
        t1 = cpu();
        if (t1 - t0 < best_copy) best_copy = t1 - t0;
        tgx_buf_free(&out);
    }
    printf("cont_bench: %zu chunks (%zu bytes of chat chunks with logprobs)\n", n, chat.len);
    printf("first leg (read ids, strip logprobs): %.2f us/chunk\n", best_chat * 1e6 / (double)n);
    printf("continuation leg (read, reshape):     %.2f us/chunk\n", best_comp * 1e6 / (double)n);
    printf("plain copy of the chat bytes:         %.3f us/chunk (the relay's floor)\n", best_copy * 1e6 / (double)n);
    json_decref(req);
    tgx_buf_free(&chat);
    tgx_buf_free(&comp);
    return 0;
}
