/* cmd_serve.c: `tokgate serve`, the token gateway daemon (src/gateway/,
 * docs/gateway.md). Flags and the config file are parsed by gateway/config.c
 * so that a reload (SIGHUP) rereads both the same way. */
#include <stdio.h>

#include "cli/cli.h"
#include "gateway/config.h"
#include "gateway/gateway.h"

int tg_cmd_serve(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        fputs(tg__serve_usage, stdout);
        return 0;
    }
    return tg__server_run(argc, argv);
}
