/*
 * tokgate/template.h: chat templates, rendered exactly as the model's server does.
 *
 * Two levels:
 *
 *  - tg_template: one Jinja template (the subset real chat templates use, see
 *    docs/template.md), compiled once and rendered against a JSON context.
 *    The reference for every behaviour is @huggingface/jinja (what transformers.js
 *    and many servers use), with trim_blocks and lstrip_blocks on, as
 *    transformers' apply_chat_template sets them. Unknown syntax is refused at
 *    parse time with the line and column; a render that goes wrong (a
 *    raise_exception, an unsupported operation, a limit) fails with a message and
 *    never produces partial output.
 *
 *  - tg_chat: a model's chat templates (one, or the named list of a
 *    tokenizer_config.json) with its special tokens, plus the context
 *    construction transformers and llama-server use for a chat request:
 *    messages, tools, documents, add_generation_prompt, bos_token, eos_token,
 *    and chat_template_kwargs merged at top level.
 *
 * Ownership: tg_template and tg_chat are owned by the caller and freed with
 * their _free function; rendered output is malloc'd and handed to the caller.
 * Both are immutable after creation and may be rendered from several threads
 * at once. Contexts are jansson values (borrowed, never modified).
 */
#ifndef TOKGATE_TEMPLATE_H
#define TOKGATE_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct json_t; /* jansson */

#define TG_TEMPLATE_MAX_SOURCE   (4u << 20)   /* bytes of template source */
#define TG_TEMPLATE_MAX_NESTING  200          /* parser nesting (brackets, blocks) */

/* Limits of one render. Zero fields take the defaults below. */
typedef struct tg_template_limits {
    size_t max_output;     /* bytes of rendered output (default 16 MiB) */
    size_t max_depth;      /* evaluation depth: every nested expression, statement
                              and macro call counts one (default 1000) */
    size_t max_iterations; /* loop iterations over the whole render (default 1,000,000) */
    size_t max_memory;     /* bytes of working memory (default 256 MiB) */
} tg_template_limits;

#define TG_TEMPLATE_DEFAULT_MAX_OUTPUT     (16u << 20)
#define TG_TEMPLATE_DEFAULT_MAX_DEPTH      1000
#define TG_TEMPLATE_DEFAULT_MAX_ITERATIONS 1000000
#define TG_TEMPLATE_DEFAULT_MAX_MEMORY     (256u << 20)

/* Options of one render. */
typedef struct tg_render_options {
    tg_template_limits limits;
    /* The clock strftime_now() reads, as Unix seconds (local time as the TZ
     * environment says, like Date in JavaScript); 0 means the current time. */
    int64_t now;
    /* 0: @huggingface/jinja's semantics (the default); 1: llama.cpp's Jinja
     * engine's (common/jinja), as llama-server renders: Python equality
     * ("" != false), None/undefined concatenated as "", filters on undefined
     * giving empty values, True/False printed. See src/template/llamacpp_sem.c. */
    int llamacpp;
} tg_render_options;

typedef struct tg_template tg_template;

/* Compiles src[0..len). Syntax the renderer does not support, or that the
 * reference refuses, fails with TG_EINVAL and "line L, column C: ...". */
TG_API tg_status tg_template_parse(const char *src, size_t len, tg_template **out, tg_error *err);
TG_API void tg_template_free(tg_template *t);

/* Renders with `ctx` (a JSON object; NULL is an empty context) as the top-level
 * variables. opt may be NULL. On success *out is a malloc'd, NUL-terminated
 * buffer of *out_len bytes (the output may itself hold NUL bytes). */
TG_API tg_status tg_template_render(const tg_template *t, const struct json_t *ctx,
                                    const tg_render_options *opt, char **out, size_t *out_len,
                                    tg_error *err);

/* ---- chat level -------------------------------------------------------- */

typedef struct tg_chat tg_chat;

/* Loads a model's chat template(s) and special tokens from PATH: a
 * tokenizer_config.json, a directory holding one (a chat_template.jinja beside
 * it takes precedence, as in transformers), a GGUF file
 * (tokenizer.chat_template, tokenizer.chat_template.<name>, bos/eos from the
 * vocabulary), or else a Jinja file. */
TG_API tg_status tg_chat_load(const char *path, tg_chat **out, tg_error *err);

/* From the bytes of a tokenizer_config.json: "chat_template" as a string or as
 * a list of {"name", "template"}; bos_token / eos_token as strings or
 * AddedToken objects {"content": ...}. */
TG_API tg_status tg_chat_from_config(const char *json, size_t len, tg_chat **out, tg_error *err);

