/*
 * gateway/filters/assemble.h: one chat.completion from a stream of
 * chat.completion.chunk events.
 *
 * A non-streaming chat request whose answer may continue in place (cont.h:
 * escalation by continuation, the thinking-budget cut) is sent upstream as
 * a stream, because only a stream can be read and cut while it runs. The
 * client asked for one JSON answer, so the chunks tokgate would have
 * relayed are folded here into the object the server would have sent
 * without `stream`: choices[0].message {role, content, reasoning_content
 * when there was reasoning}, finish_reason, and the chunks' id, created,
 * model, system_fingerprint and usage. Tool calls never reach here (such
 * requests are not continued).
 */
#ifndef TG_GATEWAY_FILTERS_ASSEMBLE_H
#define TG_GATEWAY_FILTERS_ASSEMBLE_H

#include <jansson.h>
#include <stddef.h>

#include "gateway/filters/filter.h"
#include "util/buf.h"

typedef struct tg__assembler {
    tgx_buf pending;   /* an event not complete yet */
    tgx_buf content, reasoning;
    json_t *ident;     /* id, created, model, system_fingerprint */
    json_t *usage;
    char finish[32];
    int saw_error;     /* an error event arrived */
    json_t *error;     /* its object */
} tg__assembler;

void tg__asm_init(tg__assembler *a);
void tg__asm_free(tg__assembler *a);
/* SSE bytes, split anywhere. */
void tg__asm_feed(tg__assembler *a, const char *p, size_t n);
/* The chat.completion (malloc'd JSON), or NULL on allocation failure. */
char *tg__asm_result(tg__assembler *a, size_t *len);

/* The filter: takes the stream, passes nothing on until its end, then the
 * chat.completion as one piece (or, when only an error event came, that
 * error's {"error": ...} body; tg__asm_filter_only_error says so). NULL on
 * allocation failure. */
tg__filter *tg__asm_filter_new(void);
int tg__asm_filter_only_error(const tg__filter *f);

#endif
