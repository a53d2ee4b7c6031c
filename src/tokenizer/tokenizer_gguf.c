/*
 * tokenizer_gguf.c: builds a tg_tokenizer from a GGUF file's `tokenizer.*`
 * metadata, so that it encodes as HF tokenizers does with the model's
 * tokenizer.json (the reference llama.cpp's own vectors were made with).
 *
 * The GGUF keys (llama.cpp src/llama-vocab.cpp reads the same):
 *   tokenizer.huggingface.json  when present, the whole tokenizer.json: loaded
 *                               as such, the GGUF keys below only add config
 *   tokenizer.ggml.model        "gpt2"   byte-level BPE, tokens + merges
 *                               "llama"  SentencePiece: tokens + scores; HF's
 *                                        converter turns it into a BPE whose
 *                                        merges are every split of a piece into
 *                                        two pieces, ranked by the merged
 *                                        piece's score (see spm_merges)
 *                               "gemma4" SentencePiece-style BPE with merges
 *                                        over raw UTF-8 ("▁" for spaces)
 *                               others (bert WPM, t5 UGM, rwkv, ...) are
 *                               refused with TG_EUNSUPPORTED naming them
 *   tokenizer.ggml.tokens / token_type / scores / merges
 *   tokenizer.ggml.pre          the pre-tokenizer family (table `k_pre`): the
 *                               Split regexes of that family's tokenizer.json
 *                               (HF's originals, not llama.cpp's adaptations:
 *                               HF is the reference), Digits/Punctuation steps,
 *                               then ByteLevel; plus ignore_merges where the
 *                               family's tokenizer.json has it. No normalizer
 *                               llama.cpp lacks (HF's Qwen2 NFC): a GGUF is
 *                               tokenized as llama.cpp, which runs it, does.
 *                               An unknown name is refused.
 *   tokenizer.ggml.{bos,eos,eot,eom,unknown,seperator,padding}_token_id,
 *   add_bos_token, add_eos_token, add_space_prefix, chat_template,
 *   chat_templates + chat_template.<name>
 *
 * Token types (llama.cpp's llama_token_type): 1 normal, 2 unknown, 3 control,
 * 4 user-defined, 5 unused, 6 byte. Control, unknown and user-defined tokens
 * become added tokens (control/unknown special), matched in the text as HF
 * matches added tokens.
 *
 * End-of-generation ids follow llama.cpp's collection: eos, eot and eom (from
 * the metadata, else found by name), FIM pad/repo/file-sep tokens, and every
 * token whose text is one of the known end-of-turn names (<|im_end|>,
 * <|eot_id|>, <end_of_turn>, ...), minus <|end|> when <|return|> and <|call|>
 * are present (gpt-oss harmony).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/gguf.h"
#include "tokenizer/tokenizer_gguf.h"
#include "tokenizer/tokenizer_internal.h"
#include "util/utf8.h"

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_USER = 4, TT_UNUSED = 5, TT_BYTE = 6 };

#define RE_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define RE_LLAMA3 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN2 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_QWEN35 "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_O200K "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_TEKKEN "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define RE_CJK_DS "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+"
#define RE_DS3_MAIN "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"

/* One pre-tokenizer family. steps: "R" + regex = Split(regex, Isolated);
 * "D1"/"D+" = Digits(individual_digits true/false); "P" = Punctuation
 * (Contiguous); "B" = ByteLevel with the GPT-2 regex (steps after it run on the
 * byte-level text, as in HF; pretokenizer.c). Without a
 * "B" anywhere, ByteLevel(use_regex=false) is appended. */
typedef struct pre_family {
    const char *names;        /* space-separated tokenizer.ggml.pre values */
    const char *steps[8];
    int nfc;                  /* NFC normalizer */
    int ignore_merges;
    int add_bos;              /* llama.cpp's default for add_bos_token */
} pre_family;

