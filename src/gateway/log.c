/* gateway/log.c: log lines and the monotonic clock (log.h). */
#include "gateway/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

static int log_quiet;

void tg__log_set_quiet(int quiet) { log_quiet = quiet; }

double tg__now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tg__log(tg__server *s, int level, const char *fmt, ...) {
    (void)s;
    if (level == TG__LOG_INFO && log_quiet) return;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    static const char *const names[] = {"error", "warn", "info"};
    fprintf(stderr, "%s tokgate %s: ", ts, names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}
