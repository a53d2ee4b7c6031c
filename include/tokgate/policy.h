/*
 * tokgate/policy.h: the request budget policy. Given one OpenAI-style request,
 * a model's settings, its live limits and the prompt's token counts, decide
 * what may go upstream and with which budgets, or refuse it with an error a
 * client can act on. docs/policy.md states every rule with its source.
 *
 * The one budget path is tg_budget_decide: a parsed request plus the model
 * (settings, live limits, optional tokenizer, chat template and count cache)
 * in, the whole decision out: the prompt counted as exactly as the model
 * allows (the chat template rendered and tokenized, else the tokenizer per
 * message, else the estimator), the policy's verdict, the body to send or the
 * OpenAI error with its status, type, code and param, and the escalation
 * body. `tokgate check` and the gateway both call it, so they agree by
 * construction; the gateway only turns the decision into headers.
 *
 *   tg_request_parse      bytes -> tg_request (or an error whose err->api
 *                         says status, code and param: invalid_json,
 *                         missing_required_parameter, invalid_type)
 *   tg_budget_decide      tg_request + tg_budget_model -> tg_budget_decision
 *   tg_error_body         the one OpenAI error-body builder
 *
 * and the pieces it is built from, public for tests and other callers:
 *
 *   tg_request_count      per-message / per-prompt token counts with a
 *                         caller-supplied counting function (tg_estimate_count
 *                         when there is no tokenizer)
 *   tg_policy_decide      counts -> tg_decision: forward | truncate | reject
 *   tg_decision_to_json   the JSON object `tokgate check` prints
 *   tg_decision_escalated_request  the retry body on finish_reason "length"
 *   tg_keep_last_counted  keep_recent hook over any counting function
 *
 * What the advertised limits guarantee a client (docs/policy.md, G1-G7):
 * prompt <= limits.input with max_tokens <= limits.output (or none) is never
 * refused and gets its max_tokens (none: min(default, limits.output)).
 *
 * The policy is PURE: it opens nothing and reads no environment.
 * TOKGATE_MAX_OUTPUT_TOKENS is read by the CLI or the gateway and passed in
 * (env_max_output_tokens). The same input always gives the same decision.
 *
 * Ownership: tg_request owns its parsed JSON (tg_request_free); a tg_decision
 * owns its rewritten request, its error body and its truncation report
 * (tg_decision_free); a tg_budget_decision owns its tg_decision and escalated
 * body (tg_budget_decision_free); tg_prompt_counts owns its item array
 * (tg_prompt_counts_free). Everything an input struct points to is borrowed.
 */
#ifndef TOKGATE_POLICY_H
#define TOKGATE_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "tokgate/error.h"
#include "tokgate/limits.h"
#include "tokgate/template.h"
#include "tokgate/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- per-model settings ------------------------------------------------ */

typedef enum tg_overflow_mode {
    TG_OVERFLOW_CLAMP = 0, /* the client's max_tokens above the safe maximum or what the
                              prompt leaves: lowered to min(safe maximum, context - prompt),
                              never below min(max_tokens, limits.output) (a prompt that
                              would leave less is refused) */
    TG_OVERFLOW_REJECT     /* ... refused: GPUStack's message above the safe maximum,
                              vLLM's when prompt + max_tokens > context */
} tg_overflow_mode;

typedef enum tg_dialect {
    TG_DIALECT_NONE = 0, /* chat_template_kwargs only */
    TG_DIALECT_VLLM,     /* + "thinking_token_budget" */
    TG_DIALECT_LLAMACPP  /* + "thinking_budget_tokens" */
} tg_dialect;

typedef enum tg_truncation_mode {
    TG_TRUNC_NONE = 0,
    TG_TRUNC_KEEP_RECENT,       /* raw prompts: keep the newest tokens */
    TG_TRUNC_DROP_OLDEST_TURNS, /* chats: drop the oldest turns */
    TG_TRUNC_SUMMARIZE          /* chats: the turns drop_oldest_turns drops become one summary
                                   the upstream writes (the gateway's extra call; the
                                   decision's request is the drop_oldest_turns fallback);
                                   raw prompts: keep_recent */
} tg_truncation_mode;

