/*
 * gateway/filters/escalation.c: the escalation policy (escalation.h):
 * continue in place when the engine can, re-send otherwise.
 */
#include "gateway/filters/escalation.h"

#include <string.h>

/* A chat tokgate can continue in place (cont.h): one choice, and nothing
 * the server parses out of the whole generated text (tool calls,
 * grammars), which a raw continuation would hand over unparsed. */
static int continuable(const json_t *req) {
    json_t *n = json_object_get(req, "n");
    if (n && !json_is_null(n) && json_integer_value(n) != 1) return 0;
    if (json_array_size(json_object_get(req, "tools"))) return 0;
    static const char *const parsed[] = {"response_format", "grammar", "json_schema", "tool_choice"};
    for (size_t i = 0; i < sizeof parsed / sizeof parsed[0]; i++) {
        json_t *v = json_object_get(req, parsed[i]);
        if (v && !json_is_null(v) && !(json_is_string(v) && !strcmp(json_string_value(v), "none")) &&
            !(i == 0 && json_is_object(v) && json_is_string(json_object_get(v, "type")) &&
              !strcmp(json_string_value(json_object_get(v, "type")), "text")))
            return 0;
    }
    return 1;
}

tg__cont *tg__escalation_plan(const tg__model *m, int chat, int stream, const json_t *req, json_t **send,
                              const tg__esc_budget *b) {
    if (!chat || !m->cont || !continuable(req)) return NULL;
    if (!stream && json_is_true(json_object_get(req, "logprobs"))) return NULL; /* an assembled answer carries none */
    tg__cont_cfg cc;
    memset(&cc, 0, sizeof cc);
    cc.engine = m->cont;
    cc.max_tokens = b->max_tokens;
    cc.escalate_to = b->escalate_to;
    cc.think_enforce = m->settings.thinking_base > 0 && (b->thinking_tokens > 0 || b->thinking_disabled);
    cc.think_budget = b->thinking_disabled ? 0 : b->thinking_tokens;
    if (cc.escalate_to <= cc.max_tokens && !cc.think_enforce) return NULL;
    if (!*send) *send = json_incref((json_t *)(uintptr_t)req);
    json_t *s = *send;
    /* The ids of every generated token, as the engine gives them. */
    cc.strip_logprobs = m->cont->ask_ids(s) == 1;
    cc.include_usage = json_is_true(json_object_get(json_object_get(s, "stream_options"), "include_usage"));
    if (!stream) { /* only a stream can be read and cut as it runs: tokgate assembles the answer */
        json_object_set_new(s, "stream", json_true());
        json_object_set_new(s, "stream_options", json_pack("{s:b}", "include_usage", 1));
        cc.include_usage = 1;
    }
    cc.prompt_tokens = b->prompt_tokens;
    cc.think_open = m->cfg->thinking_open;
    cc.think_close = m->cfg->thinking_close;
    cc.budget_message = m->cfg->budget_message;
    if (cc.think_enforce) /* the render the upstream will see, after the policy's rewrite */
        cc.prompt_opens_thinking = tg__chat_prompt_opens(m, s, cc.think_open, cc.think_close) == 1;
    return tg__cont_new(&cc, s);
}

int tg__escalation_resends(int stream, int continues, uint64_t max_tokens, uint64_t escalate_to, int has_body) {
    return !stream && !continues && escalate_to > max_tokens && has_body;
}

int tg__escalation_hit_length(const char *body, size_t len) {
    json_error_t je;
    json_t *j = json_loadb(body, len, 0, &je);
    json_t *ch = json_array_get(json_object_get(j, "choices"), 0);
    const char *fr = json_string_value(json_object_get(ch, "finish_reason"));
    int hit = fr && !strcmp(fr, "length");
    json_decref(j);
    return hit;
}
