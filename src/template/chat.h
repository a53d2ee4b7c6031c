/*
 * template/chat.h: the tg_chat structure, shared by chat.c (tokenizer configs,
 * directories, context building) and chat_gguf.c (GGUF metadata).
 */
#ifndef TG_TEMPLATE_CHAT_H
#define TG_TEMPLATE_CHAT_H

#include "tokgate/template.h"

struct tg_chat {
    size_t n;            /* templates */
    char **names;        /* "default", "tool_use", ... */
    tg_template **tpls;  /* NULL where the source did not compile */
    tg_error *errs;      /* that compile error */
    char *bos, *eos;
};

tg_chat *tg__j_chat_new(void);
/* Adds a named template (a compile error is kept, not returned). */
tg_status tg__j_chat_add(tg_chat *c, const char *name, const char *src, size_t len, tg_error *err);
tg_status tg__j_chat_set_token(char **dst, const char *s, size_t n);
/* 1 when the file starts with the GGUF magic. */
int tg__j_chat_is_gguf(const char *path);
tg_status tg__j_chat_from_gguf(const char *path, tg_chat **out, tg_error *err);

#endif
