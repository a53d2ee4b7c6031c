/*
 * request.c: the OpenAI request fields the policy reads, parsed once with
 * jansson from the body bytes.
 *
 *   messages               chat (/v1/chat/completions): array of objects
 *                          with a string "role"
 *   prompt                 completion (/v1/completions): string, array of
 *                          strings, array of token ids, or array of those
 *   max_completion_tokens  the budget; wins over max_tokens (as in vLLM's
 *   max_tokens             protocol); null means absent
 *   thinking_mode          auto|conservative|balanced|aggressive|disabled|custom|
 *                          adaptive (learned budgets, tokgate/adaptive.h)
 *   reasoning_effort       low -> conservative, medium -> balanced,
 *                          high -> aggressive, none|minimal -> disabled
 *   chat_template_kwargs   enable_thinking: false -> disabled;
 *                          max_thinking_tokens: N -> custom
 *   max_thinking_tokens    custom budget (top level wins over the kwargs one)
 *   truncation             "auto" | "disabled" (OpenAI Responses convention),
 *                          "summarize" (tokgate's: summarizing compaction)
 *   stream, model
 *
 * Precedence among thinking spellings: an explicit max_thinking_tokens, then
 * thinking_mode, then reasoning_effort, then enable_thinking: false. An
 * explicit enable_thinking: true overrides a model configured as disabled
 * (the mode becomes auto).
 *
 * Input no decision can be made about (not JSON, not an object, no messages or
 * prompt, a malformed message, a "model" that is not a string, a "stream" or
 * "n" of the wrong type) is an error here, with the OpenAI facts the gateway
 * answers with in err->api (OpenAI's API answers these the same way):
 *   body not JSON or not an object      400 invalid_json
 *   messages / prompt absent            400 missing_required_parameter, param it
 *   a field of the wrong type or shape  400 invalid_type, param the field
 *   body above TG_REQUEST_MAX_BYTES     413 request_too_large
 * A bad value of a budget field is recorded in bad_param so the policy can
 * refuse it with a 400 naming the field. Duplicate keys: the last wins, as in Python's json (what vLLM and
 * most servers use); what is forwarded is the value tokgate decided on, with
 * one member per key.
 *
 * tg__request_parse_scanned reads the same fields from a body the strict
 * scanner (req_scan.h) already walked, without a tree of the conversation:
 * each small member is parsed alone and the conversation's members stay
 * bytes (see req_scan.h for which, and for the gateway's use of it).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy/req_scan.h"
#include "tokgate/policy.h"

static void bad(tg_request *r, const char *param, const char *msg) {
    if (r->bad_param) return; /* the first problem is reported */
    r->bad_param = param;
    snprintf(r->bad_message, sizeof r->bad_message, "%s", msg);
}

/* A request of the wrong shape: 400 invalid_type naming PARAM. */
static tg_status bad_type(tg_error *err, const char *param) {
    return tg_error_api(err, 400, NULL, "invalid_type", param);
}

static tg_status check_messages(const json_t *msgs, tg_error *err) {
    if (!json_is_array(msgs)) {
        tg_error_set(err, TG_EINVAL, "\"messages\" must be an array, got %s",
                     json_is_object(msgs) ? "an object" : "a scalar");
        return bad_type(err, "messages");
    }
    size_t n = json_array_size(msgs);
    if (n == 0) {
        tg_error_set(err, TG_EINVAL, "\"messages\" is empty: nothing to check");
        return bad_type(err, "messages");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *m = json_array_get(msgs, i);
        if (!json_is_object(m))
            tg_error_set(err, TG_EINVAL, "messages[%zu] is not an object", i);
        else if (!json_is_string(json_object_get(m, "role")))
            tg_error_set(err, TG_EINVAL, "messages[%zu] has no string \"role\"", i);
        else
            continue;
        return bad_type(err, "messages");
    }
    return TG_OK;
}

static int is_id_array(const json_t *a) {
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0) return 0;
    }
    return 1;
}

static tg_status check_prompt(const json_t *p, tg_error *err) {
    if (json_is_string(p)) return TG_OK;
    if (!json_is_array(p) || json_array_size(p) == 0) {
        tg_error_set(err, TG_EINVAL, "\"prompt\" must be a string, an array of strings or "
                                     "a non-empty array of token ids");
        return bad_type(err, "prompt");
    }
    if (json_is_integer(json_array_get(p, 0))) {
        if (is_id_array(p)) return TG_OK;
        tg_error_set(err, TG_EINVAL, "\"prompt\" token ids must be non-negative integers");
        return bad_type(err, "prompt");
    }
    for (size_t i = 0; i < json_array_size(p); i++) {
        const json_t *v = json_array_get(p, i);
        if (!json_is_string(v) && !is_id_array(v)) {
            tg_error_set(err, TG_EINVAL, "prompt[%zu] is neither a string nor an array of token ids", i);
            return bad_type(err, "prompt");
        }
    }
    return TG_OK;
}