/* From one template source and the special tokens (NULL: empty string). */
TG_API tg_status tg_chat_from_source(const char *src, size_t len, const char *bos_token,
                                     const char *eos_token, tg_chat **out, tg_error *err);
TG_API void tg_chat_free(tg_chat *c);

/* The special tokens the context will carry ("" when unknown). */
TG_API const char *tg_chat_bos_token(const tg_chat *c);
TG_API const char *tg_chat_eos_token(const tg_chat *c);

/* Whose request handling a chat render reproduces (tg_chat_options.dialect).
 *  TG_CHAT_HF: transformers' apply_chat_template (the context as given, as
 *    @huggingface/jinja renders it); the default.
 *  TG_CHAT_LLAMACPP: llama-server's /v1/chat/completions (llama.cpp
 *    common/chat.cpp): messages parsed and rebuilt as llama.cpp does (only
 *    role, content, reasoning_content, name, tool_call_id, tool_calls kept;
 *    null content -> ""; tool-call arguments as compact JSON strings), typed
 *    content joined with "\n" for templates that only print strings,
 *    developer -> system, a system message merged into the next message for
 *    templates without a system role, object arguments for templates that
 *    read them, tools rebuilt, enable_thinking/datetime/date_string set, a
 *    trailing assistant message continued (prefill: no end-of-turn after
 *    it), and a BOS (EOS) the template writes first (last) removed when the
 *    tokenizer adds one (add_bos / add_eos). The dialect the gateway uses for
 *    llama-server upstreams. See docs/template.md for the rules. */
typedef enum tg_chat_dialect { TG_CHAT_HF = 0, TG_CHAT_LLAMACPP = 1 } tg_chat_dialect;

typedef struct tg_chat_options {
    const char *template_name;  /* NULL: "tool_use" when tools are present and it
                                   exists, else "default" (or the only template) */
    int add_generation_prompt;  /* -1: the request's field, else 1; 0 or 1 forces */
    const struct json_t *extra; /* extra top-level variables (object) or NULL */
    tg_render_options render;
    tg_chat_dialect dialect;    /* TG_CHAT_HF (0) unless set */
    int add_bos, add_eos;       /* TG_CHAT_LLAMACPP: 1 when the tokenizer adds BOS
                                   (EOS); tg_chat_count sets them from the tokenizer */
} tg_chat_options;

/* Builds the context of a chat request (an OpenAI-style JSON object with
 * "messages", optional "tools", "documents", "add_generation_prompt",
 * "chat_template_kwargs") and picks the template. *ctx is a new reference the
 * caller releases with json_decref; *tpl is borrowed from c.
 *
 * Context: messages; tools and documents (null when absent, as transformers
 * passes None); add_generation_prompt; bos_token, eos_token; then `extra`,
 * then each chat_template_kwargs key at top level, later ones overriding.
 * With TG_CHAT_LLAMACPP the context is llama-server's (see tg_chat_dialect);
 * for a prefill request (trailing assistant message) it is the context of the
 * messages before it: tg_chat_render adds the continued message. */
TG_API tg_status tg_chat_context(const tg_chat *c, const struct json_t *request,
                                 const tg_chat_options *opt, struct json_t **ctx,
                                 const tg_template **tpl, tg_error *err);

/* tg_chat_context then tg_template_render. */
TG_API tg_status tg_chat_render(const tg_chat *c, const struct json_t *request,
                                const tg_chat_options *opt, char **out, size_t *out_len,
                                tg_error *err);

/* tg_chat_render of a request given as its JSON bytes (chat_body.c): the
 * same prompt as json_loadb(body, len, JSON_ALLOW_NUL) then tg_chat_render,
 * and refused where jansson refuses the bytes (TG_EINVAL, "request JSON: ...
 * at byte N"), without building a jansson tree for TG_CHAT_HF: the body is
 * parsed in place into the render's values, which costs a fraction of the
 * tree (TG_CHAT_LLAMACPP still builds one). */
TG_API tg_status tg_chat_render_body(const tg_chat *c, const char *body, size_t len,
                                     const tg_chat_options *opt, char **out, size_t *out_len,
                                     tg_error *err);

/* ---- counting and continuation (chat_count.c) ------------------------- */

struct tg_tokenizer;

/* The exact token count of a chat request: the prompt is rendered
 * (tg_chat_render), then tokenized with `encode_flags` (tokenizer.h). For
 * llama-server's usage.prompt_tokens: opt->dialect = TG_CHAT_LLAMACPP and
 * TG_ENCODE_ADD_SPECIAL (BOS/EOS as the model adds them; add_bos/add_eos of
 * the options are then taken from tok, so a BOS the template wrote is not
 * counted twice) with special tokens recognised in the text; transformers'
 * apply_chat_template (tokenize=True) is TG_CHAT_HF with flags 0. */
