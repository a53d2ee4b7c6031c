/*
 * cli/cli.h: the `tokgate` verbs. main.c dispatches `tokgate VERB args...` to
 * tg_cmd_VERB(argc, argv) with argv[0] the verb itself. Each verb lives in its
 * own cmd_<verb>.c, parses its flags, calls the library and prints. Exit
 * status: 0 success, 1 failure of the operation, 2 bad usage or unusable input.
 * Errors go to stderr as "tokgate VERB: message".
 */
#ifndef TG_CLI_H
#define TG_CLI_H

int tg_cmd_inspect(int argc, char **argv);
int tg_cmd_limits(int argc, char **argv);
int tg_cmd_encode(int argc, char **argv);
int tg_cmd_decode(int argc, char **argv);
int tg_cmd_count(int argc, char **argv);
int tg_cmd_render(int argc, char **argv);
int tg_cmd_check(int argc, char **argv);
int tg_cmd_serve(int argc, char **argv);
int tg_cmd_recipe(int argc, char **argv);

/* 1 when argv holds -h or --help (each verb calls it before parsing). */
int tg_cli_wants_help(int argc, char **argv);

#endif
