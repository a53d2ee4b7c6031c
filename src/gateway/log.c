/*
 * gateway/log.c: log lines, the access line and the monotonic clocks (log.h).
 *
 * Text lines:   2026-01-02T03:04:05Z tokgate info: MESSAGE
 * JSON lines:   {"ts":"2026-01-02T03:04:05Z","level":"info","msg":"MESSAGE"}
 * Access lines: ... tokgate access: id=ID method=POST path=/v1/chat/completions
 *               model=M upstream=H:P prompt_tokens=N prompt_exact=true
 *               count_source=tokenizer|engine|estimate|engine_failed
 *               max_tokens=N max_tokens_source=request decision=forward
 *               status=200 error=- upstream_s=0.412 total_s=0.415 end=ok
 *               (JSON: the same keys in one object, "level":"access",
 *               numbers as numbers, unknown values null). Every value in a
 *               text access line is free of spaces (tg__access_set), so
 *               key=value splits on blanks.
 * Rate-limited lines (tg__log_limited): a storm of one error (accept at the
 *               fd limit) writes its first line, then one line per window
 *               with the count left out.
 */
#include "gateway/log.h"
#include "util/buf.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int log_quiet;
static int log_format;

/* The access lines' target (tg__log_access_open): fd 2, a file of ours, or
 * -1 (off); with a buffer, lines collect in abuf up to acap bytes. */
static int access_fd = 2;
static char *abuf;
static size_t acap, alen;

static void write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return; /* a full disk or a closed stderr: the line is lost, the daemon serves on */
        p += w;
        n -= (size_t)w;
    }
}

void tg__log_access_flush(void) {
    if (alen && access_fd >= 0) write_all(access_fd, abuf, alen);
    alen = 0;
}

static void access_out(const char *p, size_t n) {
    if (access_fd < 0) return;
    if (!acap) {
        write_all(access_fd, p, n);
        return;
    }
    if (alen + n > acap) tg__log_access_flush();
    if (n > acap) {
        write_all(access_fd, p, n);
        return;
    }
    memcpy(abuf + alen, p, n);
    alen += n;
}

int tg__log_access_on(void) { return access_fd >= 0; }

void tg__log_access_close(void) {
    tg__log_access_flush();
    if (access_fd > 2) close(access_fd);
    access_fd = 2;
    free(abuf);
    abuf = NULL;
    acap = 0;
}

int tg__log_access_open(const char *path, size_t buffer, char *err, size_t errcap) {
    int fd = 2;
    if (path && !strcmp(path, "off")) fd = -1;
    else if (path && *path && strcmp(path, "stderr") != 0) {
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errcap, "access_log: cannot open %s: %s", path, strerror(errno));
            return -1;
        }
    }
    char *nb = buffer ? malloc(buffer) : NULL;
    if (buffer && !nb) {
        if (fd > 2) close(fd);
        snprintf(err, errcap, "access_log_buffer: out of memory for %zu bytes", buffer);
        return -1;
    }
    tg__log_access_close();
    access_fd = fd;
    abuf = nb;
    acap = buffer;
    return 0;
}

void tg__log_set_quiet(int quiet) { log_quiet = quiet; }
void tg__log_set_format(int format) { log_format = format; }

int tg__log_parse_format(const char *s) {
    if (s && !strcmp(s, "text")) return TG__LOG_TEXT;
    if (s && !strcmp(s, "json")) return TG__LOG_JSON;
    return -1;
}

