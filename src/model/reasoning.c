/*
 * reasoning.c: the reasoning-model catalogue: which model families think
 * before they answer, and their base thinking budget (the auto/balanced
 * budget; conservative is x0.25, aggressive x2, see src/policy/thinking.c).
 *
 * Matching (tg_reasoning_lookup): the name is lower-cased, '_' and ' ' become
 * '-', and everything up to the last '/' (organisation, path) is dropped. A
 * pattern matches where it occurs at the start of the name or after a
 * non-alphanumeric character, and is not followed by a digit ("glm-4.7" is
 * not "glm-4.75"), so quantisation and packaging suffixes ("-W4A16",
 * "-Q4_K_M.gguf", ":Q8_0", "-GGUF") are ignored. Rows are tried in order and
 * more specific rows come first. A row with budget 0 marks a known
 * non-thinking variant (it stops the search).
 *
 * Sources:
 *  [DTT] "Dynamic Thinking Token Allocation" (vLLM recipe controller,
 *        controller/thinking_config.py and its token allocation table):
 *        MiniMax-M2.1 64000, MiniMax-M2.1-REAP-50 128000, GLM-4.7 32000,
 *        DeepSeek-R1 64000 (auto/balanced).
 *  [Q3]  Qwen3 model cards (Qwen/Qwen3-8B ... Qwen3-235B-A22B, Qwen3-*-Thinking-2507),
 *        "Best Practices / Adequate Output Length": "We recommend using an
 *        output length of 32,768 tokens for most queries" (38,912 or 81,920
 *        for competition-level problems).
 *  [QwQ] Qwen/QwQ-32B model card, usage example: max_new_tokens=32768.
 *  [OAI] gpt-oss has no published thinking budget (it takes reasoning_effort
 *        low/medium/high). OpenAI's reasoning guide advises reserving at least
 *        25,000 tokens for reasoning and outputs when starting with reasoning
 *        models; tokgate uses 25000 as the base. A choice, not a measurement.
 */
#include <stddef.h>
#include <string.h>

#include "tokgate/reasoning.h"

typedef struct row {
    const char *pattern;
    tg_reasoning_info info;
} row;

static const row table[] = {
    /* MiniMax: REAP-50 before the full model. */
    {"minimax-m2.1-reap-50", {"MiniMax-M2.1-REAP-50", 128000, "[DTT] dynamic thinking tokens table"}},
    {"minimax-m2.1", {"MiniMax-M2.1", 64000, "[DTT] dynamic thinking tokens table"}},
    {"glm-4.7", {"GLM-4.7", 32000, "[DTT] dynamic thinking tokens table"}},
    {"deepseek-r1", {"DeepSeek-R1", 64000, "[DTT] dynamic thinking tokens table"}},
    /* Qwen3: the hybrid models and the -Thinking variants think; Instruct
     * (2507 and VL), Coder, Embedding and Reranker do not. */
    {"qwen3-coder", {"Qwen3-Coder", 0, "non-thinking model"}},
    {"qwen3-embedding", {"Qwen3-Embedding", 0, "non-thinking model"}},
    {"qwen3-reranker", {"Qwen3-Reranker", 0, "non-thinking model"}},
    {"qwq", {"QwQ", 32768, "[QwQ] QwQ-32B model card: max_new_tokens=32768"}},
    {"gpt-oss", {"gpt-oss", 25000, "[OAI] reserve >= 25000 for reasoning (OpenAI reasoning guide); chosen"}},
};

/* Qwen3 is matched in code: "qwen3" followed by anything, unless the name says
 * Instruct (a non-thinking variant) after the family. */
static const tg_reasoning_info qwen3 = {
    "Qwen3", 32768, "[Q3] Qwen3 model cards: output length 32,768 for most queries"};

#define NAME_MAX_NORM 512

static size_t normalise(const char *name, size_t len, char *out) {
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (name[i] == '/' || name[i] == '\\') start = i + 1;
    size_t n = 0;
    for (size_t i = start; i < len && n < NAME_MAX_NORM - 1; i++) {
        char c = name[i];
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        if (c == '_' || c == ' ') c = '-';
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static int is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* Position of PAT in S at a word start and not followed by a digit, or -1. */
static long find_bounded(const char *s, size_t n, const char *pat) {
    size_t m = strlen(pat);
    for (size_t i = 0; m <= n && i + m <= n; i++) {
        if (memcmp(s + i, pat, m) != 0) continue;
        if (i > 0 && is_alnum(s[i - 1])) continue;
        if (i + m < n && s[i + m] >= '0' && s[i + m] <= '9') continue;
        return (long)i;
    }
    return -1;
}

const tg_reasoning_info *tg_reasoning_lookup(const char *name, size_t len) {
    if (!name) return NULL;
    char s[NAME_MAX_NORM];
    size_t n = normalise(name, len, s);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (find_bounded(s, n, table[i].pattern) < 0) continue;
        return table[i].info.base_budget ? &table[i].info : NULL;
    }
    /* qwen3, qwen3.5, qwen3-vl, qwen3-next...: the digit rule does not apply
     * to the minor version, so look for "qwen3" at a word start. */
    for (size_t i = 0; i + 5 <= n; i++) {
        if (memcmp(s + i, "qwen3", 5) != 0 || (i > 0 && is_alnum(s[i - 1]))) continue;
        if (i + 5 < n && s[i + 5] >= '0' && s[i + 5] <= '9') continue; /* qwen30? */
        if (strstr(s + i, "instruct")) return NULL;
        return &qwen3;
    }
    return NULL;
}