typedef enum tg_thinking_mode {
    TG_THINK_AUTO = 0,     /* base budget */
    TG_THINK_CONSERVATIVE, /* base x 0.25 */
    TG_THINK_BALANCED,     /* base */
    TG_THINK_AGGRESSIVE,   /* base x 2 */
    TG_THINK_DISABLED,     /* thinking off */
    TG_THINK_ADAPTIVE,     /* learned from use (tokgate/adaptive.h) */
    TG_THINK_CUSTOM        /* an explicit max_thinking_tokens (after the settable modes: the
                              option tables list those by value) */
} tg_thinking_mode;

/* The table of thinking budgets learned from use (tokgate/adaptive.h). */
typedef struct tg_adaptive tg_adaptive;

/* Fractions are in parts per million so the rounding is exact integer
 * arithmetic (see tg_policy_safe_max). */
typedef struct tg_model_settings {
    const char *name;                  /* model name used in messages; NULL: the request's "model" */
    uint32_t safe_fraction_ppm;        /* 800000 (80%) */
    uint32_t safe_fraction_large_ppm;  /* 900000 (90%) when context > large_context_threshold */
    uint64_t large_context_threshold;  /* 100000 */
    uint64_t min_max_tokens;           /* 1 (GPUStack uses 100) */
    uint64_t abs_max_tokens;           /* 500000 */
    tg_overflow_mode overflow;         /* clamp */
    uint64_t default_max_tokens;       /* configured default; 0 = none */
    uint64_t output_limit;             /* known model output limit; 0 = unknown */
    uint64_t capped_default;           /* 8000: the last-resort default */
    uint64_t escalated_max_tokens;     /* 64000; 0 disables escalation */
    uint64_t thinking_base;            /* base thinking budget; 0 = not a reasoning model */
    uint64_t min_answer_tokens;        /* 1024: answer room kept beside a thinking budget */
    tg_thinking_mode thinking_mode;    /* the model's mode when the request says none */
    tg_dialect dialect;                /* none */
    tg_truncation_mode truncation;     /* none */
    uint64_t summary_max_tokens;       /* 512: truncation summarize: the summary's max_tokens, kept
                                          free (+ TG_SUMMARY_OVERHEAD) in the compacted chat */
} tg_model_settings;

/* The defaults above. thinking_base stays 0: set it from tg_reasoning_lookup. */
TG_API void tg_model_settings_init(tg_model_settings *s);

/* safe maximum = context x fraction rounded to the nearest integer, halves up
 * (fraction 0.8, or 0.9 above the threshold). GPUStack UI v2.5.3 publishes
 * 32768 -> 26214, 131072 -> 117965, 1048576 -> 943718: truncation would give
 * 117964 and ceiling 26215, so nearest is the only rounding matching all three. */
TG_API uint64_t tg_policy_safe_max(const tg_model_settings *s, uint64_t context);

/* ---- the request ------------------------------------------------------- */

typedef enum tg_request_kind {
    TG_REQ_CHAT = 0,      /* "messages" (/v1/chat/completions) */
    TG_REQ_COMPLETION     /* "prompt" (/v1/completions) */
} tg_request_kind;

#define TG_REQUEST_MAX_BYTES (64u << 20) /* a request body above this is refused */

typedef struct tg_request {
    json_t *root;                 /* owned; the whole body */
    tg_request_kind kind;
    const char *model;            /* borrowed from root; NULL when absent */
    int stream;                   /* "stream": true */

    int has_max_tokens;           /* max_completion_tokens or max_tokens present and not null */
    int max_tokens_valid;         /* 0: present but not an integer */
    long long max_tokens;         /* the value when valid (may be < minimum) */
    const char *max_tokens_field; /* the field it came from (max_completion_tokens wins, as in vLLM) */

    int has_thinking_mode;        /* thinking_mode, reasoning_effort or enable_thinking:false said a mode */
    tg_thinking_mode thinking_mode;
    const char *thinking_mode_from; /* "thinking_mode", "reasoning_effort", "chat_template_kwargs.enable_thinking" */
    int enable_thinking;          /* chat_template_kwargs.enable_thinking: -1 absent, 0 false, 1 true */
    int has_max_thinking;         /* max_thinking_tokens (top level or in chat_template_kwargs) */
    uint64_t max_thinking_tokens;

    int truncation;               /* -1: "disabled", 0: absent, 1: "auto", 2: "summarize" */

    /* First field with an unusable value (e.g. "thinking_mode": "fast"): the
     * policy refuses with HTTP 400 naming it. NULL when all fields are fine. */
    const char *bad_param;
    char bad_message[256];
} tg_request;