static const pre_family k_pre[] = {
    {" default ", {"R[\\p{P}\\$\\+<=>\\^~\\|]+", "B", NULL}, 0, 0, 0},
    {" llama3 llama-v3 llama-bpe falcon3 falcon-h1 pixtral midm-2.0 lfm2 jina-v5-nano ",
     {"R" RE_LLAMA3, NULL}, 0, 1, 1},
    {" dbrx smaug-bpe glm4 chatglm-bpe ", {"R" RE_LLAMA3, NULL}, 0, 0, 0},
    {" qwen2 deepseek-r1-qwen kormo f2llmv2 megrez stablelm2 hunyuan solar-open grok-2 ",
     {"R" RE_QWEN2, NULL}, 0, 0, 0}, /* HF's Qwen2 has NFC; llama.cpp, which runs GGUF, does not */
    {" qwen35 ", {"R" RE_QWEN35, NULL}, 0, 0, 0},
    {" deepseek-llm ",
     {"R[\r\n]",
      "R\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-\xc6\xbf\xc7\x84-\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-\xe1\xb2\xbf\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-\xe1\xb6\x9a\xe1\xb8\x80-\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-\xe1\xbd\x97\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd\xe1\xbe\x80-\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-\xe2\x84\xbf\xe2\x85\x85-\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-\xe2\xb3\xa4\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3\xea\x99\x80-\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-\xef\xac\x86\xef\xac\x93-\xef\xac\x97\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-\xef\xbd\x9a\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-\xf0\x90\x93\x93\xf0\x90\x93\x98-\xf0\x90\x93\xbb\xf0\x90\xb2\x80-\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2\xf0\x91\xa2\xa0-\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+",
      "R\\s?[!-/:-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-\xe3\x80\x82]+",
      "R\\s+$", ("R" RE_CJK_DS), "D+", NULL}, 0, 0, 0},
    {" deepseek-coder ",
     {"R[\r\n]", "R\\s?\\p{L}+", "R\\s?\\p{P}+", ("R" RE_CJK_DS), "D1", NULL}, 0, 0, 0},
    {" deepseek-v3 hunyuan-dense joyai-llm hy_v4 ",
     {"R\\p{N}{1,3}", "R[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+",
      "R" RE_DS3_MAIN, NULL}, 0, 0, 0},
    {" falcon ", {"P", "B", "D+", "R[0-9][0-9][0-9]", NULL}, 0, 0, 0}, /* HF Falcon's order */
    {" starcoder refact command-r smollm codeshell exaone minerva-7b mellum2 ",
     {"D1", "B", NULL}, 0, 0, 0},
    {" gpt-2 phi-2 jina-es jina-de gigachat jina-v2-es jina-v2-de a.x-4.0 mellum modern-bert "
     "mpt olmo jais exaone4 trillion granite-docling jina-v1-en jina-v2-code roberta-bpe ",
     {"B", NULL}, 0, 0, 0},
    {" gpt-4o llama4 kanana2 talkie minimax-m2 ", {"R" RE_O200K, NULL}, 0, 0, 0},
    {" tekken ", {"R" RE_TEKKEN, NULL}, 0, 1, 1},
    {" seed-coder ",
     {"R(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\r\n]+|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
      NULL}, 0, 0, 0},
    {" minicpm5 ",
     {"R\\p{N}{1,3}",
      "R(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
      NULL}, 0, 1, 0},
    {" ufakzeka ",
     {"R[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+", NULL},
     0, 0, 0},
};

/* llama.cpp's end-of-generation names (llama-vocab.cpp, special_eog_ids). A
 * literal split to end a hex escape is in parentheses: concatenated on purpose. */
static const char *const k_eog_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
    "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
    "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
    ("<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>"), "[e~[", NULL};
/* Names llama.cpp takes as eot when the metadata has none. */
static const char *const k_eot_names[] = {
    "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
    "<EOT>", "_<EOT>", "[EOT]", ("<\xef\xbd\x9c" "end\xe2\x96\x81" "of\xe2\x96\x81" "sentence\xef\xbd\x9c>"),
    "<end_of_utterance>", NULL};
/* FIM pad / repo / file-separator names: llama.cpp counts them as EOG. */
static const char *const k_fim_eog_names[] = {
    "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", "<|fim_repo|>", "<|repo_name|>",
    "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>", NULL};

typedef struct gguf_vocab {
    size_t n;
    tg__bytes *tokens;
    int32_t *types;     /* TT_*, TT_NORMAL when absent */
    float *scores;      /* NULL when absent */
} gguf_vocab;

static void vocab_free(gguf_vocab *v) {
    free(v->tokens);
    free(v->types);
    free(v->scores);
    memset(v, 0, sizeof *v);
}

static int str_is(tg_gguf_str s, const char *lit) {
    size_t n = strlen(lit);
    return s.len == n && memcmp(s.ptr, lit, n) == 0;
}

static int in_list(const char *const *list, const char *p, size_t n) {
    for (size_t i = 0; list[i]; i++)
        if (strlen(list[i]) == n && memcmp(list[i], p, n) == 0) return 1;
    return 0;
}

