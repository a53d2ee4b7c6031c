/* gateway/oai_error.h: OpenAI-shaped error bodies. There is one builder, the
 * library's tg_error_body_text (tokgate/policy.h, src/policy/errors.c:
 * message, type, code, param); this name stays only for proxy.c's two calls
 * until the response-path rework moves them to tg_error_body_text. New code
 * calls that directly. */
#ifndef TG_GATEWAY_OAI_ERROR_H
#define TG_GATEWAY_OAI_ERROR_H

#include "tokgate/policy.h"

/* {"error":{"message","type","param","code"}} (malloc'd, NUL-terminated). */
static inline char *tg__oai_error_json(const char *message, const char *type, const char *code,
                                       const char *param) {
    return tg_error_body_text(message, type, code, param);
}

#endif
