/* util/runner.h: the library's side of tokgate/runner.h. A job offered with
 * tgx_run_beside either starts beside the caller (a handle comes back; join
 * it with tgx_run_join before using its result) or is declined (NULL): the
 * caller then runs it inline. */
#ifndef TG_UTIL_RUNNER_H
#define TG_UTIL_RUNNER_H

#include "tokgate/runner.h"

void *tgx_run_beside(void (*fn)(void *), void *arg);
void tgx_run_join(void *handle);

#endif