static tg_status read_vocab(const tg_gguf *g, gguf_vocab *v, tg_error *err) {
    tg_gguf_value arr;
    tg_status st = tg_gguf_get_array(g, "tokenizer.ggml.tokens", &arr, err);
    if (st == TG_ENOTFOUND) return tg_error_set(err, TG_ENOTFOUND, "GGUF has no tokenizer.ggml.tokens");
    if (st) return st;
    if (arr.elem_type != TG_GGUF_STRING)
        return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.tokens holds %s, not strings",
                            tg_gguf_type_name(arr.elem_type));
    if (arr.n == 0 || arr.n > TG__MAX_VOCAB)
        return tg_error_set(err, TG_ELIMIT, "tokenizer.ggml.tokens has %llu entries; 1 to %u allowed",
                            (unsigned long long)arr.n, (unsigned)TG__MAX_VOCAB);
    v->n = (size_t)arr.n;
    v->tokens = calloc(v->n, sizeof *v->tokens);
    v->types = malloc(v->n * sizeof *v->types);
    if (!v->tokens || !v->types) return tg_error_set(err, TG_ENOMEM, "out of memory for %zu tokens", v->n);
    for (size_t i = 0; i < v->n; i++) {
        tg_gguf_str s;
        if ((st = tg_gguf_array_str(g, &arr, i, &s))) return tg_error_set(err, st, "tokenizer.ggml.tokens[%zu] unreadable", i);
        if (s.len > TG__MAX_TOKEN_BYTES)
            return tg_error_set(err, TG_ELIMIT, "tokenizer.ggml.tokens[%zu] has %zu bytes; the limit is %u", i,
                                s.len, (unsigned)TG__MAX_TOKEN_BYTES);
        v->tokens[i].p = s.ptr;
        v->tokens[i].n = s.len;
        v->types[i] = TT_NORMAL;
    }
    tg_gguf_value ta;
    st = tg_gguf_get_array(g, "tokenizer.ggml.token_type", &ta, err);
    if (st == TG_OK) {
        if (ta.n < v->n)
            return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.token_type has %llu entries for %zu tokens",
                                (unsigned long long)ta.n, v->n);
        for (size_t i = 0; i < v->n; i++) {
            tg_gguf_value e;
            int64_t x;
            if (tg_gguf_array_get(g, &ta, i, &e) || tg_gguf_value_i64(&e, &x))
                return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.token_type[%zu] is not an integer", i);
            v->types[i] = (x >= 0 && x <= 6) ? (int32_t)x : 0;
        }
    } else if (st != TG_ENOTFOUND) {
        return st;
    }
    tg_gguf_value sa;
    st = tg_gguf_get_array(g, "tokenizer.ggml.scores", &sa, err);
    if (st == TG_OK) {
        if (sa.n < v->n)
            return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.scores has %llu entries for %zu tokens",
                                (unsigned long long)sa.n, v->n);
        v->scores = malloc(v->n * sizeof *v->scores);
        if (!v->scores) return tg_error_set(err, TG_ENOMEM, "out of memory for %zu scores", v->n);
        for (size_t i = 0; i < v->n; i++) {
            tg_gguf_value e;
            double x;
            if (tg_gguf_array_get(g, &sa, i, &e) || tg_gguf_value_f64(&e, &x) || isnan(x))
                return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.scores[%zu] is not a number", i);
            v->scores[i] = (float)x;
        }
    } else if (st != TG_ENOTFOUND) {
        return st;
    }
    return TG_OK;
}

/* Reads tokenizer.ggml.merges ("left right", split at the first space after
 * the first byte, as llama.cpp does) into left/right arrays pointing into g. */
static tg_status read_merges(const tg_gguf *g, tg__bytes **left, tg__bytes **right, size_t *n, tg_error *err) {
    tg_gguf_value arr;
    tg_status st = tg_gguf_get_array(g, "tokenizer.ggml.merges", &arr, err);
    if (st == TG_ENOTFOUND) return tg_error_set(err, TG_ENOTFOUND, "GGUF BPE vocabulary without tokenizer.ggml.merges");
    if (st) return st;
    if (arr.elem_type != TG_GGUF_STRING)
        return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.merges holds %s, not strings",
                            tg_gguf_type_name(arr.elem_type));
    if (arr.n > TG__MAX_MERGES)
        return tg_error_set(err, TG_ELIMIT, "tokenizer.ggml.merges has %llu entries; the limit is %u",
                            (unsigned long long)arr.n, (unsigned)TG__MAX_MERGES);
    *n = (size_t)arr.n;
    *left = malloc((*n ? *n : 1) * sizeof **left);
    *right = malloc((*n ? *n : 1) * sizeof **right);
    if (!*left || !*right) return tg_error_set(err, TG_ENOMEM, "out of memory for %zu merges", *n);
    for (size_t i = 0; i < *n; i++) {
        tg_gguf_str s;
        if ((st = tg_gguf_array_str(g, &arr, i, &s))) return tg_error_set(err, st, "tokenizer.ggml.merges[%zu] unreadable", i);
        const char *sp = s.len > 1 ? memchr(s.ptr + 1, ' ', s.len - 1) : NULL;
        if (!sp) return tg_error_set(err, TG_ECORRUPT, "tokenizer.ggml.merges[%zu] has no space separating two tokens", i);
        (*left)[i].p = s.ptr;
        (*left)[i].n = (size_t)(sp - s.ptr);
        (*right)[i].p = sp + 1;
        (*right)[i].n = s.len - (*left)[i].n - 1;
    }
    return TG_OK;
}