/* Parses LEN bytes of request JSON. TG_ELIMIT above TG_REQUEST_MAX_BYTES
 * (err->api: 413 request_too_large); TG_EINVAL (err names why) for input no
 * decision can be made about, with err->api saying what an OpenAI API
 * answers (status 400, type invalid_request_error):
 *   not JSON, not an object                           code invalid_json
 *   neither a "messages" array nor a "prompt"         missing_required_parameter,
 *                                                     param messages
 *   "messages" not a non-empty array of objects with
 *   a string "role"; "prompt" not a string, strings
 *   or token ids                                      invalid_type, param messages | prompt
 *   "model" not a string, "stream" not a boolean,
 *   "n" not an integer (null is absent)               invalid_type, param the field
 * Bad values of budget fields are not errors here; they are recorded in
 * bad_param for the policy to refuse. */
TG_API tg_status tg_request_parse(const char *data, size_t len, tg_request *out, tg_error *err);

/* As tg_request_parse, for an endpoint that takes one KIND: TG_REQ_CHAT
 * (/v1/chat/completions) reads only "messages", TG_REQ_COMPLETION
 * (/v1/completions) only "prompt", and the one it needs missing is
 * missing_required_parameter naming it; TG_REQ_EITHER takes whichever is
 * present (messages first), as tg_request_parse does. */
#define TG_REQ_EITHER (-1)
TG_API tg_status tg_request_parse_as(const char *data, size_t len, int kind, tg_request *out,
                                     tg_error *err);
TG_API void tg_request_free(tg_request *r);

/* ---- token counts (supplied by the caller) ----------------------------- */

/* For a chat: items[i] is what message i adds to the prompt, its template
 * overhead included; fixed is what belongs to no message (the reply priming,
 * tool definitions); total is the whole prompt, either the exact count of the
 * rendered template (exact = 1) or fixed + sum(items) (exact = 0).
 * For a completion: items[i] is the tokens of prompt i (a batch has several),
 * fixed is 0 and total is the largest item. */
typedef struct tg_prompt_counts {
    uint64_t total;
    int exact;
    uint64_t fixed;
    size_t n_items;
    uint64_t *items;   /* owned when filled by tg_request_count */
} tg_prompt_counts;

/* Makes the total an exact count of the whole rendered prompt (a chat
 * template's render, tokenized: tg_chat_count), keeping the per-item counts
 * truncation works with; what the template adds beyond them becomes `fixed`.
 * The gateway and `tokgate check` both use it, so they agree. */
TG_API void tg_prompt_counts_set_exact(tg_prompt_counts *c, uint64_t total);

/* Counts TEXT (LEN bytes). Returns TG_OK and sets *tokens, or an error. */
typedef tg_status (*tg_count_fn)(void *user, const char *text, size_t len, uint64_t *tokens,
                                 tg_error *err);

/* The estimator used without a tokenizer: ceil(bytes / 4), the usual
 * "about four bytes of English per token" rule. Never exact. */
TG_API tg_status tg_estimate_count(void *user, const char *text, size_t len, uint64_t *tokens,
                                   tg_error *err);

/* Per-message overhead while chat templates are not rendered: OpenAI's
 * cookbook rule (num_tokens_from_messages): 3 tokens per message, 1 more
 * when it has a "name", and 3 for the reply priming of the assistant turn. */
#define TG_CHAT_TOKENS_PER_MESSAGE 3u
#define TG_CHAT_TOKENS_PER_NAME 1u
#define TG_CHAT_TOKENS_REPLY 3u

/* Fills OUT for request R with FN. A chat message counts its role, text
 * content (string or "text" parts), name, tool_calls (function name and
 * arguments) and reasoning_content, plus the overhead above; "tools" counts
 * as its compact JSON. Chats are never exact (the template is not rendered);
 * a completion is exact when FN_EXACT is 1 (a real tokenizer), and token-id
 * prompts are always counted exactly. Free OUT with tg_prompt_counts_free. */