TG_API tg_status tg_chat_count(const tg_chat *c, const struct tg_tokenizer *tok,
                               const struct json_t *request, const tg_chat_options *opt,
                               unsigned encode_flags, size_t *count, tg_error *err);

/* tg_chat_count of a request given as its JSON bytes (tg_chat_render_body). */
TG_API tg_status tg_chat_count_body(const tg_chat *c, const struct tg_tokenizer *tok, const char *body,
                                    size_t len, const tg_chat_options *opt, unsigned encode_flags,
                                    size_t *count, tg_error *err);

/* A continuation prompt: the request's prompt followed by a partial
 * assistant answer, so generation can resume where it stopped (as
 * transformers' continue_final_message). The request's messages get one more
 * assistant message {content, reasoning_content}; it is rendered without a
 * generation prompt and cut right after the last occurrence of the partial
 * content (or, when the content is empty, of the partial reasoning). When the
 * template trims the text, the trimmed text is matched and the trimmed-off
 * trailing whitespace appended. A template that does not reproduce the
 * partial text (e.g. one that drops reasoning of the last turn) gets
 * TG_EUNSUPPORTED; with nothing partial the result is the ordinary prompt
 * with a generation prompt. Either pointer may be NULL (empty). */
TG_API tg_status tg_chat_render_continuation(const tg_chat *c, const struct json_t *request,
                                             const char *reasoning, size_t reasoning_len,
                                             const char *content, size_t content_len,
                                             const tg_chat_options *opt, char **out,
                                             size_t *out_len, tg_error *err);

/* ---- per-segment count cache (count_cache.c) --------------------------- */

/* An agent resends its whole history every turn; counting it again costs
 * O(history). The cache makes it O(new text): a prompt is cut into segments
 * right after special-token occurrences (where the next byte is not
 * whitespace, so lstrip/rstrip of added tokens stay inside a segment), and
 * each segment's count is remembered by a seeded 64-bit hash of its bytes.
 * HF-style tokenizers split text at special tokens before anything else, so
 * the segments tokenize independently and the sum equals the full count; the
 * cache checks that on its first prompt (one full count) and, if a tokenizer
 * disagrees, falls back to full counts for good. BOS/EOS that
 * TG_ENCODE_ADD_SPECIAL adds are counted once per prompt. With
 * TG_ENCODE_NO_PARSE_SPECIAL nothing is cached.
 *
 * The last 8 prompts (64 MiB at most) are also kept with the running total at
 * each cut: a prompt that shares a byte prefix with a kept one takes over its
 * total up to the last cut safely inside the shared prefix and scans and
 * counts only the rest, so a resent history costs a memcmp plus the new
 * text (and the render). This needs nothing from the template: a template
 * that rewrites earlier turns only shortens the shared prefix.
 *
 * The cache is not thread-safe (one per event loop); it forgets the segment
 * counts when max_entries is reached. */
typedef struct tg_count_cache tg_count_cache;

typedef struct tg_count_cache_stats {
    uint64_t hits, misses;   /* segments found / tokenized */
    uint64_t full_counts;    /* prompts counted whole (check or fallback) */
    size_t entries;
    int segmenting;          /* 1 verified, 0 not yet, -1 fell back */
    uint64_t prefix_hits;    /* prompts that took over a kept prompt's prefix */
    uint64_t reused_bytes;   /* prompt bytes counted that way, in all */
} tg_count_cache_stats;

TG_API tg_status tg_count_cache_new(const struct tg_tokenizer *tok, size_t max_entries,
                                    tg_count_cache **out, tg_error *err);
TG_API void tg_count_cache_free(tg_count_cache *c);
TG_API tg_status tg_count_cache_count(tg_count_cache *c, const char *text, size_t len,
                                      unsigned encode_flags, size_t *count, tg_error *err);
TG_API void tg_count_cache_stats_get(const tg_count_cache *c, tg_count_cache_stats *out);

/* tg_chat_count through a cache (the cache's tokenizer counts). */
TG_API tg_status tg_chat_count_cached(const tg_chat *c, tg_count_cache *cache,
                                      const struct json_t *request, const tg_chat_options *opt,
                                      unsigned encode_flags, size_t *count, tg_error *err);

/* tg_chat_count_body through a cache. */
TG_API tg_status tg_chat_count_body_cached(const tg_chat *c, tg_count_cache *cache, const char *body,
                                           size_t len, const tg_chat_options *opt, unsigned encode_flags,
                                           size_t *count, tg_error *err);

#ifdef __cplusplus
}
#endif
#endif