/* ---- SentencePiece scores -> BPE merges ---------------------------------- */

typedef struct spm_merge {
    float score;      /* of the merged piece */
    uint32_t piece, left, right;
} spm_merge;

static int spm_merge_cmp(const void *a, const void *b) {
    const spm_merge *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    if (x->piece != y->piece) return x->piece < y->piece ? -1 : 1;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return x->right < y->right ? -1 : (x->right > y->right);
}

/* The merges HF's SentencePieceExtractor derives from a SentencePiece model:
 * for every piece (in id order), every split at a character boundary into two
 * pieces of the vocabulary, the splits of one piece ordered by (left id, right
 * id); then all of them stably sorted by the merged piece's score, highest
 * first. BPE then merges exactly as SentencePiece's score order would. */
static tg_status spm_merges(const gguf_vocab *v, tg__bytes **left, tg__bytes **right, size_t *n, tg_error *err) {
    tg__strtab tab;
    tg_status st = tg__strtab_init(&tab, (uint32_t)v->n, 0);
    if (st) return tg_error_set(err, st, "out of memory for the SentencePiece vocabulary index");
    for (size_t i = 0; i < v->n && !st; i++) st = tg__strtab_set(&tab, (uint32_t)i, v->tokens[i].p, v->tokens[i].n, err);
    if (!st) st = tg__strtab_index(&tab, 0, err);
    spm_merge *m = NULL;
    size_t nm = 0, cap = 0;
    for (size_t id = 0; id < v->n && !st; id++) {
        const uint8_t *p = (const uint8_t *)v->tokens[id].p;
        size_t len = v->tokens[id].n;
        size_t b = tgx_utf8_seqlen(p[0]);
        while (b > 0 && b < len) {
            uint32_t l = tg__strtab_find(&tab, (const char *)p, b);
            uint32_t r = tg__strtab_find(&tab, (const char *)p + b, len - b);
            if (l != TG__NO_ID && r != TG__NO_ID) {
                if (nm == cap) {
                    cap = cap ? cap * 2 : 4096;
                    spm_merge *nmv = realloc(m, cap * sizeof *m);
                    if (!nmv) { st = tg_error_set(err, TG_ENOMEM, "out of memory for %zu merges", cap); break; }
                    m = nmv;
                }
                m[nm].score = v->scores ? v->scores[id] : 0.0f;
                m[nm].piece = (uint32_t)id;
                m[nm].left = l;
                m[nm].right = r;
                nm++;
            }
            size_t step = tgx_utf8_seqlen(p[b]);
            if (step == 0) break; /* not UTF-8: no further splits */
            b += step;
        }
    }
    tg__strtab_free(&tab);
    if (!st) {
        if (nm) qsort(m, nm, sizeof *m, spm_merge_cmp); /* m is NULL when there are none */
        *left = malloc((nm ? nm : 1) * sizeof **left);
        *right = malloc((nm ? nm : 1) * sizeof **right);
        if (!*left || !*right) st = tg_error_set(err, TG_ENOMEM, "out of memory for %zu merges", nm);
        for (size_t i = 0; i < nm && !st; i++) {
            (*left)[i] = v->tokens[m[i].left];
            (*right)[i] = v->tokens[m[i].right];
        }
        *n = nm;
    }
    free(m);
    return st;
}

/* ---- pipeline JSON --------------------------------------------------------- */

static json_t *split_json(const char *re) {
    return json_pack("{s:s, s:{s:s}, s:s, s:b}", "type", "Split", "pattern", "Regex", re, "behavior",
                     "Isolated", "invert", 0);
}

static json_t *pretok_json(const pre_family *f) {
    json_t *seq = json_array();
    int has_bytelevel = 0;
    for (size_t i = 0; seq && i < 8 && f->steps[i]; i++) {
        const char *s = f->steps[i];
        json_t *step = NULL;
        if (s[0] == 'R') step = split_json(s + 1);
        else if (strcmp(s, "D1") == 0) step = json_pack("{s:s, s:b}", "type", "Digits", "individual_digits", 1);
        else if (strcmp(s, "D+") == 0) step = json_pack("{s:s, s:b}", "type", "Digits", "individual_digits", 0);
        else if (strcmp(s, "P") == 0) step = json_pack("{s:s, s:s}", "type", "Punctuation", "behavior", "Contiguous");
        else if (strcmp(s, "B") == 0) {
            step = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0, "trim_offsets", 1,
                             "use_regex", 1);
            has_bytelevel = 1;
        }
        if (!step || json_array_append_new(seq, step)) {
            json_decref(seq);
            return NULL;
        }
    }
    if (seq && !has_bytelevel &&
        json_array_append_new(seq, json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 0,
                                             "trim_offsets", 0, "use_regex", 0))) {
        json_decref(seq);
        return NULL;
    }
    return seq ? json_pack("{s:s, s:o}", "type", "Sequence", "pretokenizers", seq) : NULL;
}

