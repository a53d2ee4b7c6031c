/*
 * template/chat.h: the tg_chat structure, shared by chat.c (tokenizer configs,
 * directories, context building) and chat_gguf.c (GGUF metadata).
 */
#ifndef TG_TEMPLATE_CHAT_H
#define TG_TEMPLATE_CHAT_H

#include "tokgate/template.h"

/* What llama.cpp's template capability probe (common/jinja/caps.cpp) finds,
 * approximated by rendering its probe conversations with marker strings
 * (chat_llamacpp.c). */
typedef struct tg__j_caps {
    int string_content, typed_content, system_role, object_arguments, thinking;
    int channel;      /* source has "<|channel|>" (no developer -> system) */
    int trim_content; /* StepFun: contents trimmed before rendering */
    const char *specialized; /* a family llama-server renders with its own code, or NULL */
    int gemma4_old;   /* Gemma 4 template without "{#- OpenAI Chat Completions:" */
    int think_tag;    /* source has "<think>" */
} tg__j_caps;

struct tg_chat {
    size_t n;            /* templates */
    char **names;        /* "default", "tool_use", ... */
    tg_template **tpls;  /* NULL where the source did not compile */
    tg_error *errs;      /* that compile error */
    tg__j_caps *caps;    /* llama.cpp capabilities per template */
    char *bos, *eos;
};

tg_chat *tg__j_chat_new(void);
/* Adds a named template (a compile error is kept, not returned). */
tg_status tg__j_chat_add(tg_chat *c, const char *name, const char *src, size_t len, tg_error *err);
tg_status tg__j_chat_set_token(char **dst, const char *s, size_t n);
/* 1 when the file starts with the GGUF magic. */
int tg__j_chat_is_gguf(const char *path);
tg_status tg__j_chat_from_gguf(const char *path, tg_chat **out, tg_error *err);

struct tg_tokenizer;
/* The options tg_chat_count renders with: opt (or defaults), and for
 * TG_CHAT_LLAMACPP add_bos/add_eos as the tokenizer adds them under flags. */
void tg__j_chat_count_options(const tg_chat_options *opt, const struct tg_tokenizer *tok, unsigned encode_flags,
                              tg_chat_options *o);
/* The template a request selects (see chat.c). */
tg_status tg__j_chat_pick(const tg_chat *c, const char *name, int has_tools, size_t *idx, tg_error *err);
/* Probes a compiled template's capabilities as llama.cpp does. */
tg_status tg__j_caps_detect(const tg_template *t, const char *src, size_t len, tg__j_caps *caps); /* TG_ENOMEM: caps unknown */
/* tg_chat_context / tg_chat_render for TG_CHAT_LLAMACPP (chat_llamacpp.c). */
tg_status tg__j_llamacpp_context(const tg_chat *c, const struct json_t *request, const tg_chat_options *opt,
                                 struct json_t **ctx, const tg_template **tpl, tg_error *err);
tg_status tg__j_llamacpp_render(const tg_chat *c, const struct json_t *request, const tg_chat_options *opt,
                                char **out, size_t *out_len, tg_error *err);
/* The families llama-server renders with code of its own (chat_llamacpp_fam.c). */
int tg__j_fam_refused(const tg__j_caps *caps);  /* still refused: no exact count */
int tg__j_fam_prefill(const tg__j_caps *caps);  /* >= 0: the family has its own prefill text */
/* The family's rewrite of the rebuilt messages. */
tg_status tg__j_fam_messages(const tg__j_caps *caps, struct json_t *msgs, tg_error *err);
/* The family's changes to a render *p (malloc'd, *pl bytes; replaced):
 * agp is add_generation_prompt; cont the continued text (NULL: no prefill),
 * cont_reasoning its reasoning_content (NULL or a string). */
tg_status tg__j_fam_finish(const tg__j_caps *caps, int agp, const struct json_t *cont,
                           const struct json_t *cont_reasoning, char **p, size_t *pl, tg_error *err);

#endif