double tg__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double tg__now_due(void) {
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void stamp(char *ts, size_t cap) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* One JSON object as one line; the object is consumed. */
static void put_json(json_t *o) {
    char *txt = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (txt) fprintf(stderr, "%s\n", txt);
    free(txt);
}

void tg__log(tg__server *s, int level, const char *fmt, ...) {
    (void)s;
    if (level == TG__LOG_INFO && log_quiet) return;
    char ts[32];
    stamp(ts, sizeof ts);
    static const char *const names[] = {"error", "warn", "info"};
    va_list ap;
    va_start(ap, fmt);
    if (log_format == TG__LOG_JSON) {
        char msg[2048];
        vsnprintf(msg, sizeof msg, fmt, ap);
        put_json(json_pack("{s:s,s:s,s:s}", "ts", ts, "level", names[level], "msg", msg));
    } else {
        fprintf(stderr, "%s tokgate %s: ", ts, names[level]);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
    }
    va_end(ap);
}

void tg__log_limited(tg__server *s, tg__log_limit *l, int level, const char *fmt, ...) {
    char msg[sizeof l->last];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    double now = tg__now(), window = l->window > 0 ? l->window : 10;
    if (l->t0 > 0 && !strcmp(msg, l->last)) {
        if (now - l->t0 < window) {
            l->suppressed++;
            return;
        }
        if (l->suppressed)
            tg__log(s, level, "%s (%lu more in the last %.0f s)", msg, l->suppressed, now - l->t0);
        else
            tg__log(s, level, "%s", msg);
    } else {
        tg__log_limit_flush(s, l, level);
        tg__log(s, level, "%s", msg);
        memcpy(l->last, msg, sizeof l->last);
    }
    l->t0 = now;
    l->suppressed = 0;
}

void tg__log_limit_flush(tg__server *s, tg__log_limit *l, int level) {
    if (l->suppressed)
        tg__log(s, level, "%s (%lu more in the last %.0f s)", l->last, l->suppressed, tg__now() - l->t0);
    l->suppressed = 0;
    l->t0 = 0;
    l->last[0] = '\0';
}

/* 1 when all 8 bytes of w are printable ASCII without the space (0x21-0x7e):
 * no byte below 0x21 (the high bit of (b - 0x21) & ~b) and none above 0x7e
 * (the high bit of (b + 1) | b). A word that fails goes byte by byte. */
static int word_printable(uint64_t w) {
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    uint64_t below = (w - ones * 0x21u) & ~w & highs;
    uint64_t above = ((w & ~highs) + ones) | w; /* b + 1 per byte without carries, or b's own high bit */
    return !below && !(above & highs);
}

/* The first K (1..7) bytes at P as a word whose other bytes are 'A' (a
 * printable stand-in for word_printable), loaded 4, 2, 1 bytes at a time. */
static uint64_t short_word(const char *p, size_t k) {
    uint64_t w = 0x4141414141414141u;
    size_t i = 0;
    if (k & 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        memcpy(&w, &v, 4); /* byte order kept: the word is only tested, never shifted */
        i = 4;
    }
    if (k & 2) {
        memcpy((char *)&w + i, p + i, 2);
        i += 2;
    }
    if (k & 1) memcpy((char *)&w + i, p + i, 1);
    return w;
}

/* A value that fits whole (LEN < CAP) and is all printable: copied with
 * word loads (the last word overlapping the one before, or one short word),
 * where the byte loop cost ~7 instructions a byte (issue 17: 4-5 calls per
 * request). 0: not all printable; the byte loop then writes DST anew. */
static int access_copy_printable(char *dst, const char *src, size_t len) {
    if (len < 8) {
        if (!word_printable(short_word(src, len))) return 0;
        size_t i = 0;
        if (len & 4) {
            memcpy(dst, src, 4);
            i = 4;
        }
        if (len & 2) {
            memcpy(dst + i, src + i, 2);
            i += 2;
        }
        if (len & 1) dst[i] = src[i];
        dst[len] = '\0';
        return 1;
    }
    uint64_t w;
    for (size_t n = 0; n + 8 <= len; n += 8) { /* (what is written before a failed word, the byte loop writes again) */
        memcpy(&w, src + n, 8);
        if (!word_printable(w)) return 0;
        memcpy(dst + n, &w, 8);
    }
    memcpy(&w, src + len - 8, 8);
    if (!word_printable(w)) return 0;
    memcpy(dst + len - 8, &w, 8);
    dst[len] = '\0';
    return 1;
}

/* The byte rule (0x21-0x7e kept, anything else '?', cut to CAP - 1), out of
 * line: tg__access_set's common case saves no registers for it. */
static __attribute__((noinline)) void access_set_bytes(char *dst, size_t cap, const char *src, size_t len) {
    size_t n = 0;
    if (src) /* printable runs 8 bytes at a time */
        while (n + 8 <= len && n + 8 < cap) {
            uint64_t w;
            memcpy(&w, src + n, 8);
            if (!word_printable(w)) break;
            memcpy(dst + n, &w, 8);
            n += 8;
        }
    for (size_t i = n; src && i < len && n + 1 < cap; i++) {
        unsigned char ch = (unsigned char)src[i];
        dst[n++] = ch > 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    dst[n] = '\0';
}

void tg__access_set(char *dst, size_t cap, const char *src, size_t len) {
    if (cap == 0) return;
    if (src && len < cap && access_copy_printable(dst, src, len)) return;
    access_set_bytes(dst, cap, src, len);
}

static const char *or_dash(const char *v) { return v && *v ? v : "-"; }

static json_t *str_or_null(const char *v) { return v && *v ? json_string(v) : json_null(); }

static void access_json(const tg__access *a, const char *ts, const char *end, double up, double total) {
    json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o}", "ts", ts, "level", "access", "id", str_or_null(a->id),
                          "method", str_or_null(a->method), "path", str_or_null(a->path), "model",
                          str_or_null(a->model), "upstream", str_or_null(a->upstream));
    if (!o) return;
    json_object_set_new(o, "prompt_tokens", a->have_budget ? json_integer((json_int_t)a->prompt_tokens) : json_null());
    json_object_set_new(o, "prompt_exact", a->have_budget ? json_boolean(a->prompt_exact) : json_null());
    json_object_set_new(o, "count_source", str_or_null(a->have_budget ? a->count_source : NULL));
    json_object_set_new(o, "max_tokens", a->have_budget && a->max_tokens ? json_integer((json_int_t)a->max_tokens)
                                                                         : json_null());
    json_object_set_new(o, "max_tokens_source", str_or_null(a->max_tokens_source));
    json_object_set_new(o, "decision", str_or_null(a->decision));
    json_object_set_new(o, "status", a->status ? json_integer(a->status) : json_null());
    json_object_set_new(o, "error", str_or_null(a->error));
    json_object_set_new(o, "upstream_s", a->t_upstream > 0 ? json_real(up) : json_null());
    json_object_set_new(o, "total_s", json_real(total));
    json_object_set_new(o, "end", json_string(end));
    char *txt = tgx_json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt) return;
    size_t n = strlen(txt);
    txt[n] = '\n'; /* over the NUL: tgx_json_dumps leaves room for it (util/buf.h) */
    access_out(txt, n + 1);
    free(txt);
}