/* TemplateProcessing adding bos before and/or eos after the sequence; json
 * null when neither is added. */
static json_t *post_json(const gguf_vocab *v, uint32_t bos, int add_bos, uint32_t eos, int add_eos) {
    int want_bos = add_bos > 0 && bos < v->n, want_eos = add_eos > 0 && eos < v->n;
    if (!want_bos && !want_eos) return json_null();
    json_t *single = json_array(), *specials = json_object();
    int bad = !single || !specials;
    for (int k = 0; k < 3 && !bad; k++) {
        json_t *piece;
        if (k == 1) {
            piece = json_pack("{s:{s:s, s:i}}", "Sequence", "id", "A", "type_id", 0);
        } else {
            uint32_t id = k == 0 ? bos : eos;
            if (!(k == 0 ? want_bos : want_eos)) continue;
            char *name = strndup(v->tokens[id].p, v->tokens[id].n);
            piece = name ? json_pack("{s:{s:s, s:i}}", "SpecialToken", "id", name, "type_id", 0) : NULL;
            json_t *spec = name ? json_pack("{s:s, s:[I], s:[s]}", "id", name, "ids", (json_int_t)id, "tokens", name) : NULL;
            bad = !spec || json_object_set_new(specials, name, spec);
            free(name);
        }
        if (bad) json_decref(piece); /* not handed over */
        else bad = !piece || json_array_append_new(single, piece);
    }
    if (bad) {
        json_decref(single);
        json_decref(specials);
        return NULL;
    }
    return json_pack("{s:s, s:o, s:o}", "type", "TemplateProcessing", "single", single, "special_tokens", specials);
}

/* ---- config: special ids, flags, templates, EOG ----------------------------- */

static uint32_t get_id(const tg_gguf *g, const char *key, uint32_t dflt, size_t n_vocab) {
    uint64_t x;
    if (tg_gguf_get_u64(g, key, &x, NULL) != TG_OK || x >= n_vocab) return dflt;
    return (uint32_t)x;
}

static int get_flag(const tg_gguf *g, const char *key, int dflt) {
    int b;
    return tg_gguf_get_bool(g, key, &b, NULL) == TG_OK ? b : dflt;
}

static char *dup_gstr(tg_gguf_str s) { return strndup(s.ptr, s.len); }

static tg_status add_eog(tg__config *c, uint32_t id, tg_error *err) {
    if (id == TG__NO_ID) return TG_OK;
    for (size_t i = 0; i < c->n_eog; i++)
        if (c->eog_ids[i] == id) return TG_OK;
    uint32_t *p = realloc(c->eog_ids, (c->n_eog + 1) * sizeof *p);
    if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory for end-of-generation ids");
    p[c->n_eog++] = id;
    c->eog_ids = p;
    return TG_OK;
}

static uint32_t find_by_name(const gguf_vocab *v, const char *const *names) {
    for (size_t i = 0; i < v->n; i++)
        if (in_list(names, v->tokens[i].p, v->tokens[i].n)) return (uint32_t)i;
    return TG__NO_ID;
}