TG_API tg_status tg_request_count(const tg_request *r, tg_count_fn fn, void *user, int fn_exact,
                                  tg_prompt_counts *out, tg_error *err);
TG_API void tg_prompt_counts_free(tg_prompt_counts *c);

/* ---- hooks for truncation ---------------------------------------------- */

typedef struct tg_policy_hooks {
    /* keep_recent: the last N tokens of TEXT as new text (malloc'd, the policy
     * frees it) with its token count. NULL: the estimator's version, which keeps
     * the last 4N bytes cut at a UTF-8 boundary (and is marked not exact). */
    tg_status (*keep_last)(void *user, const char *text, size_t len, uint64_t n, char **out,
                           size_t *out_len, uint64_t *out_tokens, tg_error *err);
    /* Optional exact recount of a chat after messages were dropped (the rendered
     * template). NULL: total minus the dropped items, marked not exact. */
    tg_status (*recount)(void *user, const json_t *request, uint64_t *tokens, int *exact,
                         tg_error *err);
    void *user;
} tg_policy_hooks;

/* A counting function with its argument, for the ready-made hook below. */
typedef struct tg_counter {
    tg_count_fn fn;
    void *user;
} tg_counter;

/* A keep_last hook built on any counting function (USER is a tg_counter *):
 * the longest suffix of TEXT that starts on a UTF-8 character boundary and
 * counts at most N tokens, found by binary search over the start (O(log len)
 * counts; the text is cut, never re-decoded, so what is sent is exactly a
 * suffix of what the client wrote). Token counts of suffixes are treated as
 * non-increasing in the start offset; the result is always checked to fit. */
TG_API tg_status tg_keep_last_counted(void *user, const char *text, size_t len, uint64_t n,
                                      char **out, size_t *out_len, uint64_t *out_tokens,
                                      tg_error *err);

/* ---- the decision ------------------------------------------------------ */

typedef enum tg_action {
    TG_ACTION_FORWARD = 0,
    TG_ACTION_TRUNCATE,
    TG_ACTION_REJECT
} tg_action;

typedef enum tg_max_tokens_source {
    TG_SRC_REQUEST = 0,
    TG_SRC_CONFIG,
    TG_SRC_ENV,
    TG_SRC_DEFAULT
} tg_max_tokens_source;

typedef struct tg_truncation_report {
    int applied;                    /* 1 when something was cut */
    tg_truncation_mode mode;        /* the method used */
    size_t *dropped_messages;       /* chat: original indices, ascending (owned) */
    size_t n_dropped_messages;
    uint64_t dropped_tokens;        /* tokens removed (estimated unless recounted) */
    uint64_t prompt_tokens_before;
    /* mode summarize (chats): the request above is the drop_oldest_turns
     * fallback; the summary replaces the oldest turns drop_oldest_turns drops
     * when summary_max_tokens + TG_SUMMARY_OVERHEAD more are kept free. None
     * (n_summary_messages 0) when that leaves no room: the fallback stands. */
    int summarize;                  /* 1: mode summarize was chosen */
    size_t *summary_messages;       /* original indices, ascending (owned) */
    size_t n_summary_messages;
    size_t n_summary_turns;         /* turns (and tool-call groups) among them */
    uint64_t summary_tokens;        /* their per-message counts, summed */
    uint64_t summary_cap;           /* the prompt cap the compacted chat must fit */
    /* The messages above reach past the fewest that must go: a quarter of the
     * room left is kept free for the conversation to grow into, so the same
     * summary serves its next requests (not when their tokens, the summary's
     * and 256 more would pass the context: the summary call must fit it).
     * Any turn end from n_summary_min on is a valid cut (a cached summary of
     * such a prefix can be used as it is). */
    size_t n_summary_min;           /* the fewest of summary_messages that must go */
    size_t *summary_ends;           /* per turn among them, in order: how many of
                                       summary_messages end with it (owned) */
    uint64_t *summary_end_tokens;   /* ... and their tokens up to it (owned) */
    size_t n_summary_ends;          /* = n_summary_turns */
} tg_truncation_report;