static const char *json_type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    case JSON_NULL: break;
    }
    return "null";
}

/* The top-level members finish() reads, found in one walk over the members
 * (a key is unique in a jansson object, so each is what json_object_get
 * returns; a dozen lookups hashed each key name: ~2,400 instructions). */
enum { KN_MODEL, KN_STREAM, KN_NCHOICES, KN_MCT, KN_MT, KN_KW, KN_MTT, KN_TM, KN_RE, KN_TR, KN_COUNT };
static const char *const known_names[KN_COUNT] = {
    "model", "stream", "n", "max_completion_tokens", "max_tokens", "chat_template_kwargs", "max_thinking_tokens",
    "thinking_mode", "reasoning_effort", "truncation"};

static void known_of(const json_t *root, const json_t **v) {
    for (size_t i = 0; i < KN_COUNT; i++) v[i] = NULL;
    const char *key;
    size_t kl;
    json_t *val;
    json_object_keylen_foreach((json_t *)(uintptr_t)root, key, kl, val) {
        for (size_t i = 0; i < KN_COUNT; i++)
            if (key[0] == known_names[i][0] && strlen(known_names[i]) == kl && memcmp(key, known_names[i], kl) == 0) {
                v[i] = val;
                break;
            }
    }
}

/* "model" a string, "stream" a boolean, "n" an integer (null: absent). */
static tg_status check_shape(const json_t *const *kn, tg_error *err) {
    const json_t *v;
    const char *name = NULL, *want = NULL;
    if ((v = kn[KN_MODEL]) && !json_is_null(v) && !json_is_string(v))
        name = "model", want = "a string";
    else if ((v = kn[KN_STREAM]) && !json_is_null(v) && !json_is_boolean(v))
        name = "stream", want = "a boolean";
    else if ((v = kn[KN_NCHOICES]) && !json_is_null(v) && !json_is_integer(v))
        name = "n", want = "an integer";
    if (!name) return TG_OK;
    tg_error_set(err, TG_EINVAL, "'%s' must be %s, got %s", name, want, json_type_name(v));
    return bad_type(err, name);
}

static void parse_max_tokens(tg_request *r, const json_t *const *kn) {
    static const char *const fields[] = {"max_completion_tokens", "max_tokens"};
    for (size_t i = 0; i < 2; i++) {
        const json_t *v = kn[i ? KN_MT : KN_MCT];
        if (!v || json_is_null(v)) continue;
        r->has_max_tokens = 1;
        r->max_tokens_field = fields[i];
        r->max_tokens_valid = json_is_integer(v);
        r->max_tokens = r->max_tokens_valid ? (long long)json_integer_value(v) : 0;
        return;
    }
}

static void parse_max_thinking(tg_request *r, const json_t *v, const char *param) {
    if (!v || json_is_null(v) || r->has_max_thinking) return;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        char msg[160];
        snprintf(msg, sizeof msg, "%s must be a non-negative integer", param);
        bad(r, param, msg);
        return;
    }
    r->has_max_thinking = 1;
    r->max_thinking_tokens = (uint64_t)json_integer_value(v);
}