static tg_status fill_config(const tg_gguf *g, const gguf_vocab *v, tg__config *c, uint32_t bos_dflt,
                             uint32_t eos_dflt, uint32_t unk_dflt, int add_bos, int add_eos, tg_error *err) {
    tg_status st = TG_OK;
    c->bos_id = get_id(g, "tokenizer.ggml.bos_token_id", bos_dflt, v->n);
    c->eos_id = get_id(g, "tokenizer.ggml.eos_token_id", eos_dflt, v->n);
    c->unk_id = get_id(g, "tokenizer.ggml.unknown_token_id", unk_dflt, v->n);
    c->pad_id = get_id(g, "tokenizer.ggml.padding_token_id", TG__NO_ID, v->n);
    c->add_bos = add_bos;
    c->add_eos = add_eos;
    if (c->bos_id != TG__NO_ID && !(c->bos_token = strndup(v->tokens[c->bos_id].p, v->tokens[c->bos_id].n)))
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    if (c->eos_id != TG__NO_ID && !(c->eos_token = strndup(v->tokens[c->eos_id].p, v->tokens[c->eos_id].n)))
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    tg_gguf_str s;
    if (tg_gguf_get_str(g, "tokenizer.chat_template", &s, NULL) == TG_OK && !(c->chat_template = dup_gstr(s)))
        return tg_error_set(err, TG_ENOMEM, "out of memory");
    tg_gguf_value names;
    if (tg_gguf_get_array(g, "tokenizer.chat_templates", &names, NULL) == TG_OK && names.elem_type == TG_GGUF_STRING &&
        names.n <= 1024) {
        c->template_names = calloc(names.n + 1, sizeof *c->template_names);
        c->template_srcs = calloc(names.n + 1, sizeof *c->template_srcs);
        if (!c->template_names || !c->template_srcs) return tg_error_set(err, TG_ENOMEM, "out of memory");
        for (uint64_t i = 0; i < names.n; i++) {
            tg_gguf_str nm, src;
            char key[600];
            if (tg_gguf_array_str(g, &names, i, &nm) || nm.len > 512) continue;
            snprintf(key, sizeof key, "tokenizer.chat_template.%.*s", (int)nm.len, nm.ptr);
            if (tg_gguf_get_str(g, key, &src, NULL) != TG_OK) continue;
            c->template_names[c->n_templates] = dup_gstr(nm);
            c->template_srcs[c->n_templates] = dup_gstr(src);
            if (!c->template_names[c->n_templates] || !c->template_srcs[c->n_templates]) {
                c->n_templates++;
                return tg_error_set(err, TG_ENOMEM, "out of memory");
            }
            c->n_templates++;
        }
    }
    /* End of generation, as llama.cpp collects it. */
    uint32_t eot = get_id(g, "tokenizer.ggml.eot_token_id", TG__NO_ID, v->n);
    uint32_t eom = get_id(g, "tokenizer.ggml.eom_token_id", TG__NO_ID, v->n);
    if (eot == TG__NO_ID) eot = find_by_name(v, k_eot_names);
    if (eom == TG__NO_ID) {
        static const char *const eom_names[] = {"<|eom_id|>", NULL};
        eom = find_by_name(v, eom_names);
    }
    int has_return = 0, has_call = 0, has_flush = 0;
    uint32_t end_id = TG__NO_ID;
    for (size_t i = 0; i < v->n && !st; i++) {
        const char *p = v->tokens[i].p;
        size_t n = v->tokens[i].n;
        if (in_list(k_eog_names, p, n) || in_list(k_fim_eog_names, p, n)) st = add_eog(c, (uint32_t)i, err);
        if (n == 10 && memcmp(p, "<|return|>", 10) == 0) has_return = 1;
        if ((n == 8 && memcmp(p, "<|call|>", 8) == 0) || (n == 9 && memcmp(p, "<|calls|>", 9) == 0)) has_call = 1;
        if (n == 9 && memcmp(p, "<|flush|>", 9) == 0) has_flush = 1;
        if (n == 7 && memcmp(p, "<|end|>", 7) == 0) end_id = (uint32_t)i;
    }
    if (!st) st = add_eog(c, c->eos_id, err);
    if (!st) st = add_eog(c, eot, err);
    if (!st) st = add_eog(c, eom, err);
    /* llama.cpp's workarounds: harmony's <|end|> is not EOG when <|return|>
     * and <|call|> exist; Gemma 4's (and PaddleOCR's) </s> is not EOG when
     * <|tool_response> exists. */
    uint32_t drop[2] = {TG__NO_ID, TG__NO_ID};
    if (end_id != TG__NO_ID && ((has_return && has_call) || (has_call && has_flush))) drop[0] = end_id;
    static const char *const tool_resp[] = {"<|tool_response>", NULL};
    static const char *const slash_s[] = {"</s>", NULL};
    if (find_by_name(v, tool_resp) != TG__NO_ID) drop[1] = find_by_name(v, slash_s);
    for (int d = 0; d < 2 && !st; d++) {
        for (size_t i = 0; drop[d] != TG__NO_ID && i < c->n_eog; i++) {
            if (c->eog_ids[i] == drop[d]) {
                c->eog_ids[i] = c->eog_ids[--c->n_eog];
                break;
            }
        }
    }
    return st;
}

/* ---- the loader ------------------------------------------------------------------- */

static const pre_family *find_pre(tg_gguf_str pre) {
    char key[80];
    if (pre.len == 0 || pre.len > 60 || memchr(pre.ptr, ' ', pre.len)) return NULL;
    snprintf(key, sizeof key, " %.*s ", (int)pre.len, pre.ptr);
    for (size_t i = 0; i < sizeof k_pre / sizeof k_pre[0]; i++)
        if (strstr(k_pre[i].names, key)) return &k_pre[i];
    return NULL;
}

