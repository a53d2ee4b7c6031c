/*
 * errors.c: the one builder of OpenAI-shaped error bodies, the form every
 * OpenAI SDK, LiteLLM and coding agent parses:
 *
 *   {"error": {"message": "...", "type": "invalid_request_error",
 *              "param": "messages", "code": "context_length_exceeded"}}
 *
 * The openai npm/python clients map HTTP 400 to BadRequestError and lift
 * `code`, `param` and `type` from the inner object, so a refusal built here is
 * recognised exactly like one from api.openai.com. The library's refusals and
 * every error the gateway answers are built here (tg_error_body and its
 * text/structured forms), with one argument order: message, type, code, param.
 * Extra fields (llama.cpp's n_prompt_tokens and n_ctx) are added by the
 * caller to the inner object.
 */
#include <stdlib.h>
#include <string.h>

#include "policy/policy_int.h"
#include "util/buf.h"

json_t *tg_error_body(const char *message, const char *type, const char *code, const char *param) {
    json_t *inner = json_object();
    json_t *body = json_object();
    if (!inner || !body) goto fail;
    if (json_object_set_new(inner, "message", json_string(message ? message : "")) != 0 ||
        json_object_set_new(inner, "type", json_string(type && *type ? type : "invalid_request_error")) != 0 ||
        json_object_set_new(inner, "param", param && *param ? json_string(param) : json_null()) != 0 ||
        json_object_set_new(inner, "code", code && *code ? json_string(code) : json_null()) != 0)
        goto fail;
    if (json_object_set_new(body, "error", inner) != 0) {
        inner = NULL;
        goto fail;
    }
    return body;
fail:
    json_decref(inner);
    json_decref(body);
    return NULL;
}

json_t *tg_error_body_of(const tg_error *e) {
    if (!e) return NULL;
    return tg_error_body(e->msg, e->api.type, e->api.code, e->api.param);
}

char *tg_error_body_text(const char *message, const char *type, const char *code, const char *param) {
    json_t *b = tg_error_body(message, type, code, param);
    char *s = b ? tgx_json_dumps(b, JSON_COMPACT) : NULL;
    json_decref(b);
    return s;
}

tg_status tg__reject(tg_decision *d, int status, const char *code, const char *param,
                     const char *message) {
    d->action = TG_ACTION_REJECT;
    d->status = status;
    json_decref(d->request);
    d->request = NULL;
    json_decref(d->error);
    d->error = tg_error_body(message, "invalid_request_error", code, param);
    tg_error_set(&d->refusal, TG_EINVAL, "%s", message);
    tg_error_api(&d->refusal, status, "invalid_request_error", code, param);
    return d->error ? TG_OK : TG_ENOMEM;
}
