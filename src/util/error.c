/* error.c: tg_error_set/tg_error_api/tg_error_wrap, the library's single error
 * convention (see include/tokgate/error.h). */
#include "tokgate/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The name in parentheses: not the analyzer's macro of the same name (error.h). */
tg_status (tg_error_set)(tg_error *err, tg_status code, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        err->code = code;
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        memset(&err->api, 0, sizeof err->api);
    }
    return code;
}

tg_status tg_error_api(tg_error *err, int status, const char *type, const char *code,
                       const char *param) {
    if (!err) return TG_EINVAL;
    err->api.status = status;
    snprintf(err->api.type, sizeof err->api.type, "%s", type ? type : "invalid_request_error");
    snprintf(err->api.code, sizeof err->api.code, "%s", code ? code : "");
    snprintf(err->api.param, sizeof err->api.param, "%s", param ? param : "");
    return err->code;
}

tg_status tg_error_wrap(tg_error *err, const char *fmt, ...) {
    if (!err) return TG_EINVAL;
    char prefix[TG_ERROR_MSG_MAX];
    char old[TG_ERROR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    old[sizeof old - 1] = '\0';
    /* Truncation of an over-long message is acceptable; say so to the compiler. */
    size_t pl = strnlen(prefix, sizeof err->msg - 3);
    memcpy(err->msg, prefix, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t room = sizeof err->msg - pl - 3;
    size_t ol = strnlen(old, room);
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = '\0';
    return err->code;
}

const char *tg_status_str(tg_status code) {
    switch (code) {
    case TG_OK: return "ok";
    case TG_EINVAL: return "invalid input";
    case TG_ENOMEM: return "out of memory";
    case TG_EIO: return "i/o error";
    case TG_ECORRUPT: return "corrupt data";
    case TG_ELIMIT: return "limit exceeded";
    case TG_EUNSUPPORTED: return "unsupported";
    case TG_ENOTFOUND: return "not found";
    }
    return "unknown error";
}
