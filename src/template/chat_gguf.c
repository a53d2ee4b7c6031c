/*
 * template/chat_gguf.c: chat templates from a GGUF file's metadata.
 *
 * tokenizer.chat_template is the default template; tokenizer.chat_template.<name>
 * are named ones (llama.cpp writes "tool_use" this way). The special tokens are
 * the vocabulary entries tokenizer.ggml.tokens[tokenizer.ggml.bos_token_id] and
 * [eos_token_id] ("" when absent), as llama-server puts them in the context.
 * Until the GGUF reader lands (branch gguf), a GGUF path is refused.
 */
#include <stdio.h>
#include <string.h>

#include "template/chat.h"

int tg__chat_is_gguf(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char magic[4];
    size_t n = fread(magic, 1, 4, f);
    fclose(f);
    return n == 4 && memcmp(magic, "GGUF", 4) == 0;
}

tg_status tg__chat_from_gguf(const char *path, tg_chat **out, tg_error *err) {
    (void)out;
    return tg_error_set(err, TG_EUNSUPPORTED, "%s: reading chat templates from GGUF needs the GGUF reader (not built in)", path);
}
