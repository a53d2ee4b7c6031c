/* main.c: `tokgate VERB ...` dispatch and top-level help; the verbs are in
 * cmd_<verb>.c (see cli.h). `--version` is answered here for every verb
 * (`tokgate --version`, `tokgate serve --version`), before the verb parses
 * its flags, so no verb can take it for a flag that needs a value. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/runner.h"

static const struct verb {
    const char *name;
    int (*fn)(int, char **);
    const char *summary;
} verbs[] = {
    {"inspect", tg_cmd_inspect, "describe a GGUF file or HF model directory/config.json"},
    {"limits", tg_cmd_limits, "derive {context, input, output} from architecture and VRAM"},
    {"encode", tg_cmd_encode, "tokenize stdin with a model's tokenizer"},
    {"decode", tg_cmd_decode, "turn token ids from stdin back into text"},
    {"count", tg_cmd_count, "count the tokens of stdin (or of a chat request)"},
    {"render", tg_cmd_render, "render a chat request with the model's chat template"},
    {"check", tg_cmd_check, "apply the request budget policy to a request"},
    {"serve", tg_cmd_serve, "run the token gateway in front of an inference server"},
    {"recipe", tg_cmd_recipe, "print an engine's launch line with the derived context"},
};

#define TG_VERSION_LINE "tokgate " TG_VERSION "\n"

/* 1 when argv holds --version before any "--" (a flag's value that happens
 * to be "--version" counts too: no verb takes that as a value). */
static int wants_version(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "--version") == 0) return 1;
    }
    return 0;
}

int tg_cli_wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) break;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    }
    return 0;
}

static void usage(FILE *out) {
    fprintf(out, "usage: tokgate VERB [options]   (tokgate VERB --help for each)\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        fprintf(out, "  %-8s %s\n", verbs[i].name, verbs[i].summary);
}

int main(int argc, char **argv) {
    tg_cli_runner_install(); /* the library may decode beside the caller (tokgate/runner.h) */
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf(TG_VERSION_LINE);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++) {
        if (strcmp(argv[1], verbs[i].name) != 0) continue;
        if (wants_version(argc - 1, argv + 1)) {
            printf(TG_VERSION_LINE);
            return 0;
        }
        return verbs[i].fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "tokgate: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
