/*
 * test_req_scan.c: the strict request scanner (policy/req_scan.c) against
 * jansson, the parser whose accept/reject it must reproduce:
 *   - hand-written documents at every edge jansson decides (numbers out of
 *     range, surrogates, NUL in keys, control bytes, depth 2048/2049, trailing
 *     bytes, invalid UTF-8) and 200,000 mutations of realistic bodies: the
 *     scanner accepts exactly when json_loadb(JSON_ALLOW_NUL) gives an object;
 *   - on every accepted document each top-level member's value span parses to
 *     the value jansson holds for its key (the last duplicate), and arrays
 *     report their element count;
 *   - tg__request_parse_scanned reads the same fields as the whole parse;
 *   - SipHash-2-4-128 gives the reference implementation's published vectors.
 */
#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "policy/req_scan.h"
#include "tg_test.h"
#include "tokgate/policy.h"
#include "util/siphash.h"

static int jansson_object(const char *s, size_t n) {
    json_error_t je;
    json_t *j = json_loadb(s, n, JSON_ALLOW_NUL, &je);
    int ok = json_is_object(j);
    json_decref(j);
    return ok;
}

/* The scanner's verdict equals jansson's; on acceptance the spans hold the
 * values jansson parsed. Returns 1 when they agree. */
static int agree(const char *s, size_t n) {
    tg__req_scan sc;
    tg_error err;
    int ok = tg__req_scan_run(s, n, &sc, &err) == TG_OK;
    if (ok != jansson_object(s, n)) return 0;
    if (!ok) return 1;
    json_error_t je;
    json_t *root = json_loadb(s, n, JSON_ALLOW_NUL, &je);
    int good = 1;
    const char *k;
    json_t *v;
    json_object_foreach(root, k, v) {
        const tg__req_member *m = tg__req_scan_get(&sc, s, k);
        if (!m) { /* only a key spelled with escapes is not found by its bytes */
            good &= sc.any_escaped_key;
            continue;
        }
        json_t *got = json_loadb(s + m->vstart, m->vend - m->vstart, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
        good &= got && json_equal(got, v);
        if (json_is_array(v)) good &= m->n_elems == json_array_size(v);
        json_decref(got);
    }
    good &= sc.n >= json_object_size(root);
    json_decref(root);
    tg__req_scan_free(&sc);
    return good;
}

#define AGREE(lit) TG_CHECK(agree(lit, sizeof(lit) - 1))

static void test_edges(void) {
    AGREE("{}");
    AGREE(" {\"a\":1} \n\t\r");
    AGREE("{\"a\":1}x");
    AGREE("{\"a\":1}{}");
    AGREE("");
    AGREE("   ");
    AGREE("[1,2]");
    AGREE("\"s\"");
    AGREE("{\"a\":9223372036854775807,\"b\":-9223372036854775808}");
    AGREE("{\"a\":9223372036854775808}");
    AGREE("{\"a\":-9223372036854775809}");
    AGREE("{\"a\":10000000000000000000}");
    AGREE("{\"a\":1e308,\"b\":1.7976931348623157e308}");
    AGREE("{\"a\":1.8e308}");
    AGREE("{\"a\":-1e400}");
    AGREE("{\"a\":1e-400}");
    AGREE("{\"a\":-0,\"b\":0.0,\"c\":0e0,\"d\":1E+2,\"e\":1e-2}");
    AGREE("{\"a\":00}");
    AGREE("{\"a\":01}");
    AGREE("{\"a\":1.}");
    AGREE("{\"a\":.5}");
    AGREE("{\"a\":+1}");
    AGREE("{\"a\":-}");
    AGREE("{\"a\":1e}");
    AGREE("{\"a\":0x1}");
    AGREE("{\"a\":\"\\u0000\"}");
    AGREE("{\"a\\u0000\":1}");
    AGREE("{\"\\u0061\":1,\"a\":2}");
    AGREE("{\"a\":\"\\ud800\"}");
    AGREE("{\"a\":\"\\udc00\"}");
    AGREE("{\"a\":\"\\ud800\\udc00\"}");
    AGREE("{\"a\":\"\\ud800\\u0041\"}");
    AGREE("{\"a\":\"\\uD83D\\uDE00\"}");
    AGREE("{\"a\":\"\\u12\"}");
    AGREE("{\"a\":\"\\x\"}");
    AGREE("{\"a\":\"\\/\\b\\f\\n\\r\\t\\\"\\\\\"}");
    AGREE("{\"a\":\"\x01\"}");
    AGREE("{\"a\":\"\x7f\"}");
    AGREE("{\"a\":\"\t\"}");
    AGREE("{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}");
    AGREE("{\"a\":\"\xc0\xaf\"}");
    AGREE("{\"a\":\"\xed\xa0\x80\"}");
    AGREE("{\"a\":\"\xf4\x90\x80\x80\"}");
    AGREE("{\"a\":\"\xe2\x82\"}");
    AGREE("{\"a\":\"\x80\"}");
    AGREE("\xef\xbb\xbf{}");
    AGREE("{\"a\":tru}");
    AGREE("{\"a\":truex}");
    AGREE("{\"a\":null,\"b\":true,\"c\":false}");
    AGREE("{\"a\":[1,]}");
    AGREE("{\"a\":1,}");
    AGREE("{,}");
    AGREE("{\"a\" 1}");
    AGREE("{\"a\":1 \"b\":2}");
    AGREE("{\"a\":[}");
    AGREE("{\"a\":{\"b\":[1,{\"c\":\"d\"}],\"e\":{}},\"f\":[[],[[]]]}");
    AGREE("{\"a\":1,\"a\":[1,2,3],\"a\":\"last\"}");
    AGREE("{\"a\":\"unterminated}");
    AGREE("{\"a\":1\x00}");
    /* nesting: jansson allows 2048 containers, the top object included */
    for (int d = 2046; d <= 2050; d++) {
        size_t n = (size_t)d * 2 + 8;
        char *b = malloc(n);
        size_t k = 0;
        memcpy(b, "{\"a\":", 5);
        k = 5;
        for (int i = 0; i < d - 1; i++) b[k++] = '[';
        for (int i = 0; i < d - 1; i++) b[k++] = ']';
        b[k++] = '}';
        TG_CHECK(agree(b, k));
        free(b);
    }
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void test_mutations(void) {
    static const char *const seeds[] = {
        "{\"model\":\"qwen\",\"messages\":[{\"role\":\"system\",\"content\":\"Be terse.\"},{\"role\":\"user\","
        "\"content\":\"caf\xc3\xa9 \\u00e9 \\ud83d\\ude00 \\\"q\\\"\"}],\"max_tokens\":100,\"stream\":true}",
        "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}]}],\"tools\":[{\"type\":"
        "\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"object\",\"properties\":{\"x\":"
        "{\"type\":\"integer\",\"minimum\":-1.5e3}}}}}],\"temperature\":0.7,\"n\":1,\"stop\":null}",
        "{\"a\":1,\"a\":2,\"chat_template_kwargs\":{\"enable_thinking\":false},\"max_completion_tokens\":-0,"
        "\"x\":[true,false,null,[],{}],\"y\":\"\\u0000\"}",
    };
    static const char alphabet[] = "\"\\{}[],:0-e.uD8 tn1a\x80\xc0\xed\xf4\x00\x1f\xc3\xa9";
    char buf[1024];
    int bad = 0;
    for (int it = 0; it < 200000; it++) {
        const char *seed = seeds[next() % 3];
        size_t n = strlen(seed);
        memcpy(buf, seed, n);
        int ops = 1 + (int)(next() % 3);
        for (int o = 0; o < ops; o++) {
            size_t at = n ? (size_t)(next() % n) : 0;
            char c = alphabet[next() % (sizeof alphabet - 1)];
            switch (next() % 4) {
            case 0: if (n) buf[at] = c; break;
            case 1: if (n + 1 < sizeof buf) { memmove(buf + at + 1, buf + at, n - at); buf[at] = c; n++; } break;
            case 2: if (n) { memmove(buf + at, buf + at + 1, n - at - 1); n--; } break;
            default: n = at; break;
            }
        }
        if (!agree(buf, n) && bad++ < 5) {
            TG_CHECK(!"scanner and jansson disagree");
            fprintf(stderr, "  on: %.*s\n", (int)n, buf);
        }
    }
    TG_CHECK_EQ_I(bad, 0);
}

/* The scanned parse reads the small fields as the whole parse does. */
static void test_scanned_parse(void) {
    static const char *const bodies[] = {
        "{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":10,\"max_completion_tokens\":20,"
        "\"stream\":true,\"truncation\":\"auto\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":\"ten\",\"thinking_mode\":\"balanced\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"reasoning_effort\":\"high\",\"max_thinking_tokens\":5}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"chat_template_kwargs\":{\"enable_thinking\":false,"
        "\"max_thinking_tokens\":7},\"max_tokens\":1,\"max_tokens\":2}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"thinking_mode\":\"fast\",\"truncation\":\"x\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"chat_template_kwargs\":3}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":3}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":\"yes\"}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"n\":1.5}",
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"model\":null,\"stream\":null,\"max_tokens\":null}",
        /* scalars read without json_loadb (member_value), and the ones it hands to it */
        "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"a\":-0,\"b\":9223372036854775807,"
        "\"c\":-9223372036854775808,\"d\":0,\"e\":1e2,\"f\":-1.5E-3,\"g\":\"caf\\u00e9\",\"h\":\"caf\xc3\xa9 \\\\\","
        "\"i\":\"\",\"j\":true,\"k\":false,\"l\":null,\"m\":[1,\"x\"],\"n\":{\"o\":1},\"model\":\"\xe4\xb8\xad\",\"max_tokens\":-7}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        const char *b = bodies[i];
        tg_request w, f;
        tg_error ew, ef;
        tg_status sw = tg_request_parse_as(b, strlen(b), TG_REQ_CHAT, &w, &ew);
        tg__req_scan sc;
        TG_CHECK_EQ_I(tg__req_scan_run(b, strlen(b), &sc, &ef), TG_OK);
        tg_status sf = tg__request_parse_scanned(b, &sc, &f, &ef);
        TG_CHECK_EQ_I(sf, sw);
        if (sw != TG_OK || sf != TG_OK) {
            TG_CHECK_STR(ef.msg, ew.msg);
            TG_CHECK_STR(ef.api.param, ew.api.param);
            if (sf == TG_OK) tg_request_free(&f);
            if (sw == TG_OK) tg_request_free(&w);
            tg__req_scan_free(&sc);
            continue;
        }
        TG_CHECK_EQ_I(f.kind, w.kind);
        { /* each member read alone (member_value) is the whole parse's value */
            const char *k;
            json_t *v;
            json_object_foreach(f.root, k, v) {
                if (strcmp(k, "messages") != 0) TG_CHECK(json_equal(v, json_object_get(w.root, k)));
            }
        }
        TG_CHECK((f.model == NULL) == (w.model == NULL));
        if (f.model && w.model) TG_CHECK_STR(f.model, w.model);
        TG_CHECK_EQ_I(f.stream, w.stream);
        TG_CHECK_EQ_I(f.has_max_tokens, w.has_max_tokens);
        TG_CHECK_EQ_I(f.max_tokens_valid, w.max_tokens_valid);
        TG_CHECK_EQ_I(f.max_tokens, w.max_tokens);
        TG_CHECK((f.max_tokens_field == NULL) == (w.max_tokens_field == NULL));
        TG_CHECK_EQ_I(f.has_thinking_mode, w.has_thinking_mode);
        TG_CHECK_EQ_I(f.thinking_mode, w.thinking_mode);
        TG_CHECK_EQ_I(f.enable_thinking, w.enable_thinking);
        TG_CHECK_EQ_I(f.has_max_thinking, w.has_max_thinking);
        TG_CHECK_EQ_U(f.max_thinking_tokens, w.max_thinking_tokens);
        TG_CHECK_EQ_I(f.truncation, w.truncation);
        TG_CHECK((f.bad_param == NULL) == (w.bad_param == NULL));
        if (f.bad_param && w.bad_param) TG_CHECK_STR(f.bad_param, w.bad_param);
        TG_CHECK_STR(f.bad_message, w.bad_message);
        TG_CHECK_EQ_U(json_array_size(json_object_get(f.root, "messages")),
                      json_array_size(json_object_get(w.root, "messages")));
        tg_request_free(&f);
        tg_request_free(&w);
        tg__req_scan_free(&sc);
    }
    /* what needs the whole parse says so */
    static const char *const whole[] = {"{\"messages\":[]}", "{\"messages\":{}}", "{\"prompt\":\"x\"}",
                                        "{\"m\\u0065ssages\":[{\"role\":\"user\"}]}"};
    for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++) {
        tg__req_scan sc;
        tg_request f;
        tg_error e;
        TG_CHECK_EQ_I(tg__req_scan_run(whole[i], strlen(whole[i]), &sc, &e), TG_OK);
        TG_CHECK_EQ_I(tg__request_parse_scanned(whole[i], &sc, &f, &e), TG_EINVAL);
        tg__req_scan_free(&sc);
    }
}