static tg_status from_hf_json(const tg_gguf *g, tg_gguf_str js, tg_tokenizer **out, tg_error *err) {
    tg_status st = tg__tokenizer_from_json_buf(js.ptr, js.len, NULL, 0, out, err);
    if (st) return tg_error_wrap(err, "tokenizer.huggingface.json");
    /* The embedded file has no tokenizer_config.json: take bos/eos, flags and
     * templates from the GGUF keys. */
    gguf_vocab v = {0};
    tg_tokenizer *t = *out;
    if (read_vocab(g, &v, NULL) == TG_OK) {
        tg__config c;
        memset(&c, 0, sizeof c);
        c.bos_id = c.eos_id = c.pad_id = c.unk_id = TG__NO_ID;
        if (fill_config(g, &v, &c, TG__NO_ID, TG__NO_ID, TG__NO_ID, get_flag(g, "tokenizer.ggml.add_bos_token", -1),
                        get_flag(g, "tokenizer.ggml.add_eos_token", -1), err) == TG_OK) {
            /* The GGUF token list may disagree with the embedded file: keep
             * only ids the built tokenizer has. */
            uint32_t nv = t->vocab_size;
            if (c.bos_id != TG__NO_ID && c.bos_id >= nv) c.bos_id = TG__NO_ID;
            if (c.eos_id != TG__NO_ID && c.eos_id >= nv) c.eos_id = TG__NO_ID;
            if (c.unk_id != TG__NO_ID && c.unk_id >= nv) c.unk_id = TG__NO_ID;
            if (c.pad_id != TG__NO_ID && c.pad_id >= nv) c.pad_id = TG__NO_ID;
            size_t k = 0;
            for (size_t i = 0; i < c.n_eog; i++)
                if (c.eog_ids[i] < nv) c.eog_ids[k++] = c.eog_ids[i];
            c.n_eog = k;
            tg__config_free(&t->cfg);
            t->cfg = c;
        } else {
            tg__config_free(&c);
        }
    }
    vocab_free(&v);
    return TG_OK;
}

