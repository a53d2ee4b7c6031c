/*
 * template/chat_count.c: exact chat counts and continuation prompts, the
 * two uses of a rendered prompt the gateway needs.
 *
 * Counting renders the request and tokenizes the prompt with the model's
 * tokenizer (tokgate/tokenizer.h), special tokens recognised in the text as
 * servers do. Continuation renders the history plus a partial assistant
 * message and cuts the prompt where that partial text ends (see template.h
 * for the contract). Both are thin: the renderer and the tokenizer do the
 * work, so their exactness is this file's exactness.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "template/chat.h"
#include "tokgate/tokenizer.h"

void tg__j_chat_count_options(const tg_chat_options *opt, const struct tg_tokenizer *tok, unsigned encode_flags,
                              tg_chat_options *o) {
    if (opt) *o = *opt;
    else { memset(o, 0, sizeof *o); o->add_generation_prompt = -1; }
    if (o->dialect == TG_CHAT_LLAMACPP) {
        /* llama-server strips a template-written BOS/EOS exactly when tokenizing
         * adds one (common_chat_template_direct_apply). */
        int add = (encode_flags & TG_ENCODE_ADD_SPECIAL) != 0;
        o->add_bos = add && tg_tokenizer_add_bos(tok) > 0;
        o->add_eos = add && tg_tokenizer_add_eos(tok) > 0;
    }
}

tg_status tg_chat_count(const tg_chat *c, const struct tg_tokenizer *tok, const json_t *request,
                        const tg_chat_options *opt, unsigned encode_flags, size_t *count, tg_error *err) {
    char *prompt = NULL;
    size_t len = 0;
    tg_chat_options o;
    tg__j_chat_count_options(opt, tok, encode_flags, &o);
    tg_status st = tg_chat_render(c, request, &o, &prompt, &len, err);
    if (st) return st;
    st = tg_tokenizer_count(tok, prompt, len, encode_flags, count, err);
    free(prompt);
    return st;
}

/* Last occurrence of needle in hay, or -1. */
static long rfind(const char *hay, size_t n, const char *needle, size_t m) {
    if (m == 0 || m > n) return -1;
    for (size_t i = n - m + 1; i-- > 0;)
        if (memcmp(hay + i, needle, m) == 0) return (long)i;
    return -1;
}

static int is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v'; }

tg_status tg_chat_render_continuation(const tg_chat *c, const json_t *request, const char *reasoning,
                                      size_t rlen, const char *content, size_t clen,
                                      const tg_chat_options *opt, char **out, size_t *out_len,
                                      tg_error *err) {
    if (!reasoning) rlen = 0;
    if (!content) clen = 0;
    tg_chat_options o;
    if (opt) o = *opt;
    else { memset(&o, 0, sizeof o); o.add_generation_prompt = -1; }
    if (rlen == 0 && clen == 0) {
        o.add_generation_prompt = 1;
        return tg_chat_render(c, request, &o, out, out_len, err);
    }
    if (!json_is_object(request) || !json_is_array(json_object_get(request, "messages")))
        return tg_error_set(err, TG_EINVAL, "chat request: \"messages\" is not a list");
    json_t *req = json_copy((json_t *)(uintptr_t)request); /* shallow: only messages changes */
    json_t *msgs = req ? json_copy(json_object_get(req, "messages")) : NULL;
    json_t *m = json_object();
    json_t *cj = json_stringn(clen ? content : "", clen);
    /* A *_new call takes its value even when it fails: each is handed over once. */
    int bad = !req || !msgs || !m || !cj || json_object_set_new(m, "role", json_string("assistant"));
    if (!bad) {
        bad = json_object_set_new(m, "content", cj);
        cj = NULL;
    }
    bad = bad || (rlen && json_object_set_new(m, "reasoning_content", json_stringn(reasoning, rlen)));
    if (!bad) {
        bad = json_array_append_new(msgs, m);
        m = NULL;
    }
    if (!bad) {
        bad = json_object_set_new(req, "messages", msgs);
        msgs = NULL;
    }
    if (bad) {
        json_decref(cj);
        json_decref(m);
        json_decref(msgs);
        json_decref(req);
        return tg_error_set(err, TG_ENOMEM, "continuation: cannot build the request (out of memory or invalid UTF-8)");
    }
    o.add_generation_prompt = 0;
    char *full = NULL;
    size_t n = 0;
    tg_status st = tg_chat_render(c, req, &o, &full, &n, err);
    json_decref(req);
    if (st) return st;
    const char *part = clen ? content : reasoning;
    size_t plen = clen ? clen : rlen;
    long at = rfind(full, n, part, plen);
    size_t cut = 0, tail_from = plen;
    if (at >= 0) {
        cut = (size_t)at + plen;
    } else {
        size_t a = 0, b = plen;
        while (a < b && is_ws(part[a])) a++;
        while (b > a && is_ws(part[b - 1])) b--;
        at = b > a ? rfind(full, n, part + a, b - a) : -1;
        if (at < 0) {
            free(full);
            return tg_error_set(err, TG_EUNSUPPORTED,
                                "continuation: the chat template does not reproduce the partial %s of the last "
                                "assistant message",
                                clen ? "answer" : "reasoning");
        }
        cut = (size_t)at + (b - a);
        tail_from = b;
    }
    size_t tail = plen - tail_from;
    char *res = malloc(cut + tail + 1);
    if (!res) { free(full); return tg_error_set(err, TG_ENOMEM, "continuation: out of memory"); }
    memcpy(res, full, cut);
    if (tail) memcpy(res + cut, part + tail_from, tail);
    res[cut + tail] = '\0';
    free(full);
    *out = res;
    if (out_len) *out_len = cut + tail;
    return TG_OK;
}
