/*
 * gateway/modelfiles.h: model files, tokenizers and chat templates, loaded
 * once per path and kept until exit (the model tables built from them borrow
 * them, from any thread), and the per-thread count caches that make a chat
 * count cost only its new text (modelfiles.c).
 */
#ifndef TG_GATEWAY_MODELFILES_H
#define TG_GATEWAY_MODELFILES_H

#include <jansson.h>

#include "tokgate/model.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

typedef struct tg__server tg__server;

typedef struct tg__modelfile {
    char *path;
    tg_tokenizer *tok;
    int tok_state;  /* 0 untried, 1 loaded, -1 failed */
    tg_model_profile prof;
    int prof_state; /* same */
    tg_chat *chat;
    int chat_state; /* same */
} tg__modelfile;

/* Loaded on the loop thread (blocking: at start or reload); NULL when the
 * path is NULL or the file cannot be read (logged once). */
const tg_tokenizer *tg__modelfile_tokenizer(tg__server *s, const char *path);
const tg_model_profile *tg__modelfile_profile(tg__server *s, const char *path);
const tg_chat *tg__modelfile_chat(tg__server *s, const char *path);
/* The built-in catalogue's profile for a served name, or NULL. */
const tg_model_profile *tg__modelfile_catalogue(tg__server *s, const char *name);
void tg__modelfiles_free(tg__server *s);

/* This thread's count cache for TOK (tokgate/template.h: an agent's resent
 * history costs its new text), created on first use; NULL when none can be
 * had (counts are then made whole). A cache is used only by the thread that
 * got it; the budget path (budget.c) hands it to tg_budget_decide. */
tg_count_cache *tg__count_cache_for(const tg_tokenizer *tok);
/* The exact count of a chat request rendered with `chat` in `dialect`
 * (tg_chat_dialect) and tokenized with `tok` as that engine does
 * (tg_budget_count_chat), through this thread's count cache for tok; -1 when
 * tok or chat is NULL or the render fails. Any thread. */
long long tg__count_chat(const tg_tokenizer *tok, const tg_chat *chat, int dialect, const json_t *request);
/* Every thread's count caches; at exit, once no other thread counts. */
void tg__count_caches_free(void);
/* 1 when the request's rendered prompt ends inside an open thinking block
 * (the template opened it: the model's first tokens are thinking), 0 when
 * not, -1 when it cannot be rendered here. Any thread. */
int tg__render_opens(const tg_chat *chat, int dialect, const json_t *request, const char *open, const char *close);

#endif
