/* gateway/log.h: the daemon's log lines (stderr, one line each, UTC time,
 * level) and its monotonic clock. Log lines never carry prompt text unless
 * the config's log_prompts says so. A leaf: it calls nothing of the daemon. */
#ifndef TG_GATEWAY_LOG_H
#define TG_GATEWAY_LOG_H

typedef struct tg__server tg__server;

enum { TG__LOG_ERROR, TG__LOG_WARN, TG__LOG_INFO };
void tg__log(tg__server *s, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Info lines off (--quiet); set on the loop thread at start and reload. */
void tg__log_set_quiet(int quiet);
double tg__now(void); /* monotonic seconds */

#endif
