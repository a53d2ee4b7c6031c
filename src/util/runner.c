/* util/runner.c: the installed tg_runner (tokgate/runner.h) and the two
 * calls the library makes through it. */
#include "util/runner.h"

#include <stddef.h>

static tg_runner installed;
static int have_runner;

void tg_runner_set(const tg_runner *r) {
    if (r && r->start && r->join) {
        installed = *r;
        have_runner = 1;
    } else {
        have_runner = 0;
    }
}

void *tgx_run_beside(void (*fn)(void *), void *arg) {
    if (!have_runner) return NULL;
    return installed.start(fn, arg, installed.user);
}

void tgx_run_join(void *handle) {
    if (handle && have_runner) installed.join(handle, installed.user);
}