/* The access line is built by hand into one buffer and written with one
 * call: it is written once per request, and printf's formatting of twenty
 * fields cost more than the rest of a small request's relay. */
typedef struct line {
    char b[1024];
    size_t n;
} line;

static void put(line *l, const char *s) {
    size_t k = strlen(s);
    if (k > sizeof l->b - 1 - l->n) k = sizeof l->b - 1 - l->n;
    memcpy(l->b + l->n, s, k);
    l->n += k;
}

static void put_u64(line *l, uint64_t v) {
    char d[24];
    size_t i = sizeof d;
    d[--i] = '\0';
    do {
        d[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(l, d + i);
}

/* v seconds as printf's "%.3f" for a duration (0 <= v < 2^53 ms) */
static void put_ms(line *l, double v) {
    if (!(v >= 0) || v > 9e15) { /* not a duration: printf's own words */
        char t[64];
        snprintf(t, sizeof t, "%.3f", v);
        put(l, t);
        return;
    }
    char t[8];
    uint64_t ms = (uint64_t)llround(v * 1000);
    put_u64(l, ms / 1000);
    t[0] = '.';
    t[1] = (char)('0' + ms / 100 % 10);
    t[2] = (char)('0' + ms / 10 % 10);
    t[3] = (char)('0' + ms % 10);
    t[4] = '\0';
    put(l, t);
}

static void put_kv(line *l, const char *key, const char *v) {
    put(l, key);
    put(l, or_dash(v));
}

/* The timestamp, formatted once a second (the loop's thread writes access lines). */
static void access_stamp(char ts[32]) {
    static _Thread_local time_t last = (time_t)-1;
    static _Thread_local char cached[32];
    time_t now = time(NULL);
    if (now != last) {
        stamp(cached, sizeof cached);
        last = now;
    }
    memcpy(ts, cached, 32);
}

void tg__log_access(const tg__access *a, const char *end) {
    if (access_fd < 0) return; /* access_log off */
    char ts[32];
    access_stamp(ts);
    double now = tg__now();
    double up = a->t_upstream > 0 ? now - a->t_upstream : 0, total = a->t_start > 0 ? now - a->t_start : 0;
    if (log_format == TG__LOG_JSON) {
        access_json(a, ts, end, up, total);
        return;
    }
    line l;
    l.n = 0;
    put(&l, ts);
    put_kv(&l, " tokgate access: id=", a->id);
    put_kv(&l, " method=", a->method);
    put_kv(&l, " path=", a->path);
    put_kv(&l, " model=", a->model);
    put_kv(&l, " upstream=", a->upstream);
    put(&l, " prompt_tokens=");
    if (a->have_budget) put_u64(&l, a->prompt_tokens);
    else put(&l, "-");
    put(&l, " prompt_exact=");
    put(&l, a->have_budget ? (a->prompt_exact ? "true" : "false") : "-");
    put_kv(&l, " count_source=", a->have_budget ? a->count_source : NULL);
    put(&l, " max_tokens=");
    if (a->have_budget && a->max_tokens) put_u64(&l, a->max_tokens);
    else put(&l, "-");
    put_kv(&l, " max_tokens_source=", a->max_tokens_source);
    put_kv(&l, " decision=", a->decision);
    put(&l, " status=");
    if (a->status < 0) put(&l, "-");
    put_u64(&l, (uint64_t)(a->status < 0 ? -(int64_t)a->status : a->status));
    put_kv(&l, " error=", a->error);
    put(&l, " upstream_s=");
    if (a->t_upstream > 0) put_ms(&l, up);
    else put(&l, "-");
    put(&l, " total_s=");
    put_ms(&l, total);
    put(&l, " end=");
    put(&l, end);
    l.b[l.n++] = '\n';
    access_out(l.b, l.n);
}
