/* gateway/log.h: the daemon's log lines (stderr, one line each, UTC time,
 * level; as text or as one JSON object per line, --log-format), the access
 * line each request leaves, and the monotonic clocks. Log lines never carry
 * prompt text. A leaf: it calls nothing of the daemon. */
#ifndef TG_GATEWAY_LOG_H
#define TG_GATEWAY_LOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct tg__server tg__server;

enum { TG__LOG_ERROR, TG__LOG_WARN, TG__LOG_INFO };
enum { TG__LOG_TEXT, TG__LOG_JSON }; /* log_format */
void tg__log(tg__server *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Info lines off (--quiet); set on the loop thread at start and reload.
 * Access lines are written even then. */
void tg__log_set_quiet(int quiet);
void tg__log_set_format(int format);
int tg__log_access_on(void); /* 1 while access lines are written (not --access-log off) */
int tg__log_parse_format(const char *s); /* "text" 0, "json" 1, else -1 */
double tg__now(void); /* monotonic seconds */
/* The clock of due times: monotonic seconds as of the kernel's last tick
 * (CLOCK_MONOTONIC_COARSE: ~4 ns to read, no TSC read, where tg__now()'s
 * vDSO read with kvm-clock costs ~25-30 ns more; issue 17), up to one tick
 * (1-4 ms) behind tg__now(). The timer wheel runs on it, so every timeout armed with
 * it and every check of one against it must use it too; durations that are
 * reported (metrics, access lines) use tg__now(). */
double tg__now_due(void);

/* Repeated identical lines, rate-limited: the first is written; the same
 * text again within `window` seconds of it is only counted; the next one
 * written (the same text after the window, or tg__log_limit_flush) says
 * how many were left out: "MSG (N more in the last S s)". Loop thread. */
typedef struct tg__log_limit {
    double window; /* seconds (0: 10) */
    double t0;     /* when the last line was written */
    unsigned long suppressed;
    char last[512];
} tg__log_limit;
void tg__log_limited(tg__server *s, tg__log_limit *l, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Writes the count left out since the last line, if any, and forgets the text. */
void tg__log_limit_flush(tg__server *s, tg__log_limit *l, int level);

/* What one request's access line says. client.c owns it (one per request,
 * reset when a request head arrives) and writes the line when the response
 * ends or the client leaves; the layers above fill what they know through
 * the client struct. Strings are copied in (tg__access_set), static ones
 * pointed at. */
#define TG__REQUEST_ID_MAX 128
typedef struct tg__access {
    char id[TG__REQUEST_ID_MAX + 1]; /* x-request-id: the client's (validated) or generated */
    char method[16];
    char path[128];               /* the target without its query */
    char model[96];               /* as the client named it, or the served name */
    char upstream[96];            /* host:port the request went to */
    char error[64];               /* the error code answered, or "" */
    const char *decision;         /* static: local, passthrough, forward, clamp, truncate, summarize, reject,
                                     escalated, error; NULL: "-" */
    const char *max_tokens_source; /* static (tg_max_tokens_source_name), or NULL */
    uint64_t prompt_tokens, max_tokens;
    int have_budget;              /* prompt_tokens, prompt_exact and max_tokens are set */
    int prompt_exact;
    int status;                   /* what the client was sent (0: nothing) */
    double t_start;               /* the head arrived */
    double t_upstream;            /* handed to the upstream exchange; 0: never */
    const char *count_source;     /* static: how prompt_tokens was counted: tokenizer, engine,
                                     estimate, engine_failed (the engine was asked and gave no count:
                                     estimated); NULL: "-" (issue 19) */
} tg__access;

/* Copies src into dst (cap bytes), each byte outside visible ASCII as '?'. */
void tg__access_set(char *dst, size_t cap, const char *src, size_t len);
/* Writes the access line; `end` says how the response ended (ok, truncated,
 * client_gone). */
void tg__log_access(const tg__access *a, const char *end);
/* Where access lines go (access_log, access_log_buffer): PATH NULL or
 * "stderr" for stderr, "off" for nowhere, else a file opened to append (and
 * opened again on each call: a reload reopens it, for log rotation). BUFFER
 * bytes of lines are held for one write (0: a write per line); held lines
 * are written when the next would not fit, by tg__log_access_flush (the
 * loop calls it each second and at exit) and before a new target. 0, or -1
 * with why in ERR (the old target is kept). Loop thread. */
int tg__log_access_open(const char *path, size_t buffer, char *err, size_t errcap);
void tg__log_access_flush(void);
void tg__log_access_close(void); /* flushed, the file closed, back to stderr unbuffered */

#endif
