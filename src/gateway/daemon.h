/*
 * gateway/daemon.h: the daemon's whole face to the program that runs it.
 *
 * The daemon (src/gateway/, built as its own library, tokgate_daemon) is
 * where tokgate's event loop, sockets and threads live; libtokgate has none.
 * `tokgate serve` (cli/cmd_serve.c) includes this header and nothing else of
 * the daemon's.
 */
#ifndef TG_GATEWAY_DAEMON_H
#define TG_GATEWAY_DAEMON_H

/* Runs the gateway with `tokgate serve` arguments (argv[0] is "serve") until
 * it is told to stop (SIGTERM/SIGINT: drain, then return). Returns the
 * process exit status: 0 after a clean drain, 2 for unusable flags or
 * config, 1 when it could not start (the reason is logged). */
int tg_daemon_run(int argc, char **argv);
/* The help text of `tokgate serve`. */
const char *tg_daemon_usage(void);

#endif