static void parse_thinking(tg_request *r, const json_t *const *kn) {
    const json_t *kw = kn[KN_KW];
    if (kw && !json_is_null(kw) && !json_is_object(kw))
        bad(r, "chat_template_kwargs", "chat_template_kwargs must be an object");
    const json_t *et0 = json_is_object(kw) ? json_object_get(kw, "enable_thinking") : NULL;
    r->enable_thinking = json_is_boolean(et0) ? json_is_true(et0) : -1;
    parse_max_thinking(r, kn[KN_MTT], "max_thinking_tokens");
    if (json_is_object(kw))
        parse_max_thinking(r, json_object_get(kw, "max_thinking_tokens"),
                           "chat_template_kwargs.max_thinking_tokens");

    const json_t *tm = kn[KN_TM];
    if (tm && !json_is_null(tm)) {
        int m = json_is_string(tm) ? tg_thinking_mode_parse(json_string_value(tm)) : -1;
        if (m < 0) {
            bad(r, "thinking_mode", "thinking_mode must be one of auto, conservative, balanced, "
                                    "aggressive, disabled, adaptive, custom");
        } else {
            r->has_thinking_mode = 1;
            r->thinking_mode = (tg_thinking_mode)m;
            r->thinking_mode_from = "thinking_mode";
            return;
        }
    }
    const json_t *re = kn[KN_RE];
    if (re && !json_is_null(re)) {
        const char *s = json_string_value(re);
        static const struct { const char *name; tg_thinking_mode mode; } map[] = {
            {"low", TG_THINK_CONSERVATIVE}, {"medium", TG_THINK_BALANCED},
            {"high", TG_THINK_AGGRESSIVE},  {"none", TG_THINK_DISABLED},
            {"minimal", TG_THINK_DISABLED},
        };
        for (size_t i = 0; s && i < sizeof map / sizeof map[0]; i++)
            if (strcmp(s, map[i].name) == 0) {
                r->has_thinking_mode = 1;
                r->thinking_mode = map[i].mode;
                r->thinking_mode_from = "reasoning_effort";
                return;
            }
        bad(r, "reasoning_effort", "reasoning_effort must be one of none, minimal, low, medium, high");
        return;
    }
    const json_t *et = json_is_object(kw) ? json_object_get(kw, "enable_thinking") : NULL;
    if (json_is_false(et)) {
        r->has_thinking_mode = 1;
        r->thinking_mode = TG_THINK_DISABLED;
        r->thinking_mode_from = "chat_template_kwargs.enable_thinking";
    }
}

static tg_status finish(tg_request *rp, tg_request *out, tg_error *err);

tg_status tg_request_parse(const char *data, size_t len, tg_request *out, tg_error *err) {
    return tg_request_parse_as(data, len, TG_REQ_EITHER, out, err);
}

/* The body's messages (chat) or prompt (completion), as KIND asks. */
static tg_status check_input(const json_t *root, int kind, tg_request *r, tg_error *err) {
    const json_t *msgs = json_object_get(root, "messages");
    const json_t *prompt = json_object_get(root, "prompt");
    if (kind == TG_REQ_COMPLETION) msgs = NULL;
    if (kind == TG_REQ_CHAT) prompt = NULL;
    if (msgs && !json_is_null(msgs)) {
        r->kind = TG_REQ_CHAT;
        return check_messages(msgs, err);
    }
    if (prompt && !json_is_null(prompt)) {
        r->kind = TG_REQ_COMPLETION;
        return check_prompt(prompt, err);
    }
    if (kind == TG_REQ_EITHER) {
        tg_error_set(err, TG_EINVAL, "request has neither \"messages\" nor \"prompt\"");
        return tg_error_api(err, 400, NULL, "missing_required_parameter", "messages");
    }
    const char *field = kind == TG_REQ_CHAT ? "messages" : "prompt";
    tg_error_set(err, TG_EINVAL, "'%s' is required", field);
    return tg_error_api(err, 400, NULL, "missing_required_parameter", field);
}

tg_status tg_request_parse_as(const char *data, size_t len, int kind, tg_request *out,
                              tg_error *err) {
    memset(out, 0, sizeof *out);
    if (kind != TG_REQ_EITHER && kind != TG_REQ_CHAT && kind != TG_REQ_COMPLETION)
        return tg_error_set(err, TG_EINVAL, "tg_request_parse_as: kind %d is not a request kind", kind);
    if (!data && len) return tg_error_set(err, TG_EINVAL, "no request data");
    if (len > TG_REQUEST_MAX_BYTES) {
        tg_error_set(err, TG_ELIMIT, "request body of %zu bytes exceeds the %u-byte limit", len,
                     (unsigned)TG_REQUEST_MAX_BYTES);
        return tg_error_api(err, 413, NULL, "request_too_large", NULL);
    }
    json_error_t je;
    json_t *root = json_loadb(data ? data : "", len, JSON_ALLOW_NUL, &je);
    if (!root) {
        tg_error_set(err, TG_EINVAL, "request is not JSON: %s at line %d column %d", je.text,
                     je.line, je.column);
        return tg_error_api(err, 400, NULL, "invalid_json", NULL);
    }
    if (!json_is_object(root)) {
        json_decref(root);
        tg_error_set(err, TG_EINVAL, "request is not a JSON object");
        return tg_error_api(err, 400, NULL, "invalid_json", NULL);
    }
    tg_request r;
    memset(&r, 0, sizeof r);
    r.root = root;
    tg_status s = check_input(root, kind, &r, err);
    if (s != TG_OK) {
        json_decref(root);
        return s;
    }
    return finish(&r, out, err);
}

