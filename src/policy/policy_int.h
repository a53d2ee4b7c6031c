/*
 * policy/policy_int.h: what the policy's files share and nothing else sees.
 * Each step of tg_policy_decide (policy.c) lives in its own file:
 *   max_tokens.c  GPUStack validation of a client's max_tokens
 *   prompt_cap.c  the prompt cap: helexa's input budget, or what the
 *                 client's max_tokens leaves
 *   truncate.c    drop_oldest_turns (chats) and keep_recent (raw prompts)
 *   output.c      qwen-code's output reservation and single escalation
 *   thinking.c    dynamic thinking budgets and their upstream fields
 *   errors.c      OpenAI-shaped error bodies (the library's one builder)
 *   budget.c      tg_budget_decide: count, then decide (the one budget path)
 * A step that refuses fills the decision with tg__reject and returns 1.
 */
#ifndef TG_POLICY_INT_H
#define TG_POLICY_INT_H

#include "tokgate/policy.h"

/* errors.c: sets action reject, STATUS, the error body (invalid_request_error,
 * CODE, PARAM, MESSAGE) and d->refusal; TG_ENOMEM when the body could not be
 * built. */
/* tg_policy_decide whose d->request shares the request's values below its
 * top level (json_copy, not json_deep_copy): for a caller that only reads
 * it, or replaces top-level members, and frees it before the request
 * (the gateway's scanned request, policy/budget.c). The same decision. */
tg_status tg__policy_decide_shared(const tg_policy_input *in, tg_decision *d, tg_error *err);
/* The same decision's numbers with no tree at all (d->request stays NULL and
 * step 7 is the caller's), for a chat request of N_MESSAGES messages whose
 * root is NULL (tg__request_parse_lite): *lite 0 (d empty) where the tree is
 * needed: a reasoning model (thinking_base), counts that do not cover the
 * messages, a prompt over its cap (truncation, or its refusal). */
tg_status tg__policy_decide_lite(const tg_policy_input *in, size_t n_messages, tg_decision *d, int *lite,
                                 tg_error *err);

tg_status tg__reject(tg_decision *d, int status, const char *code, const char *param,
                     const char *message);

/* max_tokens.c: 1 when the client's max_tokens was refused (d filled). */
int tg__check_requested_max_tokens(const tg_policy_input *in, const char *model, tg_decision *d,
                                   tg_status *st);

/* prompt_cap.c: 1 when the client gave a usable max_tokens (or
 * max_completion_tokens) above 0; otherwise max_tokens is defaulted. */
int tg__client_max_tokens(const tg_request *r);
/* prompt_cap.c: the largest prompt this request may have (docs/policy.md,
 * rule 2): with the client's max_tokens M (after the model's output limit,
 * and in clamp mode the safe maximum SAFE_MAX), context - F where F, the
 * smallest answer it may be shortened to, is M in reject mode and
 * min(M, limit.output) in clamp mode; without one, limit.input. Never above
 * context - 1: a prompt always leaves room for one token. */
uint64_t tg__prompt_cap(const tg_policy_input *in, uint64_t safe_max);
/* prompt_cap.c: refuses a PROMPT over tg__prompt_cap with
 * context_length_exceeded (tg__reject, plus llama.cpp's n_prompt_tokens and
 * n_ctx), in the wording that fits the case (vLLM's, OpenAI's); EXTRA (may
 * be NULL) is appended to the message. */
tg_status tg__reject_prompt_cap(const tg_policy_input *in, tg_decision *d, uint64_t prompt,
                                int exact, const char *extra);

/* truncate.c: cut the prompt to CAP tokens (tg__prompt_cap), when truncation
 * is on; refuses otherwise. Works on d->request (a copy of the body) and
 * updates d->budget.prompt_tokens/_exact and d->truncation. Returns 1 when it
 * refused (d filled), 0 when the prompt now fits. */
int tg__truncate(const tg_policy_input *in, tg_decision *d, uint64_t cap, tg_status *st,
                 tg_error *err);

/* output.c: choose max_tokens and its source (before thinking), clamped to
 * what the context leaves after the prompt (the prompt is within
 * tg__prompt_cap, so that is at least the smallest answer allowed); 1 when
 * nothing is left (refused, d filled). */
int tg__choose_max_tokens(const tg_policy_input *in, tg_decision *d, tg_status *st);
/* output.c: escalate_to for a capped default. */
void tg__escalation(const tg_policy_input *in, tg_decision *d);
/* output.c: write the effective max_tokens into d->request. */
tg_status tg__write_max_tokens(const tg_policy_input *in, tg_decision *d);

/* thinking.c: the budget wanted by request and settings before fitting
 * (0 with *disabled = 1 when off; 0 with *disabled = 0 when the model does not
 * reason). */
uint64_t tg__thinking_wanted(const tg_policy_input *in, tg_budget *b, int *disabled);
/* thinking.c: a defaulted max_tokens (not the client's) becomes thinking +
 * the default answer reservation, within what the context leaves. */
void tg__thinking_raise(const tg_policy_input *in, tg_decision *d, uint64_t wanted);
/* thinking.c: the budget shrinks to leave min_answer_tokens inside
 * max_tokens; sets budget.thinking_tokens (0 + thinking_disabled when no room). */
void tg__thinking_fit(const tg_policy_input *in, tg_decision *d, uint64_t wanted);
/* thinking.c: write the budget (or enable_thinking:false) into d->request. */
tg_status tg__thinking_write(const tg_policy_input *in, tg_decision *d, int reasoning_model);

uint64_t tg__min_u64(uint64_t a, uint64_t b);
/* A count as a JSON integer (saturating at the json_int_t maximum). */
json_t *tg__json_count(uint64_t v);
uint64_t tg__room(const tg_decision *d); /* context - prompt, 0 when none */

#endif
