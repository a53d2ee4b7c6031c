/* cli/runner.h: installs the pthread tg_runner (runner.c). */
#ifndef TG_CLI_RUNNER_H
#define TG_CLI_RUNNER_H

#include "tokgate/runner.h"

void tg_cli_runner_install(void);

#endif
