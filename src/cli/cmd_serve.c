/* cmd_serve.c: `tokgate serve`, the token gateway daemon (src/gateway/,
 * docs/gateway.md). Flags and the config file are parsed by gateway/config.c
 * so that a reload (SIGHUP) rereads both the same way; the help text is
 * generated from the same option tables (gateway/options.h). */
#include <stdio.h>

#include "cli/cli.h"
#include "gateway/gateway.h"
#include "gateway/options.h"

int tg_cmd_serve(int argc, char **argv) {
    if (tg_cli_wants_help(argc, argv)) {
        tgx_buf b;
        tgx_buf_init(&b, 1u << 20);
        tg_status st = tg__serve_usage(&b);
        if (st == TG_OK && b.data) fputs(b.data, stdout);
        tgx_buf_free(&b);
        return st == TG_OK ? 0 : 1;
    }
    return tg__server_run(argc, argv);
}