/* The fields every parse reads from ROOT once the input checked out. */
static tg_status finish(tg_request *rp, tg_request *out, tg_error *err) {
    tg_request r = *rp;
    const json_t *kn[KN_COUNT];
    known_of(r.root, kn);
    tg_status s = check_shape(kn, err);
    if (s != TG_OK) {
        json_decref(r.root);
        return s;
    }
    r.model = json_string_value(kn[KN_MODEL]);
    r.stream = json_is_true(kn[KN_STREAM]);
    parse_max_tokens(&r, kn);
    parse_thinking(&r, kn);
    const json_t *tr = kn[KN_TR];
    if (tr && !json_is_null(tr)) {
        const char *t = json_string_value(tr);
        if (t && strcmp(t, "auto") == 0) r.truncation = 1;
        else if (t && strcmp(t, "disabled") == 0) r.truncation = -1;
        else if (t && strcmp(t, "summarize") == 0) r.truncation = 2;
        else bad(&r, "truncation", "truncation must be \"auto\", \"disabled\" or \"summarize\"");
    }
    *out = r;
    return TG_OK;
}

void tg_request_free(tg_request *r) {
    if (!r) return;
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

/* Members whose values stay bytes in a scanned parse: the conversation. */
static int conversation_key(const char *s, const tg__req_member *m) {
#define K(k) {(k), sizeof(k) - 1} /* each name's length known: compared first, no strlen */
    static const struct { const char *s; size_t n; } keys[] = {K("messages"), K("tools"), K("functions"),
                                                               K("documents"), K("prompt")};
#undef K
    size_t kl = m->kend - m->kstart;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (keys[i].n == kl && memcmp(s + m->kstart, keys[i].s, kl) == 0) return 1;
    return 0;
}

/* A scanned member's value as json_loadb reads it, without its set-up (a
 * lexer and buffers per call cost ~2,500 instructions for "max_tokens":1):
 * a string with no escape is its bytes (the scan checked them as jansson
 * does), an integer strtoll's (the scan checked its range), a literal
 * itself; anything else (reals, escapes, containers) through json_loadb. */
static json_t *member_value(const char *data, const tg__req_member *m) {
    const char *v = data + m->vstart;
    size_t n = m->vend - m->vstart;
    if (m->type == '"' && n >= 2 && !memchr(v + 1, '\\', n - 2)) return json_stringn_nocheck(v + 1, n - 2);
    if (m->type == 't') return json_true();
    if (m->type == 'f') return json_false();
    if (m->type == 'n') return json_null();
    if ((m->type == '-' || (m->type >= '0' && m->type <= '9')) && n < 24 && !memchr(v, '.', n) && !memchr(v, 'e', n) &&
        !memchr(v, 'E', n)) {
        char t[24];
        memcpy(t, v, n);
        t[n] = '\0';
        return json_integer((json_int_t)strtoll(t, NULL, 10));
    }
    json_error_t je;
    return json_loadb(v, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
}

tg_status tg__request_parse_scanned(const char *data, const tg__req_scan *sc, tg_request *out, tg_error *err) {
    memset(out, 0, sizeof *out);
    const tg__req_member *msgs = tg__req_scan_get(sc, data, "messages");
    if (sc->any_escaped_key || sc->raw_nul || !msgs || msgs->type != '[' || msgs->n_elems == 0)
        return tg_error_set(err, TG_EINVAL, "not a plain chat: parse it whole");
    tg_request r;
    memset(&r, 0, sizeof r);
    r.kind = TG_REQ_CHAT;
    r.root = json_object();
    json_t *ph = json_array(); /* the messages' place: one null per message */
    int bad = !r.root || !ph || json_object_set_new(r.root, "messages", ph);
    for (size_t i = 0; !bad && i < msgs->n_elems; i++) bad = json_array_append_new(ph, json_null());
    for (size_t i = 0; !bad && i < sc->n; i++) {
        const tg__req_member *m = &sc->m[i];
        if (conversation_key(data, m)) continue;
        json_t *v = member_value(data, m);
        char key[128];
        size_t kl = m->kend - m->kstart;
        if (!v || kl >= sizeof key) {
            json_decref(v);
            json_decref(r.root);
            return tg_error_set(err, TG_EINVAL, "member %zu: parse it whole", i);
        }
        memcpy(key, data + m->kstart, kl);
        key[kl] = '\0';
        bad = json_object_set_new(r.root, key, v);
    }
    if (bad) {
        json_decref(r.root);
        return tg_error_set(err, TG_ENOMEM, "out of memory parsing the request");
    }
    return finish(&r, out, err);
}

/* An integer member as member_value reads it (strtoll of its bytes): 1 and
 * *v. The scan checked it is JSON's -?digits within long long, so the digits
 * are summed as strtoll sums them (in unsigned: -2^63 fits). */
static int lite_int(const char *data, const tg__req_member *m, long long *v) {
    const char *s = data + m->vstart;
    size_t n = m->vend - m->vstart, i = m->type == '-';
    if (!(m->type == '-' || (m->type >= '0' && m->type <= '9')) || n >= 24 || i >= n) return 0;
    unsigned long long u = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0; /* a fraction or an exponent: a real */
        u = u * 10 + (unsigned)(s[i] - '0');
    }
    *v = m->type == '-' ? (long long)(0 - u) : (long long)u;
    return 1;
}

/* An integer or null member: 1 with *have (0 for null) and *v. */
static int lite_int_or_null(const char *data, const tg__req_member *m, int *have, long long *v) {
    *have = m->type != 'n';
    return m->type == 'n' || lite_int(data, m, v);
}

/* The model's name: a string with no escape, or null. */
static int lite_model(const char *data, const tg__req_member *m, tg__req_lite *q) {
    const char *s = data + m->vstart;
    size_t n = m->vend - m->vstart;
    q->r.model = NULL;
    if (m->type == 'n') return 1;
    if (m->type != '"' || n < 2 || n - 2 >= sizeof q->model || memchr(s + 1, '\\', n - 2)) return 0;
    memcpy(q->model, s + 1, n - 2);
    q->model[n - 2] = '\0';
    q->r.model = q->model;
    return 1;
}

/* One top-level member: 1 when the lite request can hold it. The key's
 * length picks the one or two names it can be (conversation_key's too), so
 * each is one compare of known length. */
static int lite_member(const char *data, const tg__req_member *m, tg__req_lite *q) {
    const char *k = data + m->kstart;
    size_t kl = m->kend - m->kstart;
#define IS(name) (kl == sizeof(name) - 1 && memcmp(k, name, sizeof(name) - 1) == 0)
    switch (kl) {
    case 1:
        if (IS("n")) return lite_int_or_null(data, m, &q->have_n, &q->n);
        break;
    case 5:
        if (IS("model")) return lite_model(data, m, q);
        break; /* "tools": the conversation */
    case 6:
        if (IS("stream")) {
            q->r.stream = m->type == 't';
            return m->type == 't' || m->type == 'f' || m->type == 'n';
        }
        break; /* "prompt": the conversation */
    case 10:
        if (IS("max_tokens")) return lite_int_or_null(data, m, &q->have_mt, &q->mt);
        if (IS("truncation")) return 0;
        break;
    case 13:
        if (IS("thinking_mode")) return 0;
        break;
    case 16:
        if (IS("reasoning_effort")) return 0;
        break;
    case 19:
        if (IS("max_thinking_tokens")) return 0;
        break;
    case 20:
        if (IS("chat_template_kwargs")) return m->type == 'n';
        break;
    case 21:
        if (IS("max_completion_tokens")) return lite_int_or_null(data, m, &q->have_mct, &q->mct);
        break;
    default:
        if (kl >= 128) return 0; /* tg__request_parse_scanned's limit */
        break;
    }
#undef IS
    return 1; /* the conversation (messages, tools, functions, documents, prompt), or a member the decision does not read */
}

int tg__request_parse_lite(const char *data, const tg__req_scan *sc, tg__req_lite *q) {
    memset(q, 0, offsetof(tg__req_lite, model)); /* the name's buffer is read only through r.model, once written */
    q->model[0] = '\0';
    const tg__req_member *msgs = tg__req_scan_get(sc, data, "messages");
    if (sc->any_escaped_key || sc->raw_nul || !msgs || msgs->type != '[' || msgs->n_elems == 0) return 0;
    for (size_t i = 0; i < sc->n; i++) /* in order: a duplicate's last value wins, as in the tree */
        if (!lite_member(data, &sc->m[i], q)) return 0;
    tg_request *r = &q->r;
    r->kind = TG_REQ_CHAT;
    q->n_messages = msgs->n_elems;
    if (q->have_mct || q->have_mt) { /* parse_max_tokens: max_completion_tokens wins */
        r->has_max_tokens = r->max_tokens_valid = 1;
        r->max_tokens_field = q->have_mct ? "max_completion_tokens" : "max_tokens";
        r->max_tokens = q->have_mct ? q->mct : q->mt;
    }
    r->enable_thinking = -1; /* parse_thinking with none of its fields */
    return 1;
}
