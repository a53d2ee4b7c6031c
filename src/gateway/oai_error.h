/* gateway/oai_error.h: OpenAI-shaped error bodies (oai_error.c). */
#ifndef TG_GATEWAY_OAI_ERROR_H
#define TG_GATEWAY_OAI_ERROR_H

/* {"error":{"message","type","param","code"}} (malloc'd, NUL-terminated). */
char *tg__oai_error_json(const char *message, const char *type, const char *code, const char *param);

#endif