typedef struct tg_budget {
    uint64_t context;
    uint64_t input;
    uint64_t prompt_tokens;
    int prompt_tokens_exact;
    uint64_t safe_max;
    uint64_t max_tokens;             /* effective; 0 when rejected before it was chosen */
    tg_max_tokens_source max_tokens_source;
    uint64_t requested_max_tokens;   /* what the client asked for (0 = nothing) */
    uint64_t escalate_to;            /* 0 = no escalation */
    uint64_t thinking_tokens;        /* 0 = none (not a reasoning model, or disabled) */
    int thinking_disabled;           /* 1 when thinking is turned off upstream */
    int clamped;                     /* 1 when the client's max_tokens was lowered (output
                                        limit, safe maximum, context - prompt) */
    /* thinking_mode adaptive (tokgate/adaptive.h): the class and where the
     * budget came from (before it was fitted inside max_tokens). */
    int adaptive;                    /* 1 when the adaptive mode chose the budget */
    uint8_t adaptive_band, adaptive_code, adaptive_asked; /* tg_adaptive_class */
    int adaptive_from_samples;       /* 1: the class's quantile; 0: the catalogue */
    uint32_t adaptive_samples;       /* samples the class held */
    uint64_t adaptive_budget;        /* the budget the table answered */
    uint64_t adaptive_hi;            /* the mode's upper bound (base x 2) */
} tg_budget;

typedef struct tg_decision {
    tg_action action;
    int status;                      /* 200, or the HTTP error status */
    json_t *request;                 /* body to send upstream; NULL when rejected (owned) */
    json_t *error;                   /* {"error": {...}} when rejected; NULL otherwise (owned) */
    tg_error refusal;                /* when rejected: the message and refusal.api (status,
                                        type, code, param) the body was built from; else zero */
    tg_budget budget;
    tg_truncation_report truncation;
} tg_decision;

typedef struct tg_policy_input {
    const tg_model_settings *settings;
    const tg_limits *limits;            /* context, input and output are used */
    const tg_request *request;
    const tg_prompt_counts *counts;
    uint64_t env_max_output_tokens;     /* TOKGATE_MAX_OUTPUT_TOKENS as read by the caller; 0 = unset */
    const tg_policy_hooks *hooks;       /* NULL: no hooks */
    tg_adaptive *adaptive;              /* learned thinking budgets; NULL: the catalogue's */
} tg_policy_input;

/* Decides. TG_OK whenever a decision was made, a refusal included; an error
 * only for a missing argument, inconsistent counts (n_items not matching the
 * request), a failing hook or memory exhaustion. OUT is always initialised,
 * so tg_decision_free is safe after any return. */
TG_API tg_status tg_policy_decide(const tg_policy_input *in, tg_decision *out, tg_error *err);
TG_API void tg_decision_free(tg_decision *d);

/* The body to retry with after a response stopped on finish_reason "length":
 * a deep copy of d->request with max_tokens (the field(s) the client used)
 * set to budget.escalate_to, everything else (thinking budget included) as
 * decided. NULL when the decision has no escalation (or out of memory). */
TG_API json_t *tg_decision_escalated_request(const tg_decision *d);

/* {"action", "status", "request", "error", "budget": {...}} (new reference). */
TG_API json_t *tg_decision_to_json(const tg_decision *d);

/* ---- the one budget path ----------------------------------------------- */

/* The model a request is decided for. Everything is borrowed. */
typedef struct tg_budget_model {
    const tg_model_settings *settings;  /* required; name NULL: the request's "model" */
    const tg_limits *limits;            /* required: the live limits (context, input, output) */
    const tg_tokenizer *tok;            /* NULL: the estimator (never exact) */
    const tg_chat *chat;                /* with tok: a chat is rendered and counted exactly */
    tg_chat_dialect chat_dialect;       /* how the upstream renders a chat: TG_CHAT_LLAMACPP
                                           (llama-server's rewriting, the BOS it adds) or
                                           TG_CHAT_HF (vLLM, transformers: no added specials) */
    tg_count_cache *cache;              /* optional, built on tok (the chat count goes through
                                           it); not thread-safe: the caller keeps one per thread */
    uint64_t env_max_output_tokens;     /* TOKGATE_MAX_OUTPUT_TOKENS as the caller read it; 0 unset */
    tg_adaptive *adaptive;              /* learned thinking budgets (thread-safe); NULL: none */
    uint64_t engine_tokens;             /* the prompt's exact count as the serving engine itself gave it
                                           (the gateway's engine /tokenize, issue 19), used when tok and
                                           chat cannot count the request exactly; 0: none */
} tg_budget_model;

