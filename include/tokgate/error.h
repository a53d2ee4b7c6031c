/*
 * tokgate/error.h: the one error convention of libtokgate.
 *
 * Every fallible function returns a tg_status: TG_OK (0) on success, a negative
 * code otherwise. It also fills a caller-owned tg_error (which may be NULL) with
 * a human message that names what was wrong and, where a limit broke, the limit
 * and the number that broke it ("metadata key count 9999999999 at offset 16
 * exceeds the 1048576 limit"). Output parameters are untouched on failure
 * unless a function says otherwise. The library never prints and never exits.
 *
 * An error a client caused (a request tokgate refuses) also carries the facts
 * an OpenAI-compatible API answers with, in tg_error.api: the HTTP status,
 * the error `type`, `code` and `param` ({"error": {"message", "type",
 * "param", "code"}}, the shape every OpenAI SDK parses). Callers branch on
 * these, never on the message text. They are fixed-size copies, so a
 * tg_error stays caller-owned and allocation-free. tg_error_set clears them;
 * tg_error_api sets them; tg_error_wrap keeps them.
 */
#ifndef TOKGATE_ERROR_H
#define TOKGATE_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TG_API __attribute__((visibility("default")))
#define TG_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define TG_API
#define TG_PRINTF(f, a)
#endif

typedef enum tg_status {
    TG_OK = 0,
    TG_EINVAL = -1,       /* bad argument or bad input text */
    TG_ENOMEM = -2,       /* allocation failed */
    TG_EIO = -3,          /* a file could not be opened or read */
    TG_ECORRUPT = -4,     /* malformed binary or JSON data */
    TG_ELIMIT = -5,       /* a size, count or depth above a limit */
    TG_EUNSUPPORTED = -6, /* well-formed but a feature tokgate does not do */
    TG_ENOTFOUND = -7     /* a named thing (key, model, file) is absent */
} tg_status;

#define TG_ERROR_MSG_MAX 512

/* OpenAI's error facts; "" (status 0) when not set. */
typedef struct tg_api_error {
    int status;      /* HTTP status: 400, 404, 413, ... */
    char type[32];   /* "invalid_request_error", "server_error" */
    char code[48];   /* "invalid_json", "missing_required_parameter", "invalid_type",
                        "invalid_value", "context_length_exceeded", ... */
    char param[64];  /* the request field at fault: "messages", "prompt", "max_tokens" */
} tg_api_error;

typedef struct tg_error {
    tg_status code;
    char msg[TG_ERROR_MSG_MAX];
    tg_api_error api;
} tg_error;

/* Sets *err (when not NULL) and returns code, so `return tg_error_set(...)`.
 * Clears err->api. */
TG_API tg_status tg_error_set(tg_error *err, tg_status code, const char *fmt, ...) TG_PRINTF(3, 4);
#ifdef __clang_analyzer__
/* The static analyzer does not see into tg_error_set from other files; this
 * tells it that the code comes back, so `if ((st = f())) return st;` after
 * `return tg_error_set(err, TG_ENOMEM, ...)` is not taken as success. */
#define tg_error_set(err, code, ...) ((void)tg_error_set((err), (code), __VA_ARGS__), (tg_status)(code))
#endif

/* Sets err->api (when err is not NULL; TYPE NULL: "invalid_request_error",
 * CODE or PARAM NULL: "") and returns err->code (TG_EINVAL when err is NULL),
 * so `tg_error_set(err, ...); return tg_error_api(err, 400, ...)`. Longer
 * strings are cut to their field. */
TG_API tg_status tg_error_api(tg_error *err, int status, const char *type, const char *code,
                              const char *param);

/* Prefixes the existing message with context ("tokenizer.json: ..."). */
TG_API tg_status tg_error_wrap(tg_error *err, const char *fmt, ...) TG_PRINTF(2, 3);

/* A static name for a status code ("corrupt data"). */
TG_API const char *tg_status_str(tg_status code);

#ifdef __cplusplus
}
#endif
#endif
