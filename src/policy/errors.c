/*
 * errors.c: OpenAI-shaped error bodies, the form every OpenAI SDK, LiteLLM and
 * coding agent parses:
 *
 *   {"error": {"message": "...", "type": "invalid_request_error",
 *              "param": "messages", "code": "context_length_exceeded"}}
 *
 * The openai npm/python clients map HTTP 400 to BadRequestError and lift
 * `code`, `param` and `type` from the inner object, so a refusal built here is
 * recognised exactly like one from api.openai.com. Extra fields (llama.cpp's
 * n_prompt_tokens and n_ctx) are added by the caller of tg__error_body.
 */
#include "policy/policy_int.h"

json_t *tg__error_body(const char *message, const char *type, const char *param, const char *code) {
    json_t *inner = json_object();
    json_t *body = json_object();
    if (!inner || !body) goto fail;
    if (json_object_set_new(inner, "message", json_string(message)) != 0 ||
        json_object_set_new(inner, "type", json_string(type)) != 0 ||
        json_object_set_new(inner, "param", param ? json_string(param) : json_null()) != 0 ||
        json_object_set_new(inner, "code", code ? json_string(code) : json_null()) != 0)
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

tg_status tg__reject(tg_decision *d, int status, json_t *body) {
    d->action = TG_ACTION_REJECT;
    d->status = status;
    json_decref(d->request);
    d->request = NULL;
    json_decref(d->error);
    d->error = body;
    return body ? TG_OK : TG_ENOMEM;
}