typedef enum tg_count_method {
    TG_COUNT_ESTIMATE = 0, /* tg_estimate_count plus the cookbook's chat overhead */
    TG_COUNT_TOKENIZER,    /* the tokenizer: a raw prompt exactly, a chat per message */
    TG_COUNT_TEMPLATE,     /* the chat template rendered, then tokenized: exact */
    TG_COUNT_ENGINE        /* the engine's own count (tg_budget_model.engine_tokens): exact */
} tg_count_method;

typedef struct tg_budget_decision {
    tg_decision d;           /* action, status, d.request (the body to send), d.error (the
                                body to answer with) and d.refusal (its facts), the budget
                                (prompt tokens, exact, max_tokens and source, clamped,
                                escalate_to, thinking) and the truncation report */
    int rewritten;           /* d.request differs from the client's body */
    json_t *escalated;       /* the retry body at budget.escalate_to (owned), or NULL */
    tg_count_method method;
    char note[256];          /* why a chat was not counted through its template although it
                                has one (the render failed); "" otherwise */
} tg_budget_decision;

/* Counts request R for model M as tg_budget_decide does: with M->tok and
 * M->chat a chat is rendered in M->chat_dialect and tokenized (through
 * M->cache when given; llama-server's dialect adds the model's BOS), its
 * per-message counts kept for truncation; with M->tok alone, each message
 * (no specials) or the raw prompt (with the specials the server adds);
 * otherwise the estimator. A template that fails to render falls back to the
 * per-message count and says why in NOTE (NOTE_CAP bytes; may be NULL).
 * Free OUT with tg_prompt_counts_free. */
TG_API tg_status tg_budget_count(const tg_request *r, const tg_budget_model *m,
                                 tg_prompt_counts *out, tg_count_method *method, char *note,
                                 size_t note_cap, tg_error *err);

/* The exact count of a chat REQUEST (a JSON object with "messages") as M's
 * upstream counts it: rendered with M->chat in M->chat_dialect, tokenized
 * with M->tok (through M->cache when given), llama-server's BOS added for
 * TG_CHAT_LLAMACPP. The step tg_budget_count takes for a chat; TG_EINVAL
 * without tok or chat, the render's error when it fails. */
TG_API tg_status tg_budget_count_chat(const json_t *request, const tg_budget_model *m, size_t *count,
                                      tg_error *err);

/* The whole decision for R on model M: tg_budget_count, then
 * tg_policy_decide with hooks on M->tok (keep_last: tg_keep_last_counted;
 * recount, when the chat was counted through its template: the kept messages
 * rendered and counted exactly), then the escalation body.
 * TG_OK whenever a decision was made. A refusal is a decision (d.action
 * reject, d.status, d.error, d.refusal), and so is a prompt the tokenizer
 * cannot count (400 invalid_request, param messages | prompt). Errors: a
 * missing argument or memory exhaustion. OUT is always initialised, so
 * tg_budget_decision_free is safe after any return. Thread-safe for distinct
 * OUTs as long as M->cache is not shared between threads. */
TG_API tg_status tg_budget_decide(const tg_request *r, const tg_budget_model *m,
                                  tg_budget_decision *out, tg_error *err);
TG_API void tg_budget_decision_free(tg_budget_decision *b);

/* ---- summarizing compaction (truncation summarize) ----------------------
 * The library's half of it, pure: what the summary call sends, the cache key,
 * and the compacted chat. The gateway makes the call (docs/policy.md). MSGS
 * are original message indices, ascending (tg_truncation_report's
 * summary_messages); REQUEST is the client's chat request. */

/* Template tokens a summary message costs beyond its text (role markers and
 * the "Summary of the earlier conversation" line), kept free beside
 * summary_max_tokens. */
#define TG_SUMMARY_OVERHEAD 32u
/* The prompt used when the operator sets none. */
TG_API const char *tg_summary_default_prompt(void);

