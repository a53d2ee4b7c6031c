/*
 * test_gguf_specials.c: the special ids tokgate derives from GGUF metadata,
 * against llama.cpp itself. For every BPE/SPM ggml-vocab-*.gguf under
 * $TG_FIXTURES/llama.cpp/models, llama.cpp's llama-tokenize (built once into
 * $TG_CACHE/llama-build by scripts/llama-server.sh, under a lock) is run with
 * -lv 4, and its "print_info: BOS/EOS/EOG token = N" lines are the expected
 * values: bos id, eos id and the whole end-of-generation set (llama.cpp
 * collects it from the metadata ids plus token names, with workarounds for
 * gpt-oss and Gemma 4). tokgate must report the same through
 * tg_tokenizer_bos_id, tg_tokenizer_eos_id and tg_tokenizer_eog_ids.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"
#include "tokgate/gguf.h"
#include "tokgate/tokenizer.h"
#include "vocab_list.h"

#define MAX_IDS 256

typedef struct ids {
    unsigned v[MAX_IDS];
    size_t n;
} ids;

static int cmp_u(const void *a, const void *b) {
    unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
    return x < y ? -1 : x > y;
}

static void print_ids(const char *label, const ids *s) {
    fprintf(stderr, "    %s:", label);
    for (size_t i = 0; i < s->n; i++) fprintf(stderr, " %u", s->v[i]);
    fputc('\n', stderr);
}

/* Runs llama-tokenize on the vocabulary once and parses its special ids. */
static int llama_specials_once(const char *bin, const char *gguf, unsigned *bos, unsigned *eos, ids *eog) {
    char cmd[9000];
    snprintf(cmd, sizeof cmd, "'%s/llama-tokenize' -m '%s' -p a -lv 4 2>&1", bin, gguf);
    FILE *p = popen(cmd, "r");
    if (!p) return 0;
    char line[4096];
    *bos = *eos = (unsigned)-1;
    eog->n = 0;
    while (fgets(line, sizeof line, p)) {
        const char *k = strstr(line, "print_info: ");
        unsigned v;
        if (!k) continue;
        k += 12;
        if (sscanf(k, "BOS token = %u", &v) == 1) *bos = v;
        else if (sscanf(k, "EOS token = %u", &v) == 1) *eos = v;
        else if (sscanf(k, "EOG token = %u", &v) == 1 && eog->n < MAX_IDS) eog->v[eog->n++] = v;
    }
    int rc = pclose(p);
    qsort(eog->v, eog->n, sizeof eog->v[0], cmp_u);
    return rc == 0;
}

/* llama.cpp logs from a worker thread (common/log.cpp); on a loaded machine a
 * run can exit before that thread has written the print_info lines. A run
 * that printed none of them at all says nothing, so it is repeated (a few
 * times); one that printed them is taken as it is. */
static int llama_specials(const char *bin, const char *gguf, unsigned *bos, unsigned *eos, ids *eog) {
    for (int attempt = 0; attempt < 4; attempt++) {
        if (!llama_specials_once(bin, gguf, bos, eos, eog)) return 0;
        if (*bos != (unsigned)-1 || *eos != (unsigned)-1 || eog->n) return 1;
    }
    return 1;
}

static int supported(const char *path) {
    tg_gguf *g = NULL;
    tg_gguf_str s;
    int ok = 0;
    if (tg_gguf_open_file(path, &g, NULL) != TG_OK) return 0;
    if (tg_gguf_get_str(g, "tokenizer.ggml.model", &s, NULL) == TG_OK)
        ok = (s.len == 4 && memcmp(s.ptr, "gpt2", 4) == 0) || (s.len == 5 && memcmp(s.ptr, "llama", 5) == 0) ||
             (s.len == 6 && memcmp(s.ptr, "gemma4", 6) == 0);
    tg_gguf_close(g);
    return ok;
}

int main(void) {
    const char *src = getenv("TG_SOURCE_DIR");
    const char *cache = getenv("TG_CACHE");
    char cmd[8800], bin[4096] = "";
    /* One build of llama.cpp for every caller: serialize on a lock file. */
    snprintf(cmd, sizeof cmd, "mkdir -p '%s' && flock '%s/llama-build.lock' bash '%s/scripts/llama-server.sh'",
             cache ? cache : ".", cache ? cache : ".", src ? src : ".");
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(bin, sizeof bin, p)) {
        fprintf(stderr, "scripts/llama-server.sh gave no llama.cpp build directory\n");
        if (p) pclose(p);
        return 1;
    }
    pclose(p);
    bin[strcspn(bin, "\n")] = '\0';

    char dirpath[4096];
    char *names[256];
    size_t n = tgt_list_vocab_ggufs(dirpath, 0, names, 256);
    if (n == SIZE_MAX) return 1;
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", dirpath, names[i]);
        free(names[i]);
        if (!supported(path)) continue;
        unsigned bos, eos;
        ids want, got;
        if (!llama_specials(bin, path, &bos, &eos, &want)) {
            fprintf(stderr, "%s: llama-tokenize failed\n", path);
            tg_test_failed++;
            continue;
        }
        tg_tokenizer *t = NULL;
        tg_error err;
        if (tg_tokenizer_load(path, &t, &err) != TG_OK) {
            fprintf(stderr, "%s: %s\n", path, err.msg);
            tg_test_failed++;
            continue;
        }
        size_t ne = 0;
        const uint32_t *eog = tg_tokenizer_eog_ids(t, &ne);
        got.n = 0;
        for (size_t k = 0; k < ne && got.n < MAX_IDS; k++) got.v[got.n++] = eog[k];
        qsort(got.v, got.n, sizeof got.v[0], cmp_u);
        unsigned tb = tg_tokenizer_bos_id(t), te = tg_tokenizer_eos_id(t);
        int ok = tb == bos && te == eos && got.n == want.n && memcmp(got.v, want.v, got.n * sizeof got.v[0]) == 0;
        fprintf(stderr, "%s %s\n", ok ? "ok  " : "FAIL", path + strlen(dirpath) + 1);
        if (!ok) {
            fprintf(stderr, "    bos llama.cpp %u tokgate %u, eos llama.cpp %u tokgate %u\n", bos, tb, eos, te);
            print_ids("EOG llama.cpp", &want);
            print_ids("EOG tokgate  ", &got);
            tg_test_failed++;
            tg_test_failed_checks++;
        } else {
            tg_test_passed++;
        }
        checked++;
        tg_tokenizer_free(t);
    }
    TG_CHECK(checked >= 10);
    return tg_test_summary();
}
