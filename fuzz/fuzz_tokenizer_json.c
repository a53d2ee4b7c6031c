/*
 * fuzz_tokenizer_json.c: the tokenizer.json loader over arbitrary bytes.
 *
 * Invariants: loading never crashes or leaks; it either fails with a message
 * or yields a tokenizer whose encode of a fixed text succeeds (the text is
 * valid UTF-8), whose ids are all below vocab_size and decode without error,
 * and whose streaming decode equals the full decode. Seeds: small valid
 * tokenizer.json files of each supported kind (fuzz/corpus/fuzz_tokenizer_json).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/tokenizer.h"
#include "tokenizer_invariants.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    tg_tokenizer *t = NULL;
    tg_error err;
    if (tg_tokenizer_load_buffer((const char *)data, size, NULL, 0, &t, &err) != TG_OK) {
        if (err.msg[0] == '\0') abort(); /* a failure always says why */
        return 0;
    }
    static const char text[] = "Hello  world! it's 12345 <|x|> caf\xC3\xA9\n\n\t\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x91\x8D";
    tgf_check_tokenizer(t, text, sizeof text - 1);
    tg_tokenizer_free(t);
    return 0;
}
