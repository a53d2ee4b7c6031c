/* cmd_serve.c: `tokgate serve`, the token gateway daemon (src/gateway/,
 * docs/gateway.md), reached through its one header, gateway/daemon.h. */
#include <stdio.h>

#include "cli/cli.h"
#include "gateway/daemon.h"

int tg_cmd_serve(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        fputs(tg_daemon_usage(), stdout);
        return 0;
    }
    return tg_daemon_run(argc, argv);
}
