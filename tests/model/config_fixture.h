/*
 * config_fixture.h: loads a model profile from the published HF configs in
 * tests/data/configs for the tests that need one (tests/model/test_model.c,
 * tests/limits/test_limits.c).
 *
 * Header-only (static inline): tests/<layer>/test_*.c are each one ctest, so
 * shared test code lives in headers, not in test_*.c files.
 */
#ifndef TG_TESTS_CONFIG_FIXTURE_H
#define TG_TESTS_CONFIG_FIXTURE_H

#include <stdio.h>

#include "tg_test.h"
#include "tokgate/model.h"

/*
 * Load tests/data/configs/<model> (a directory or file under it) into *p.
 * Returns 1 on success; on failure prints the error and returns 0.
 */
static inline int tgt_load_config(const char *model, tg_model_profile *p) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/data/configs/%s", model);
    tg_error err = {0};
    tg_status st = tg_model_load(tg_source(rel), p, &err);
    if (st != TG_OK) fprintf(stderr, "load %s: %s\n", rel, err.msg);
    return st == TG_OK;
}

#endif