tg_status tg__tokenizer_from_gguf(const tg_gguf *g, tg_tokenizer **out, tg_error *err) {
    tg_gguf_str js, model, pre = {"", 0};
    if (tg_gguf_get_str(g, "tokenizer.huggingface.json", &js, NULL) == TG_OK) return from_hf_json(g, js, out, err);
    tg_status st = tg_gguf_get_str(g, "tokenizer.ggml.model", &model, err);
    if (st == TG_ENOTFOUND) return tg_error_set(err, TG_ENOTFOUND, "GGUF has no tokenizer (tokenizer.ggml.model missing)");
    if (st) return st;
    tg_gguf_get_str(g, "tokenizer.ggml.pre", &pre, NULL);

    enum { M_GPT2, M_SPM, M_GEMMA4 } kind;
    if (str_is(model, "gpt2")) kind = M_GPT2;
    else if (str_is(model, "llama")) kind = M_SPM;
    else if (str_is(model, "gemma4")) kind = M_GEMMA4;
    else
        return tg_error_set(err, TG_EUNSUPPORTED,
                            "GGUF tokenizer model \"%.*s\" is not supported (gpt2, llama and gemma4 are; "
                            "bert is WordPiece and t5 is Unigram)",
                            (int)(model.len > 40 ? 40 : model.len), model.ptr);
    const pre_family *fam = NULL;
    if (kind == M_GPT2) {
        tg_gguf_str p = pre.len ? pre : (tg_gguf_str){"default", 7};
        fam = find_pre(p);
        if (!fam)
            return tg_error_set(err, TG_EUNSUPPORTED, "GGUF pre-tokenizer \"%.*s\" (tokenizer.ggml.pre) is not supported",
                                (int)(p.len > 60 ? 60 : p.len), p.ptr);
    }

    gguf_vocab v = {0};
    tg__bytes *ml = NULL, *mr = NULL;
    size_t nm = 0;
    tg__added_spec *added = NULL;
    json_t *norm = NULL, *pt = NULL, *post = NULL, *dec = NULL;
    tg__config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.bos_id = cfg.eos_id = cfg.pad_id = cfg.unk_id = TG__NO_ID;

    if ((st = read_vocab(g, &v, err))) goto done;
    if (kind == M_SPM) st = spm_merges(&v, &ml, &mr, &nm, err);
    else st = read_merges(g, &ml, &mr, &nm, err);
    if (st) goto done;

    int space_prefix = get_flag(g, "tokenizer.ggml.add_space_prefix", kind == M_SPM);
    int add_bos = get_flag(g, "tokenizer.ggml.add_bos_token", kind == M_SPM || (fam && fam->add_bos));
    int add_eos = get_flag(g, "tokenizer.ggml.add_eos_token", 0);
    if (kind == M_GEMMA4) add_bos = 1; /* llama.cpp forces it for Gemma 4 */
    uint32_t bos_d = kind == M_SPM ? 1 : kind == M_GPT2 ? 11 : TG__NO_ID;
    uint32_t eos_d = kind == M_SPM ? 2 : kind == M_GPT2 ? 11 : TG__NO_ID;
    uint32_t unk_d = kind == M_SPM ? 0 : TG__NO_ID;
    if (bos_d != TG__NO_ID && bos_d >= v.n) bos_d = TG__NO_ID;
    if (eos_d != TG__NO_ID && eos_d >= v.n) eos_d = TG__NO_ID;
    if ((st = fill_config(g, &v, &cfg, bos_d, eos_d, unk_d, add_bos, add_eos, err))) goto done;

    /* Added tokens: control, unknown and user-defined. */
    size_t n_added = 0;
    int has_bytes = 0;
    added = calloc(v.n, sizeof *added);
    if (!added) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto done; }
    for (size_t i = 0; i < v.n; i++) {
        int ty = v.types[i];
        if (ty == TT_BYTE) has_bytes = 1;
        if (ty != TT_CONTROL && ty != TT_UNKNOWN && ty != TT_USER) continue;
        if (v.tokens[i].n == 0) continue;
        tg__added_spec *a = &added[n_added++];
        a->id = (uint32_t)i;
        a->content = v.tokens[i];
        a->special = ty != TT_USER;
    }

    tg__bpe_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.n_vocab = v.n;
    spec.vocab = v.tokens;
    spec.n_merges = nm;
    spec.merge_left = ml;
    spec.merge_right = mr;
    if (kind == M_GPT2) {
        spec.ignore_merges = fam->ignore_merges;
        pt = pretok_json(fam);
        norm = fam->nfc ? json_pack("{s:s}", "type", "NFC") : json_null();
        dec = json_pack("{s:s, s:b, s:b, s:b}", "type", "ByteLevel", "add_prefix_space", 1, "trim_offsets", 1,
                        "use_regex", 1);
    } else {
        /* SentencePiece as HF converts it: spaces become U+2581 (after a
         * prepended one when add_space_prefix), no pre-tokenizer, byte fallback. */
        spec.byte_fallback = has_bytes;
        spec.fuse_unk = 1;
        if (cfg.unk_id != TG__NO_ID) spec.unk_token = v.tokens[cfg.unk_id];
        json_t *repl = json_pack("{s:s, s:{s:s}, s:s}", "type", "Replace", "pattern", "String", " ", "content",
                                 "\xe2\x96\x81");
        norm = space_prefix && repl
                   ? json_pack("{s:s, s:[{s:s, s:s}, o]}", "type", "Sequence", "normalizers", "type", "Prepend",
                               "prepend", "\xe2\x96\x81", repl)
                   : repl;
        pt = json_null();
        dec = json_pack("{s:s, s:[{s:s, s:{s:s}, s:s}, {s:s}, {s:s}]}", "type", "Sequence", "decoders", "type",
                        "Replace", "pattern", "String", "\xe2\x96\x81", "content", " ", "type", "ByteFallback", "type",
                        "Fuse");
        if (dec && space_prefix &&
            json_array_append_new(json_object_get(dec, "decoders"),
                                  json_pack("{s:s, s:s, s:i, s:i}", "type", "Strip", "content", " ", "start", 1,
                                            "stop", 0))) {
            json_decref(dec);
            dec = NULL;
        }
    }
    post = post_json(&v, cfg.bos_id, add_bos, cfg.eos_id, add_eos);
    if (!norm || !pt || !dec || !post) { st = tg_error_set(err, TG_ENOMEM, "out of memory building the pipeline"); goto done; }
    /* The builder's config resolution adds end-of-generation ids by its own
     * name list; for GGUF, llama.cpp's collection (fill_config) is the
     * reference, so keep a copy and put it back. */
    size_t n_eog = cfg.n_eog;
    uint32_t *eog = malloc((n_eog ? n_eog : 1) * sizeof *eog);
    if (!eog) { st = tg_error_set(err, TG_ENOMEM, "out of memory"); goto done; }
    if (n_eog) memcpy(eog, cfg.eog_ids, n_eog * sizeof *eog);
    /* json null (not C NULL) stands for an absent stage, as in tokenizer.json */
    st = tg__tokenizer_build(&spec, added, n_added, norm, pt, post, dec, &cfg, out, err);
    if (st == TG_OK) {
        free((*out)->cfg.eog_ids);
        (*out)->cfg.eog_ids = eog;
        (*out)->cfg.n_eog = n_eog;
    } else {
        free(eog);
    }
    if (st) tg_error_wrap(err, "GGUF tokenizer (model %.*s, pre %.*s)", (int)(model.len > 20 ? 20 : model.len),
                          model.ptr, (int)(pre.len > 40 ? 40 : pre.len), pre.ptr);
done:
    json_decref(norm);
    json_decref(pt);
    json_decref(post);
    json_decref(dec);
    tg__config_free(&cfg);
    free(added);
    free(ml);
    free(mr);
    vocab_free(&v);
    return st;
}

tg_status tg__tokenizer_from_gguf_buf(const void *data, size_t size, tg_tokenizer **out, tg_error *err) {
    tg_gguf *g = NULL;
    tg_status st = tg_gguf_open_buffer(data, size, &g, err);
    if (st) return st;
    st = tg__tokenizer_from_gguf(g, out, err);
    tg_gguf_close(g);
    return st;
}