/* The messages MSGS as plain text, one block per message ("user: ...",
 * "assistant: ...", "assistant called NAME(ARGS)", "tool result: ...");
 * text parts of array contents are joined. malloc'd; NULL out of memory. */
TG_API char *tg_summary_transcript(const json_t *request, const size_t *msgs, size_t n);

/* The summary call's body: REQUEST's "model", [system PROMPT (NULL: the
 * default), user transcript], max_tokens MAX_TOKENS, stream false,
 * temperature 0, thinking off. New reference; NULL out of memory. */
TG_API json_t *tg_summary_request(const json_t *request, const size_t *msgs, size_t n,
                                  const char *prompt, uint64_t max_tokens);

/* The cache key of a summary: two independent 64-bit FNV-1a hashes over the
 * exact prefix replaced (each of MSGS as compact JSON, in order), the model,
 * the prompt and max_tokens: the same prefix gives the same key. */
typedef struct tg_summary_key {
    uint64_t h[2];
} tg_summary_key;
TG_API tg_summary_key tg_summary_key_of(const json_t *request, const size_t *msgs, size_t n,
                                        const char *prompt, uint64_t max_tokens);
/* The keys of the prefixes MSGS[0..ENDS[i]) at once (ENDS ascending, each at
 * most N), into KEYS[i]: one pass, each the same as tg_summary_key_of's. */
TG_API void tg_summary_keys(const json_t *request, const size_t *msgs, size_t n, const char *prompt,
                            uint64_t max_tokens, const size_t *ends, size_t n_ends, tg_summary_key *keys);

/* The summary text of an OpenAI chat answer (choices[0].message.content, a
 * non-empty string, whitespace around it trimmed): malloc'd; NULL with ERR
 * saying why (not JSON, no content, empty, finish_reason not stop/length). */
TG_API char *tg_summary_text(const char *answer, size_t len, tg_error *err);

/* The compacted chat: REQUEST with MSGS removed and one message
 * {"role": "system", "content": "Summary of the earlier conversation:\n" TEXT}
 * inserted after the leading system messages; everything else, byte for byte,
 * in its order. New reference (the other messages shared); NULL out of
 * memory or when an index is out of range or names a system message. With M
 * (may be NULL) *TOKENS and *EXACT are its count as tg_budget_count counts
 * it (exact through the template when M has a tokenizer and a chat). */
TG_API json_t *tg_summary_compact(const json_t *request, const size_t *msgs, size_t n,
                                  const char *text, const tg_budget_model *m, uint64_t *tokens,
                                  int *exact, tg_error *err);

/* ---- OpenAI error bodies ------------------------------------------------ */

/* {"error": {"message", "type", "param", "code"}} (new reference; NULL out
 * of memory). TYPE NULL or "": "invalid_request_error"; CODE, PARAM NULL or
 * "": null. Every error body tokgate answers with is built here. */
TG_API json_t *tg_error_body(const char *message, const char *type, const char *code,
                             const char *param);
/* The same from a structured error: e->msg and e->api. */
TG_API json_t *tg_error_body_of(const tg_error *e);
/* The same as compact JSON text (malloc'd, free() it; NULL out of memory). */
TG_API char *tg_error_body_text(const char *message, const char *type, const char *code,
                                const char *param);

/* Names used in JSON and on the command line; the parsers return -1 for an
 * unknown name. */
TG_API const char *tg_action_name(tg_action a);
TG_API const char *tg_max_tokens_source_name(tg_max_tokens_source s);
TG_API const char *tg_thinking_mode_name(tg_thinking_mode m);
TG_API const char *tg_truncation_mode_name(tg_truncation_mode m);
TG_API const char *tg_dialect_name(tg_dialect d);
TG_API const char *tg_count_method_name(tg_count_method m); /* estimate|tokenizer|template|engine */
TG_API int tg_thinking_mode_parse(const char *s);
TG_API int tg_truncation_mode_parse(const char *s); /* also "off" */
TG_API int tg_dialect_parse(const char *s);         /* also "openai" (= none) */
TG_API int tg_overflow_mode_parse(const char *s);

#ifdef __cplusplus
}
#endif
#endif
