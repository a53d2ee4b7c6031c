/* gateway/oai_error.c: error bodies in the OpenAI shape every SDK parses:
 *   {"error":{"message":"...","type":"invalid_request_error","param":null,"code":"..."}} */
#include <jansson.h>
#include <stdlib.h>

#include "gateway/oai_error.h"

char *tg__oai_error_json(const char *message, const char *type, const char *code, const char *param) {
    json_t *e = json_pack("{s:{s:s,s:s,s:o,s:o}}", "error", "message", message, "type", type ? type : "invalid_request_error",
                          "param", param ? json_string(param) : json_null(), "code",
                          code ? json_string(code) : json_null());
    if (!e) return NULL;
    char *s = json_dumps(e, JSON_COMPACT);
    json_decref(e);
    return s;
}
