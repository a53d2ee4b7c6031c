/*
 * gateway/modelfiles.c: model files, tokenizers and chat templates loaded
 * once per path (modelfiles.h), and the count caches: an agent resends its
 * whole history every turn, and a per-thread tg_count_cache makes that cost
 * only the new text.
 */
#include "gateway/modelfiles.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"
#include "gateway/server.h"
#include "tokgate/policy.h"

static tg__modelfile *file_get(tg__server *s, const char *path) {
    for (size_t i = 0; i < s->n_files; i++)
        if (!strcmp(s->files[i].path, path)) return &s->files[i];
    tg__modelfile *nf = realloc(s->files, (s->n_files + 1) * sizeof *nf);
    if (!nf) return NULL;
    s->files = nf;
    tg__modelfile *f = &nf[s->n_files];
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return NULL;
    s->n_files++;
    return f;
}

void tg__modelfiles_free(tg__server *s) {
    for (size_t i = 0; i < s->n_files; i++) {
        tg__modelfile *f = &s->files[i];
        free(f->path);
        tg_tokenizer_free(f->tok);
        if (f->prof_state == 1) tg_model_profile_free(&f->prof);
        tg_chat_free(f->chat);
    }
    free(s->files);
    s->files = NULL;
    s->n_files = 0;
}

/* Loaded once per path on the loop thread (blocking: at start or reload). */
const tg_tokenizer *tg__modelfile_tokenizer(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->tok_state == 0) {
        tg_error err;
        f->tok_state = tg_tokenizer_load(path, &f->tok, &err) == TG_OK ? 1 : -1;
        if (f->tok_state < 0)
            tg__log(s, TG__LOG_WARN, "tokenizer %s: %s; counting falls back to the estimator", path, err.msg);
        else tg__log(s, TG__LOG_INFO, "tokenizer %s loaded: prompts are counted exactly", path);
    }
    return f->tok_state == 1 ? f->tok : NULL;
}

const tg_model_profile *tg__modelfile_profile(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->prof_state == 0) {
        tg_error err;
        f->prof_state = tg_model_load(path, &f->prof, &err) == TG_OK ? 1 : -1;
        if (f->prof_state < 0)
            tg__log(s, TG__LOG_WARN, "model %s: %s; limits come from the upstream", path, err.msg);
    }
    return f->prof_state == 1 ? &f->prof : NULL;
}

const tg_chat *tg__modelfile_chat(tg__server *s, const char *path) {
    tg__modelfile *f = path ? file_get(s, path) : NULL;
    if (!f) return NULL;
    if (f->chat_state == 0) {
        tg_error err;
        f->chat_state = tg_chat_load(path, &f->chat, &err) == TG_OK ? 1 : -1;
        if (f->chat_state < 0) tg__log(s, TG__LOG_INFO, "chat template from %s: %s", path, err.msg);
    }
    return f->chat_state == 1 ? f->chat : NULL;
}


/* No model file here: the built-in catalogue's profile, if it knows the
 * name (kept under "catalogue:NAME" like a file). */
const tg_model_profile *tg__modelfile_catalogue(tg__server *s, const char *nm) {
    if (!nm || !tg_model_catalogue_match(nm)) return NULL;
    char key[300];
    snprintf(key, sizeof key, "catalogue:%s", nm);
    tg__modelfile *f = file_get(s, key);
    if (f && f->prof_state == 0) {
        tg_error err;
        f->prof_state = tg_model_from_name(nm, &f->prof, &err) == TG_OK ? 1 : -1;
        if (f->prof_state == 1)
            tg__log(s, TG__LOG_INFO, "model %s: no model file; limits from the built-in catalogue (%s)", nm,
                    tg_model_catalogue_match(nm));
    }
    return f && f->prof_state == 1 ? &f->prof : NULL;
}

/* Count caches (tokgate/template.h: an agent's resent history costs only
 * its new text). A cache is not thread-safe, so each thread that counts (the
 * loop, each worker) keeps its own per tokenizer; tokenizers live until exit,
 * so their pointers are stable keys. All are listed globally so the server
 * frees them once its threads are gone. */
#define TLS_CACHES 8
static _Thread_local struct {
    const tg_tokenizer *tok[TLS_CACHES];
    tg_count_cache *cache[TLS_CACHES];
    size_t n;
} tls_caches;
static pthread_mutex_t all_caches_mu = PTHREAD_MUTEX_INITIALIZER;
static tg_count_cache **all_caches;
static size_t n_all_caches;

tg_count_cache *tg__count_cache_for(const tg_tokenizer *tok) {
    for (size_t i = 0; i < tls_caches.n; i++)
        if (tls_caches.tok[i] == tok) return tls_caches.cache[i];
    if (tls_caches.n == TLS_CACHES) return NULL; /* more tokenizers than slots: count whole */
    tg_count_cache *c = NULL;
    tg_error err;
    if (tg_count_cache_new(tok, 1u << 16, &c, &err) != TG_OK) return NULL;
    pthread_mutex_lock(&all_caches_mu);
    tg_count_cache **na = realloc(all_caches, (n_all_caches + 1) * sizeof *na); // NOLINT(bugprone-sizeof-expression): an array of pointers
    if (na) {
        all_caches = na;
        all_caches[n_all_caches++] = c;
    }
    pthread_mutex_unlock(&all_caches_mu);
    if (!na) {
        tg_count_cache_free(c);
        return NULL;
    }
    tls_caches.tok[tls_caches.n] = tok;
    tls_caches.cache[tls_caches.n++] = c;
    return c;
}

void tg__count_caches_free(void) {
    pthread_mutex_lock(&all_caches_mu);
    for (size_t i = 0; i < n_all_caches; i++) tg_count_cache_free(all_caches[i]);
    free(all_caches);
    all_caches = NULL;
    n_all_caches = 0;
    pthread_mutex_unlock(&all_caches_mu);
    memset(&tls_caches, 0, sizeof tls_caches); /* the loop thread's view */
}

long long tg__count_chat(const tg_tokenizer *tok, const tg_chat *chat, int dialect, const json_t *request) {
    if (!tok || !chat) return -1;
    /* The library's count (tg_budget_count_chat, what the budget path
     * counts), through this thread's cache. */
    tg_budget_model bm;
    memset(&bm, 0, sizeof bm);
    bm.tok = tok;
    bm.chat = chat;
    bm.chat_dialect = (tg_chat_dialect)dialect;
    bm.cache = tg__count_cache_for(tok);
    size_t n = 0;
    tg_error err;
    return tg_budget_count_chat(request, &bm, &n, &err) == TG_OK ? (long long)n : -1;
}

/* Last occurrence of `m` in h[0..n), or -1. */
static long last_of(const char *h, size_t n, const char *m) {
    size_t ml = strlen(m);
    if (!ml || ml > n) return -1;
    for (size_t i = n - ml + 1; i-- > 0;)
        if (!memcmp(h + i, m, ml)) return (long)i;
    return -1;
}

int tg__render_opens(const tg_chat *chat, int dialect, const json_t *request, const char *open, const char *close) {
    if (!chat) return -1;
    tg_chat_options opt;
    memset(&opt, 0, sizeof opt);
    opt.add_generation_prompt = -1;
    opt.dialect = (tg_chat_dialect)dialect;
    char *p = NULL;
    size_t n = 0;
    tg_error err;
    if (tg_chat_render(chat, request, &opt, &p, &n, &err) != TG_OK) return -1;
    long o = last_of(p, n, open && *open ? open : "<think>");
    long c = last_of(p, n, close && *close ? close : "</think>");
    free(p);
    return o >= 0 && o > c;
}