/* vectors_sip128[0..2] of the reference implementation (key 00..0f,
 * message 00 01 .. of length 0, 1, 2 and 63). */
static void test_siphash(void) {
    static const char *const want[] = {"a3817f04ba25a8e66df67214c7550293", "da87c1d86b99af44347659119b22fc45",
                                       "8177228da4a45dc7fca38bdef60affe4"};
    uint8_t key[16], msg[64], out[16];
    for (int i = 0; i < 16; i++) key[i] = (uint8_t)i;
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    for (size_t n = 0; n < 3; n++) {
        tgx_sip s;
        tgx_sip_init(&s, key);
        tgx_sip_feed(&s, msg, n);
        tgx_sip_final128(&s, out);
        char hex[33];
        for (int i = 0; i < 16; i++) snprintf(hex + 2 * i, 3, "%02x", out[i]);
        TG_CHECK_STR(hex, want[n]);
    }
    /* fed in pieces = fed whole */
    uint8_t a[16], b[16];
    tgx_sip s;
    tgx_sip_init(&s, key);
    tgx_sip_feed(&s, msg, 63);
    tgx_sip_final128(&s, a);
    tgx_sip_init(&s, key);
    for (size_t i = 0; i < 63; i += 5) tgx_sip_feed(&s, msg + i, i + 5 > 63 ? 63 - i : 5);
    tgx_sip_final128(&s, b);
    TG_CHECK(memcmp(a, b, 16) == 0);
}

int main(void) {
    TG_RUN(test_edges);
    TG_RUN(test_mutations);
    TG_RUN(test_scanned_parse);
    TG_RUN(test_siphash);
    return tg_test_summary();
}
