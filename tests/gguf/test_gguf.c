/*
 * test_gguf.c: tests for src/gguf/ (reader, writer, ggml type table).
 *
 *  (a) round trip: the writer emits every value type (scalars, strings with
 *      NUL bytes, arrays of each fixed type, string arrays, arrays of arrays)
 *      and tensors of several ggml types, for GGUF v2 and v3, in memory and
 *      through a file; the reader must give back exactly what went in, and
 *      the getters must follow the conversion rules of gguf.h.
 *  (b) a catalogue of corrupt files, after llama.cpp's tests/test-gguf.cpp,
 *      built byte by byte with a small encoder below (independent of the
 *      writer): every truncation of a valid file, bad magic and versions,
 *      huge counts and lengths, unknown types, deep nesting, bad alignment,
 *      misaligned/overlapping/out-of-file tensor data, duplicates, bad
 *      shapes. Each checks the status and that the message names the byte
 *      offset (computed here from the encoder's positions) and the number.
 *  (c) real files: every $TG_FIXTURES/llama.cpp/models/ggml-vocab-*.gguf is
 *      read and compared, key by key, with tests/gguf/gguf_facts.js, an
 *      independent Node reader run at test time (values, array lengths,
 *      first/last strings, an FNV-1a hash over every array element).
 *  (d) the ggml type table against ggml itself: a C program that includes
 *      llama.cpp's ggml.h and ggml-common.h is compiled at test time and
 *      prints each type's enum id, block elements and sizeof(block); type
 *      names are compared with ggml.c's type_traits table.
 */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tg_test.h"
#include "tokgate/gguf.h"
#include "tokgate/gguf_write.h"
#include "util/buf.h"
#include "util/file.h"

/* ---- a tiny independent encoder for hand-made files ------------------------ */

static void e8(tgx_buf *b, uint8_t v) { tgx_buf_append(b, &v, 1); }
static void e32(tgx_buf *b, uint32_t v) {
    uint8_t p[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    tgx_buf_append(b, p, 4);
}
static void e64(tgx_buf *b, uint64_t v) {
    e32(b, (uint32_t)v);
    e32(b, (uint32_t)(v >> 32));
}
static void estr(tgx_buf *b, const char *s) {
    e64(b, strlen(s));
    tgx_buf_append(b, s, strlen(s));
}
static void ehdr(tgx_buf *b, uint32_t version, uint64_t n_tensors, uint64_t n_kv) {
    tgx_buf_append(b, "GGUF", 4);
    e32(b, version);
    e64(b, n_tensors);
    e64(b, n_kv);
}
static void ekv_u32(tgx_buf *b, const char *key, uint32_t v) {
    estr(b, key);
    e32(b, TG_GGUF_UINT32);
    e32(b, v);
}
static void ekv_str(tgx_buf *b, const char *key, const char *v) {
    estr(b, key);
    e32(b, TG_GGUF_STRING);
    estr(b, v);
}
/* A tensor info with up to 4 dims. */
static void etensor(tgx_buf *b, const char *name, uint32_t n_dims, const uint64_t *dims, uint32_t type,
                    uint64_t offset) {
    estr(b, name);
    e32(b, n_dims);
    for (uint32_t i = 0; i < n_dims; i++) e64(b, dims[i]);
    e32(b, type);
    e64(b, offset);
}
static void epad(tgx_buf *b, size_t align) {
    while (b->len % align) e8(b, 0);
}
static void ezeros(tgx_buf *b, size_t n) {
    for (size_t i = 0; i < n; i++) e8(b, (uint8_t)i);
}

static tg_status open_buf(const tgx_buf *b, tg_error *err) {
    tg_gguf *g = NULL;
    memset(err, 0, sizeof *err);
    tg_status st = tg_gguf_open_buffer(b->data, b->len, &g, err);
    if (st == TG_OK) TG_CHECK(g != NULL);
    else TG_CHECK(g == NULL);
    tg_gguf_close(g);
    return st;
}

/* Expects `st` with a message holding each of the given fragments. */
static void expect_fail(const tgx_buf *b, tg_status want, const char *frag1, const char *frag2,
                        const char *frag3) {
    tg_error err;
    tg_status st = open_buf(b, &err);
    TG_CHECK_EQ_I(st, want);
    if (st == want) {
        TG_CHECK_CONTAINS(err.msg, "gguf: ");
        if (frag1) TG_CHECK_CONTAINS(err.msg, frag1);
        if (frag2) TG_CHECK_CONTAINS(err.msg, frag2);
        if (frag3) TG_CHECK_CONTAINS(err.msg, frag3);
    } else {
        fprintf(stderr, "  message: %s\n", err.msg);
    }
}

static const char *at(size_t off) {
    static char s[4][48];
    static int k;
    k = (k + 1) % 4;
    snprintf(s[k], sizeof s[k], "at offset %zu:", off);
    return s[k];
}

/* ---- (a) round trip --------------------------------------------------------- */

static const uint8_t a_u8[] = {0, 1, 255};
static const int8_t a_i8[] = {-128, 0, 127};
static const uint16_t a_u16[] = {0, 65535, 1234};
static const int16_t a_i16[] = {-32768, 32767};
static const uint32_t a_u32[] = {0, 4294967295u};
static const int32_t a_i32[] = {INT32_MIN, -1, INT32_MAX};
static const float a_f32[] = {1.5f, -0.25f, 3.0e38f};
static const uint8_t a_bool[] = {1, 0, 1, 1};
static const uint64_t a_u64[] = {UINT64_MAX, 0};
static const int64_t a_i64[] = {INT64_MIN, INT64_MAX};
static const double a_f64[] = {3.141592653589793, -1e300};

static float t_f32[8 * 2];
static uint16_t t_f16[64];
static uint8_t t_q4_0[2 * 18];   /* 64 elements: 2 blocks of 18 bytes (ggml-common.h block_q4_0) */
static uint8_t t_q4_k[144];      /* 256 elements: 1 block of 144 bytes (block_q4_K) */
static int32_t t_i32[3];

static tg_gguf_writer *make_full_writer(uint32_t version) {
    tg_error err;
    tg_gguf_writer *w = tg_gguf_writer_new();
    TG_CHECK(w != NULL);
    TG_CHECK_EQ_I(tg_gguf_writer_set_version(w, version, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_writer_set_version(w, 1, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_str(w, "general.architecture", "test", 4, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "general.alignment", 64, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_u8(w, "v.u8", 200, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_i8(w, "v.i8", -100, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_u16(w, "v.u16", 60000, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_i16(w, "v.i16", -30000, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "v.u32", 4000000000u, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_i32(w, "v.i32", -2000000000, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_f32(w, "v.f32", 0.1f, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_bool(w, "v.bool", 1, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_u64(w, "v.u64", UINT64_MAX, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_i64(w, "v.i64", INT64_MIN, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_f64(w, "v.f64", 2.718281828459045, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_str(w, "v.str", "a\0b\xc3\xa9", 5, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_str(w, "v.empty", NULL, 0, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.u8", TG_GGUF_UINT8, a_u8, 3, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.i8", TG_GGUF_INT8, a_i8, 3, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.u16", TG_GGUF_UINT16, a_u16, 3, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.i16", TG_GGUF_INT16, a_i16, 2, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.u32", TG_GGUF_UINT32, a_u32, 2, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.i32", TG_GGUF_INT32, a_i32, 3, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.f32", TG_GGUF_FLOAT32, a_f32, 3, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.bool", TG_GGUF_BOOL, a_bool, 4, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.u64", TG_GGUF_UINT64, a_u64, 2, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.i64", TG_GGUF_INT64, a_i64, 2, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.f64", TG_GGUF_FLOAT64, a_f64, 2, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.empty", TG_GGUF_UINT32, NULL, 0, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_array(w, "a.bad", TG_GGUF_STRING, a_u8, 1, &err), TG_EINVAL);
    tg_gguf_str strs[] = {{"hello", 5}, {"", 0}, {"\xe4\xb8\xad", 3}, {"x\0y", 3}};
    TG_CHECK_EQ_I(tg_gguf_add_str_array(w, "a.str", strs, 4, &err), TG_OK);
    /* [[u16 1, 2], [], [u16 3]] and [[["p"], ["q", "r"]]] as raw values. */
    tgx_buf raw;
    tgx_buf_init(&raw, 1 << 20);
    e32(&raw, TG_GGUF_ARRAY);
    e64(&raw, 3);
    e32(&raw, TG_GGUF_UINT16); e64(&raw, 2); e8(&raw, 1); e8(&raw, 0); e8(&raw, 2); e8(&raw, 0);
    e32(&raw, TG_GGUF_UINT16); e64(&raw, 0);
    e32(&raw, TG_GGUF_UINT16); e64(&raw, 1); e8(&raw, 3); e8(&raw, 0);
    TG_CHECK_EQ_I(tg_gguf_add_raw(w, "a.nested", TG_GGUF_ARRAY, raw.data, raw.len, &err), TG_OK);
    tgx_buf_reset(&raw);
    e32(&raw, TG_GGUF_ARRAY); e64(&raw, 1);
    e32(&raw, TG_GGUF_ARRAY); e64(&raw, 2);
    e32(&raw, TG_GGUF_STRING); e64(&raw, 1); estr(&raw, "p");
    e32(&raw, TG_GGUF_STRING); e64(&raw, 2); estr(&raw, "q"); estr(&raw, "r");
    TG_CHECK_EQ_I(tg_gguf_add_raw(w, "a.nested3", TG_GGUF_ARRAY, raw.data, raw.len, &err), TG_OK);
    /* A raw value with a trailing byte, or a truncated one, is refused. */
    e8(&raw, 0);
    TG_CHECK_EQ_I(tg_gguf_add_raw(w, "a.bad", TG_GGUF_ARRAY, raw.data, raw.len, &err), TG_ECORRUPT);
    TG_CHECK_EQ_I(tg_gguf_add_raw(w, "a.bad", TG_GGUF_ARRAY, raw.data, raw.len - 3, &err), TG_ECORRUPT);
    tgx_buf_free(&raw);
    /* Writer refusals. */
    TG_CHECK_EQ_I(tg_gguf_add_u8(w, "v.u8", 1, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "duplicate key 'v.u8'");
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "general.alignment", 64, &err), TG_EINVAL);

    for (size_t i = 0; i < sizeof t_f32 / sizeof t_f32[0]; i++) t_f32[i] = (float)i * 0.5f;
    for (size_t i = 0; i < 64; i++) t_f16[i] = (uint16_t)(i * 977);
    for (size_t i = 0; i < sizeof t_q4_0; i++) t_q4_0[i] = (uint8_t)(i * 7);
    for (size_t i = 0; i < sizeof t_q4_k; i++) t_q4_k[i] = (uint8_t)(i * 13);
    t_i32[0] = 1; t_i32[1] = -2; t_i32[2] = 3;
    uint64_t d_f32[] = {8, 2}, d_f16[] = {4, 4, 2, 2}, d_q4[] = {64}, d_qk[] = {256, 1}, d_i32[] = {3};
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.f32", 2, d_f32, 0, t_f32, sizeof t_f32, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.f16", 4, d_f16, 1, t_f16, sizeof t_f16, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.q4_0", 1, d_q4, 2, t_q4_0, sizeof t_q4_0, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.q4_K", 2, d_qk, 12, t_q4_k, sizeof t_q4_k, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.i32", 1, d_i32, 26, t_i32, sizeof t_i32, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.zero", 1, d_i32, 26, NULL, 12, &err), TG_OK);
    /* Refusals: duplicate, wrong byte count, partial block, unknown type. */
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.f32", 1, d_i32, 0, NULL, 12, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.x", 1, d_i32, 0, NULL, 11, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.x", 1, d_i32, 2, NULL, 18, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_tensor(w, "t.x", 1, d_i32, 4, NULL, 0, &err), TG_EINVAL);
    return w;
}

static void check_full(const tg_gguf *g, uint32_t version) {
    tg_error err;
    TG_CHECK_EQ_U(tg_gguf_version(g), version);
    TG_CHECK_EQ_U(tg_gguf_alignment(g), 64);
    TG_CHECK_EQ_U(tg_gguf_data_offset(g) % 64, 0);
    TG_CHECK_EQ_U(tg_gguf_kv_count(g), 30);
    tg_gguf_str s;
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "general.architecture", &s, &err), TG_OK);
    TG_CHECK(s.len == 4 && memcmp(s.ptr, "test", 4) == 0);
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "v.str", &s, &err), TG_OK);
    TG_CHECK(s.len == 5 && memcmp(s.ptr, "a\0b\xc3\xa9", 5) == 0);
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "v.empty", &s, &err), TG_OK);
    TG_CHECK_EQ_U(s.len, 0);
    TG_CHECK_EQ_I(tg_gguf_find(g, "v.u8"), 2);
    TG_CHECK_EQ_I(tg_gguf_find(g, "v.u"), -1);
    TG_CHECK_EQ_I(tg_gguf_find(g, "v.u8x"), -1);
    tg_gguf_str k = tg_gguf_kv_key(g, 2);
    TG_CHECK(k.len == 4 && memcmp(k.ptr, "v.u8", 4) == 0);

    uint64_t u;
    int64_t i;
    double f;
    int bv;
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.u8", &u, &err), TG_OK); TG_CHECK_EQ_U(u, 200);
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.u8", &i, &err), TG_OK); TG_CHECK_EQ_I(i, 200);
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.i8", &i, &err), TG_OK); TG_CHECK_EQ_I(i, -100);
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.i8", &u, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "'v.i8'");
    TG_CHECK_CONTAINS(err.msg, "int8");
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.u16", &u, &err), TG_OK); TG_CHECK_EQ_U(u, 60000);
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.i16", &i, &err), TG_OK); TG_CHECK_EQ_I(i, -30000);
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.u32", &u, &err), TG_OK); TG_CHECK_EQ_U(u, 4000000000u);
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.i32", &i, &err), TG_OK); TG_CHECK_EQ_I(i, -2000000000);
    TG_CHECK_EQ_I(tg_gguf_get_f64(g, "v.f32", &f, &err), TG_OK); TG_CHECK(f == (double)0.1f);
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.f32", &u, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "float32");
    TG_CHECK_EQ_I(tg_gguf_get_bool(g, "v.bool", &bv, &err), TG_OK); TG_CHECK_EQ_I(bv, 1);
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.bool", &u, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "v.u64", &u, &err), TG_OK); TG_CHECK_EQ_U(u, UINT64_MAX);
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.u64", &i, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "out of range");
    TG_CHECK_EQ_I(tg_gguf_get_i64(g, "v.i64", &i, &err), TG_OK); TG_CHECK(i == INT64_MIN);
    TG_CHECK_EQ_I(tg_gguf_get_f64(g, "v.i64", &f, &err), TG_OK); TG_CHECK(f == -9223372036854775808.0);
    TG_CHECK_EQ_I(tg_gguf_get_f64(g, "v.f64", &f, &err), TG_OK); TG_CHECK(f == 2.718281828459045);
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "v.u8", &s, &err), TG_EINVAL);
    TG_CHECK_CONTAINS(err.msg, "key 'v.u8' has type uint8; expected string");
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "nope", &u, &err), TG_ENOTFOUND);
    TG_CHECK_CONTAINS(err.msg, "'nope'");

    /* Fixed-size arrays, element by element. */
    tg_gguf_value a, e;
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.i8", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.n, 3);
    for (uint64_t j = 0; j < 3; j++) {
        TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, j, &e), TG_OK);
        TG_CHECK_EQ_I(tg_gguf_value_i64(&e, &i), TG_OK);
        TG_CHECK_EQ_I(i, a_i8[j]);
    }
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 3, &e), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.u16", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 1, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_u64(&e, &u), TG_OK); TG_CHECK_EQ_U(u, 65535);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.i32", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 0, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_i64(&e, &i), TG_OK); TG_CHECK_EQ_I(i, INT32_MIN);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.f32", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 2, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_f64(&e, &f), TG_OK); TG_CHECK(f == (double)3.0e38f);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.bool", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.n, 4);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 1, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_bool(&e, &bv), TG_OK); TG_CHECK_EQ_I(bv, 0);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.u64", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 0, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_u64(&e, &u), TG_OK); TG_CHECK_EQ_U(u, UINT64_MAX);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.i64", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 1, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_i64(&e, &i), TG_OK); TG_CHECK(i == INT64_MAX);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.f64", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 1, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_f64(&e, &f), TG_OK); TG_CHECK(f == -1e300);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.u8", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.elem_type, TG_GGUF_UINT8);
    TG_CHECK(a.end - a.p == 3 && memcmp(a.p, a_u8, 3) == 0);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.u32", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 1, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_u64(&e, &u), TG_OK); TG_CHECK_EQ_U(u, 4294967295u);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.i16", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 0, &e), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_i64(&e, &i), TG_OK); TG_CHECK_EQ_I(i, -32768);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.empty", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.n, 0);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 0, &e), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "v.u8", &a, &err), TG_EINVAL);

    /* Strings. */
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.str", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.n, 4);
    TG_CHECK_EQ_U(a.elem_type, TG_GGUF_STRING);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 0, &s), TG_OK);
    TG_CHECK(s.len == 5 && memcmp(s.ptr, "hello", 5) == 0);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 1, &s), TG_OK);
    TG_CHECK_EQ_U(s.len, 0);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 2, &s), TG_OK);
    TG_CHECK(s.len == 3 && memcmp(s.ptr, "\xe4\xb8\xad", 3) == 0);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 3, &s), TG_OK);
    TG_CHECK(s.len == 3 && memcmp(s.ptr, "x\0y", 3) == 0);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 4, &s), TG_EINVAL);

    /* Arrays of arrays. */
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.nested", &a, &err), TG_OK);
    TG_CHECK_EQ_U(a.n, 3);
    TG_CHECK_EQ_U(a.elem_type, TG_GGUF_ARRAY);
    static const uint64_t want_n[] = {2, 0, 1};
    for (uint64_t j = 0; j < 3; j++) {
        TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, j, &e), TG_OK);
        TG_CHECK_EQ_U(e.type, TG_GGUF_ARRAY);
        TG_CHECK_EQ_U(e.elem_type, TG_GGUF_UINT16);
        TG_CHECK_EQ_U(e.n, want_n[j]);
    }
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 2, &e), TG_OK);
    tg_gguf_value e2;
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &e, 0, &e2), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_value_u64(&e2, &u), TG_OK); TG_CHECK_EQ_U(u, 3);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &a, 0, &s), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "a.nested3", &a, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &a, 0, &e), TG_OK);
    TG_CHECK_EQ_U(e.n, 2);
    TG_CHECK_EQ_I(tg_gguf_array_get(g, &e, 1, &e2), TG_OK);
    TG_CHECK_EQ_U(e2.n, 2);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &e2, 1, &s), TG_OK);
    TG_CHECK(s.len == 1 && s.ptr[0] == 'r');

    /* Tensors: shapes, byte sizes from ggml block facts, aligned offsets, data. */
    TG_CHECK_EQ_U(tg_gguf_tensor_count(g), 6);
    static const struct { const char *name; uint32_t type; uint64_t n_bytes; const void *data; } tw[] = {
        {"t.f32", 0, 64, t_f32}, {"t.f16", 1, 128, t_f16}, {"t.q4_0", 2, 36, t_q4_0},
        {"t.q4_K", 12, 144, t_q4_k}, {"t.i32", 26, 12, t_i32}, {"t.zero", 26, 12, NULL},
    };
    const uint8_t *base = NULL;
    for (size_t j = 0; j < 6; j++) {
        long ti = tg_gguf_find_tensor(g, tw[j].name);
        TG_CHECK_EQ_I(ti, (long)j);
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, j);
        TG_CHECK(t != NULL);
        if (!t) continue;
        TG_CHECK_EQ_U(t->type, tw[j].type);
        TG_CHECK_EQ_U(t->n_bytes, tw[j].n_bytes);
        TG_CHECK_EQ_U(t->offset % 64, 0);
        if (j == 0) base = (const uint8_t *)t->name.ptr; /* somewhere inside the buffer */
        (void)base;
    }
    TG_CHECK(tg_gguf_tensor_at(g, 6) == NULL);
    TG_CHECK_EQ_I(tg_gguf_find_tensor(g, "t.nope"), -1);
    const tg_gguf_tensor *t1 = tg_gguf_tensor_at(g, 1);
    if (t1) {
        TG_CHECK_EQ_U(t1->n_dims, 4);
        TG_CHECK(t1->dims[0] == 4 && t1->dims[1] == 4 && t1->dims[2] == 2 && t1->dims[3] == 2);
    }
    const tg_gguf_tensor *t3 = tg_gguf_tensor_at(g, 3);
    if (t3) TG_CHECK(t3->n_dims == 2 && t3->dims[0] == 256 && t3->dims[1] == 1 && t3->dims[2] == 1);
}

/* Checks that the tensor data in the file equals what was written. */
static void check_data(const tg_gguf *g, const uint8_t *file) {
    static const void *const src[] = {t_f32, t_f16, t_q4_0, t_q4_k, t_i32, NULL};
    for (size_t j = 0; j < 6; j++) {
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, j);
        if (!t) continue;
        const uint8_t *d = file + tg_gguf_data_offset(g) + t->offset;
        if (src[j]) {
            TG_CHECK(memcmp(d, src[j], (size_t)t->n_bytes) == 0);
        } else {
            for (size_t b = 0; b < t->n_bytes; b++) TG_CHECK_EQ_U(d[b], 0);
        }
    }
}

static void test_round_trip(void) {
    for (uint32_t version = 2; version <= 3; version++) {
        tg_error err;
        tg_gguf_writer *w = make_full_writer(version);
        void *mem = NULL;
        size_t len = 0;
        TG_CHECK_EQ_I(tg_gguf_writer_to_memory(w, &mem, &len, &err), TG_OK);
        tg_gguf *g = NULL;
        TG_CHECK_EQ_I(tg_gguf_open_buffer(mem, len, &g, &err), TG_OK);
        if (g) {
            check_full(g, version);
            check_data(g, mem);
            /* Copying every pair into a new writer reproduces the pairs byte for byte. */
            tg_gguf_writer *w2 = tg_gguf_writer_new();
            TG_CHECK_EQ_I(tg_gguf_writer_set_version(w2, version, &err), TG_OK);
            for (size_t k = 0; k < tg_gguf_kv_count(g); k++)
                TG_CHECK_EQ_I(tg_gguf_add_kv_from(w2, g, k, &err), TG_OK);
            void *mem2 = NULL;
            size_t len2 = 0;
            TG_CHECK_EQ_I(tg_gguf_writer_to_memory(w2, &mem2, &len2, &err), TG_OK);
            size_t kv_end = (size_t)(tg_gguf_kv_value(g, tg_gguf_kv_count(g) - 1).end - (const uint8_t *)mem);
            TG_CHECK(len2 >= kv_end);
            /* Same bytes after the header's tensor count. */
            if (len2 >= kv_end) TG_CHECK(memcmp((uint8_t *)mem + 16, (uint8_t *)mem2 + 16, kv_end - 16) == 0);
            free(mem2);
            tg_gguf_writer_free(w2);
            tg_gguf_close(g);
        }
        /* Through a file and tg_gguf_open_file. */
        char path[4096];
        const char *bd = getenv("TG_BUILD_DIR");
        snprintf(path, sizeof path, "%s/test_gguf_rt_%u_%d.gguf", bd ? bd : "/tmp", version, (int)getpid());
        TG_CHECK_EQ_I(tg_gguf_writer_to_file(w, path, &err), TG_OK);
        tgx_buf fb;
        TG_CHECK_EQ_I(tgx_read_file(path, 1 << 20, &fb, &err), TG_OK);
        TG_CHECK_EQ_U(fb.len, len);
        TG_CHECK(fb.len == len && memcmp(fb.data, mem, len) == 0);
        tgx_buf_free(&fb);
        g = NULL;
        TG_CHECK_EQ_I(tg_gguf_open_file(path, &g, &err), TG_OK);
        if (g) check_full(g, version);
        tg_gguf_close(g);
        unlink(path);
        TG_CHECK_EQ_I(tg_gguf_open_file(path, &g, &err), TG_EIO);
        free(mem);
        tg_gguf_writer_free(w);
    }
}

/* A writer with no pairs and no tensors makes the 24-byte header padded to 32. */
static void test_empty_file(void) {
    tg_error err;
    tg_gguf_writer *w = tg_gguf_writer_new();
    void *mem = NULL;
    size_t len = 0;
    TG_CHECK_EQ_I(tg_gguf_writer_to_memory(w, &mem, &len, &err), TG_OK);
    TG_CHECK_EQ_U(len, 32);
    tg_gguf *g = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_buffer(mem, 24, &g, &err), TG_OK);
    if (g) {
        TG_CHECK_EQ_U(tg_gguf_kv_count(g), 0);
        TG_CHECK_EQ_U(tg_gguf_tensor_count(g), 0);
        TG_CHECK_EQ_U(tg_gguf_data_offset(g), 32);
        TG_CHECK_EQ_U(tg_gguf_alignment(g), 32);
    }
    tg_gguf_close(g);
    free(mem);
    /* The writer's alignment: a power of two up to TG_GGUF_WRITE_MAX_ALIGNMENT. */
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "general.alignment", 3, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "general.alignment", 1u << 20, &err), TG_ELIMIT);
    TG_CHECK_CONTAINS(err.msg, "1048576 exceeds the 65536 limit");
    TG_CHECK_EQ_I(tg_gguf_add_u64(w, "general.alignment", 64, &err), TG_EINVAL);
    TG_CHECK_EQ_I(tg_gguf_add_u32(w, "general.alignment", 65536, &err), TG_OK);
    TG_CHECK_EQ_I(tg_gguf_writer_to_memory(w, &mem, &len, &err), TG_OK);
    TG_CHECK_EQ_U(len, 65536);
    free(mem);
    tg_gguf_writer_free(w);
}

/* ---- (b) corrupt-file catalogue --------------------------------------------- */

/* The small valid file every truncation is cut from: 5 pairs (string, u32,
 * string array, nested array, alignment) and 2 tensors whose data ends on an
 * alignment boundary, so no byte of the file is optional. */
static void build_base(tgx_buf *b) {
    ehdr(b, 3, 2, 5);
    ekv_str(b, "general.architecture", "llama");
    ekv_u32(b, "llama.context_length", 4096);
    estr(b, "tokenizer.ggml.tokens");
    e32(b, TG_GGUF_ARRAY); e32(b, TG_GGUF_STRING); e64(b, 3);
    estr(b, "a"); estr(b, "bc"); estr(b, "");
    estr(b, "x.nested");
    e32(b, TG_GGUF_ARRAY); e32(b, TG_GGUF_ARRAY); e64(b, 2);
    e32(b, TG_GGUF_UINT8); e64(b, 2); e8(b, 1); e8(b, 2);
    e32(b, TG_GGUF_STRING); e64(b, 1); estr(b, "z");
    ekv_u32(b, "general.alignment", 32);
    uint64_t d0[] = {8}, d1[] = {16, 1};
    etensor(b, "t0", 1, d0, 0, 0);  /* f32 x 8: 32 bytes */
    etensor(b, "t1", 2, d1, 1, 32); /* f16 x 16: 32 bytes */
    epad(b, 32);
    ezeros(b, 64);
}

static void test_truncation(void) {
    tgx_buf b;
    tgx_buf_init(&b, 1 << 20);
    build_base(&b);
    tg_error err;
    TG_CHECK_EQ_I(open_buf(&b, &err), TG_OK);
    int failed_ok = 0;
    for (size_t n = 0; n < b.len; n++) {
        tg_gguf *g = NULL;
        /* A private copy per length, so ASan sees any read past the cut. */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b.data, n);
        tg_status st = tg_gguf_open_buffer(cut, n, &g, &err);
        if (st == TG_ECORRUPT && g == NULL && strncmp(err.msg, "gguf: ", 6) == 0 && strstr(err.msg, "offset"))
            failed_ok++;
        else
            fprintf(stderr, "truncation at %zu: status %d, message %s\n", n, (int)st, err.msg);
        tg_gguf_close(g);
        free(cut);
    }
    TG_CHECK_EQ_U((size_t)failed_ok, b.len);
    /* With META_ONLY, a cut right after the tensor infos opens (data offset known). */
    size_t data_off = b.len - 64;
    tg_gguf *g = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_buffer_ex(b.data, data_off - 1, TG_GGUF_OPEN_META_ONLY, &g, &err), TG_OK);
    if (g) TG_CHECK_EQ_U(tg_gguf_data_offset(g), data_off);
    tg_gguf_close(g);
    tgx_buf_free(&b);
}

static void test_bad_header(void) {
    tgx_buf b;
    tgx_buf_init(&b, 1 << 20);
    build_base(&b);
    b.data[3] = 'X';
    expect_fail(&b, TG_ECORRUPT, "magic", at(0), NULL);
    static const struct { uint32_t v; tg_status st; const char *frag; } vs[] = {
        {0, TG_ECORRUPT, "version 0"}, {1, TG_EUNSUPPORTED, "version 1"},
        {4, TG_EUNSUPPORTED, "version 4"}, {0x03000000u, TG_EUNSUPPORTED, "byte-swapped"},
    };
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++) {
        tgx_buf_reset(&b);
        build_base(&b);
        b.data[4] = (char)vs[i].v; b.data[5] = (char)(vs[i].v >> 8);
        b.data[6] = (char)(vs[i].v >> 16); b.data[7] = (char)(vs[i].v >> 24);
        expect_fail(&b, vs[i].st, vs[i].frag, at(4), NULL);
    }
    /* Version 2 has the same layout and is accepted. */
    tgx_buf_reset(&b);
    build_base(&b);
    b.data[4] = 2;
    tg_error err;
    TG_CHECK_EQ_I(open_buf(&b, &err), TG_OK);
    /* Huge counts: over the cap is TG_ELIMIT naming the number and the cap;
     * under the cap but more than the bytes can hold is TG_ECORRUPT. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, (uint64_t)1 << 40);
    expect_fail(&b, TG_ELIMIT, "1099511627776", "1048576", at(16));
    tgx_buf_reset(&b);
    ehdr(&b, 3, UINT64_MAX, 0);
    expect_fail(&b, TG_ELIMIT, "18446744073709551615", "tensor count", at(8));
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1000);
    ekv_u32(&b, "a", 1);
    expect_fail(&b, TG_ECORRUPT, "1000 keys", "bytes", NULL);
    tgx_buf_free(&b);
}

static void test_bad_values(void) {
    tgx_buf b;
    tgx_buf_init(&b, 1 << 20);
    size_t off;

    /* String length over the 1 GiB cap, then over the bytes left. */
    ehdr(&b, 3, 0, 2);
    ekv_u32(&b, "ok", 1);
    estr(&b, "k");
    e32(&b, TG_GGUF_STRING);
    off = b.len;
    e64(&b, (uint64_t)1 << 32);
    e64(&b, 0);
    expect_fail(&b, TG_ELIMIT, "key #1 'k'", at(off), "4294967296");
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "k");
    e32(&b, TG_GGUF_STRING);
    off = b.len;
    e64(&b, 100);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "key #0 'k'", at(off), "string length 100 exceeds the 8 bytes left");
    /* Key length beyond the file. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    off = b.len;
    e64(&b, 1000);
    ezeros(&b, 20);
    expect_fail(&b, TG_ECORRUPT, "key #0", at(off), "1000");

    /* Array length over the cap, then over the bytes left. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "arr");
    e32(&b, TG_GGUF_ARRAY);
    e32(&b, TG_GGUF_UINT32);
    off = b.len;
    e64(&b, (uint64_t)1 << 40);
    ezeros(&b, 16);
    expect_fail(&b, TG_ELIMIT, "key #0 'arr'", at(off), "268435456");
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "arr");
    e32(&b, TG_GGUF_ARRAY);
    e32(&b, TG_GGUF_STRING);
    off = b.len;
    e64(&b, 1000);
    estr(&b, "a");
    expect_fail(&b, TG_ECORRUPT, "key #0 'arr'", at(off), "1000");

    /* Unknown value type and unknown element type. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "k");
    off = b.len;
    e32(&b, 13);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "unknown value type 13", at(off), NULL);
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "k");
    e32(&b, TG_GGUF_ARRAY);
    off = b.len;
    e32(&b, 99);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "unknown array element type 99", at(off), NULL);

    /* Nesting: 8 levels are allowed, 9 are not. */
    for (unsigned levels = 8; levels <= 9; levels++) {
        tgx_buf_reset(&b);
        ehdr(&b, 3, 0, 1);
        estr(&b, "deep");
        e32(&b, TG_GGUF_ARRAY);
        for (unsigned l = 1; l < levels; l++) {
            if (l == 8) off = b.len;
            e32(&b, TG_GGUF_ARRAY);
            e64(&b, 1);
        }
        if (levels == 9) off = b.len;
        e32(&b, TG_GGUF_UINT8);
        e64(&b, 1);
        e8(&b, 7);
        tg_error err;
        if (levels == 8) TG_CHECK_EQ_I(open_buf(&b, &err), TG_OK);
        else expect_fail(&b, TG_ELIMIT, "nested 9 deep", "8-level", at(off));
    }

    /* Duplicate key. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 3);
    ekv_u32(&b, "a", 1);
    ekv_u32(&b, "b", 1);
    off = b.len;
    ekv_u32(&b, "a", 2);
    expect_fail(&b, TG_ECORRUPT, "key #2 'a'", at(off), "duplicate key (first defined as key #0)");

    /* Alignment: 0, 3, 48 (not powers of two), a string, a negative int. */
    static const uint32_t bad_align[] = {0, 3, 48};
    for (size_t i = 0; i < 3; i++) {
        tgx_buf_reset(&b);
        ehdr(&b, 3, 0, 2);
        ekv_u32(&b, "x", 1);
        estr(&b, "general.alignment");
        e32(&b, TG_GGUF_UINT32);
        off = b.len;
        e32(&b, bad_align[i]);
        char frag[64];
        snprintf(frag, sizeof frag, "alignment %u is not a nonzero power of two", bad_align[i]);
        expect_fail(&b, TG_ECORRUPT, frag, at(off), "key #1 'general.alignment'");
    }
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "general.alignment");
    e32(&b, TG_GGUF_STRING);
    off = b.len;
    estr(&b, "32");
    expect_fail(&b, TG_ECORRUPT, "type string", at(off), NULL);
    tgx_buf_reset(&b);
    ehdr(&b, 3, 0, 1);
    estr(&b, "general.alignment");
    e32(&b, TG_GGUF_INT32);
    off = b.len;
    e32(&b, (uint32_t)-32);
    expect_fail(&b, TG_ECORRUPT, "-32 is negative", at(off), NULL);
    tgx_buf_free(&b);
}

/* A file with two tensor infos (`t0`, `t1`) and `data_len` bytes of data. */
static void build_tensors(tgx_buf *b, uint32_t align, const uint64_t *d0, uint32_t nd0, uint32_t type0,
                          uint64_t off0, const char *name1, uint64_t off1, size_t data_len, size_t *info1) {
    ehdr(b, 3, 2, 1);
    ekv_u32(b, "general.alignment", align);
    etensor(b, "t0", nd0, d0, type0, off0);
    if (info1) *info1 = b->len;
    uint64_t d1[] = {8};
    etensor(b, name1, 1, d1, 0, off1);
    epad(b, align);
    ezeros(b, data_len);
}

static void test_bad_tensors(void) {
    tgx_buf b;
    tgx_buf_init(&b, 1 << 20);
    tg_error err;
    size_t info1, off;
    uint64_t d8[] = {8};

    /* Valid: two f32 x 8 tensors at 0 and 32. */
    build_tensors(&b, 32, d8, 1, 0, 0, "t1", 32, 64, &info1);
    TG_CHECK_EQ_I(open_buf(&b, &err), TG_OK);

    /* Misaligned offset: 8 with alignment 32 (offset field is the last 8 bytes of the info). */
    tgx_buf_reset(&b);
    build_tensors(&b, 32, d8, 1, 0, 0, "t1", 8, 64, &info1);
    off = info1 + 8 + 2 + 4 + 8 + 4;
    expect_fail(&b, TG_ECORRUPT, "tensor #1 't1'", at(off), "offset 8 is not a multiple of the alignment 32");

    /* Overlap: both at 0. */
    tgx_buf_reset(&b);
    build_tensors(&b, 32, d8, 1, 0, 0, "t1", 0, 64, &info1);
    expect_fail(&b, TG_ECORRUPT, "overlaps tensor #0 't0'", "tensor #1 't1'", NULL);
    /* Overlap of a large tensor with a later one: t0 is f32 x 16 (64 bytes) at 0, t1 at 32. */
    tgx_buf_reset(&b);
    uint64_t d16[] = {16};
    build_tensors(&b, 32, d16, 1, 0, 0, "t1", 32, 96, &info1);
    expect_fail(&b, TG_ECORRUPT, "overlaps tensor #0 't0' ending at 64", "data [32, 64)", NULL);

    /* Out of the file: t1 at 64 but only 64 bytes of data; then data cut short. */
    tgx_buf_reset(&b);
    build_tensors(&b, 32, d8, 1, 0, 0, "t1", 64, 64, &info1);
    off = b.len; /* data offset 0 of t1 would start at data_offset + 64 = end of file */
    expect_fail(&b, TG_ECORRUPT, "tensor #1 't1'", at(off), "lies outside its 64 bytes");
    tgx_buf_reset(&b);
    build_tensors(&b, 32, d8, 1, 0, 0, "t1", (uint64_t)1 << 62, 64, &info1);
    expect_fail(&b, TG_ECORRUPT, "tensor #1 't1'", "lies outside", NULL);
    /* The same file read as metadata only is accepted (no bounds), overlap still checked. */
    {
        tg_gguf *g = NULL;
        TG_CHECK_EQ_I(tg_gguf_open_buffer_ex(b.data, b.len, TG_GGUF_OPEN_META_ONLY, &g, &err), TG_OK);
        tg_gguf_close(g);
    }

    /* Duplicate tensor name. */
    tgx_buf_reset(&b);
    build_tensors(&b, 32, d8, 1, 0, 0, "t0", 32, 64, &info1);
    expect_fail(&b, TG_ECORRUPT, "tensor #1 't0'", at(info1), "duplicate tensor name (first used by tensor #0)");

    /* n_dims 5. */
    tgx_buf_reset(&b);
    uint64_t d5[] = {1, 1, 1, 1, 8};
    ehdr(&b, 3, 1, 0);
    estr(&b, "t5");
    off = b.len;
    e32(&b, 5);
    for (int i = 0; i < 5; i++) e64(&b, d5[i]);
    e32(&b, 0);
    e64(&b, 0);
    epad(&b, 32);
    ezeros(&b, 32);
    expect_fail(&b, TG_ECORRUPT, "tensor #0 't5'", at(off), "n_dims 5 exceeds the 4");

    /* Dims product overflow: 2^32 x 2^32; and one dim above INT64_MAX. */
    tgx_buf_reset(&b);
    uint64_t dbig[] = {(uint64_t)1 << 32, (uint64_t)1 << 32};
    ehdr(&b, 3, 1, 0);
    estr(&b, "tb");
    e32(&b, 2);
    e64(&b, dbig[0]);
    off = b.len;
    e64(&b, dbig[1]);
    e32(&b, 0);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "tensor #0 'tb'", at(off), "overflows");
    tgx_buf_reset(&b);
    ehdr(&b, 3, 1, 0);
    estr(&b, "tb");
    e32(&b, 1);
    off = b.len;
    e64(&b, (uint64_t)1 << 63);
    e32(&b, 0);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "tensor #0 'tb'", at(off), "9223372036854775808, above INT64_MAX");
    /* Product fits int64 but bytes would not: 2^61 f32 elements = 2^63 bytes is
     * fine for u64; 2^62 x f64 = 2^65 bytes overflows. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 1, 0);
    estr(&b, "tb");
    e32(&b, 1);
    e64(&b, (uint64_t)1 << 62);
    off = b.len;
    e32(&b, 28);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "tensor #0 'tb'", at(off), "overflow");

    /* dims[0] not a multiple of the block: q4_0 (32 elements per block) x 33. */
    tgx_buf_reset(&b);
    uint64_t d33[] = {33, 2};
    ehdr(&b, 3, 1, 0);
    estr(&b, "tq");
    e32(&b, 2);
    e64(&b, d33[0]);
    e64(&b, d33[1]);
    off = b.len;
    e32(&b, 2);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "tensor #0 'tq'", at(off), "dims[0] = 33 is not a multiple of the 32-element block of type q4_0");

    /* Tensor infos end beyond the file. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 1, 0);
    estr(&b, "tz");
    e32(&b, 1);
    e64(&b, 8);
    e32(&b, 0);
    e64(&b, 0);
    expect_fail(&b, TG_ECORRUPT, "tensor data would start at offset 64", "past the end", NULL);

    /* An unknown ggml type (4, retired) is kept with n_bytes 0. */
    tgx_buf_reset(&b);
    ehdr(&b, 3, 1, 0);
    estr(&b, "tu");
    e32(&b, 1);
    e64(&b, 8);
    e32(&b, 4);
    e64(&b, 0);
    epad(&b, 32);
    tg_gguf *g = NULL;
    TG_CHECK_EQ_I(tg_gguf_open_buffer(b.data, b.len, &g, &err), TG_OK);
    if (g) TG_CHECK_EQ_U(tg_gguf_tensor_at(g, 0)->n_bytes, 0);
    tg_gguf_close(g);
    tgx_buf_free(&b);
}

/* ---- (c) real files against the independent Node reader -------------------- */

static uint32_t fnv(uint32_t h, const void *p, size_t n) {
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

static void value_string(const tg_gguf_value *v, char *out, size_t cap) {
    uint64_t u;
    int64_t i;
    double f;
    int bv;
    if (v->type == TG_GGUF_BOOL && tg_gguf_value_bool(v, &bv) == TG_OK) snprintf(out, cap, "%d", bv);
    else if ((v->type == TG_GGUF_FLOAT32 || v->type == TG_GGUF_FLOAT64) && tg_gguf_value_f64(v, &f) == TG_OK)
        snprintf(out, cap, "%.17g", f);
    else if (tg_gguf_value_u64(v, &u) == TG_OK) snprintf(out, cap, "%" PRIu64, u);
    else if (tg_gguf_value_i64(v, &i) == TG_OK) snprintf(out, cap, "%" PRId64, i);
    else snprintf(out, cap, "?");
}

static int str_eq(tg_gguf_str s, const char *c) { return c && s.len == strlen(c) && memcmp(s.ptr, c, s.len) == 0; }

static void check_file_against(const tg_gguf *g, json_t *ref) {
    const char *file = json_string_value(json_object_get(ref, "file"));
    TG_CHECK_EQ_U(tg_gguf_version(g), json_integer_value(json_object_get(ref, "version")));
    TG_CHECK_EQ_U(tg_gguf_tensor_count(g), json_integer_value(json_object_get(ref, "n_tensors")));
    TG_CHECK_EQ_U(tg_gguf_alignment(g), json_integer_value(json_object_get(ref, "alignment")));
    TG_CHECK_EQ_U(tg_gguf_data_offset(g), json_integer_value(json_object_get(ref, "data_offset")));
    json_t *kvs = json_object_get(ref, "kv");
    TG_CHECK_EQ_U(tg_gguf_kv_count(g), json_array_size(kvs));
    int saw_arch = 0, saw_model = 0, saw_tokens = 0;
    for (size_t k = 0; k < json_array_size(kvs) && k < tg_gguf_kv_count(g); k++) {
        json_t *e = json_array_get(kvs, k);
        const char *key = json_string_value(json_object_get(e, "key"));
        const char *type = json_string_value(json_object_get(e, "type"));
        tg_gguf_str gk = tg_gguf_kv_key(g, k);
        int ok = str_eq(gk, key);
        tg_gguf_value v = tg_gguf_kv_value(g, k);
        ok = ok && strcmp(tg_gguf_type_name(v.type), type) == 0;
        TG_CHECK_EQ_I(tg_gguf_find(g, key), (long)k);
        if (v.type == TG_GGUF_STRING) {
            tg_gguf_str s;
            ok = ok && tg_gguf_value_str(&v, &s) == TG_OK && str_eq(s, json_string_value(json_object_get(e, "value")));
        } else if (v.type == TG_GGUF_ARRAY) {
            const char *et = json_string_value(json_object_get(e, "elem_type"));
            ok = ok && strcmp(tg_gguf_type_name(v.elem_type), et) == 0;
            ok = ok && v.n == (uint64_t)json_integer_value(json_object_get(e, "n"));
            uint32_t h = 2166136261u;
            if (v.elem_type == TG_GGUF_STRING) {
                for (uint64_t j = 0; j < v.n && ok; j++) {
                    tg_gguf_str s;
                    ok = tg_gguf_array_str(g, &v, j, &s) == TG_OK;
                    uint8_t len[8];
                    for (int b = 0; b < 8; b++) len[b] = (uint8_t)((uint64_t)s.len >> (8 * b));
                    h = fnv(fnv(h, len, 8), s.ptr, s.len);
                    if (j == 0) ok = ok && str_eq(s, json_string_value(json_object_get(e, "first")));
                    if (j + 1 == v.n) ok = ok && str_eq(s, json_string_value(json_object_get(e, "last")));
                }
                ok = ok && h == (uint32_t)json_integer_value(json_object_get(e, "fnv"));
            } else if (v.elem_type != TG_GGUF_ARRAY) {
                for (uint64_t j = 0; j < v.n && ok; j++) {
                    tg_gguf_value ev;
                    ok = tg_gguf_array_get(g, &v, j, &ev) == TG_OK;
                    if (ok) h = fnv(h, ev.p, (size_t)(ev.end - ev.p));
                }
                ok = ok && h == (uint32_t)json_integer_value(json_object_get(e, "fnv"));
            }
            if (!strcmp(key, "tokenizer.ggml.tokens")) saw_tokens = v.n > 0;
        } else {
            char mine[64];
            value_string(&v, mine, sizeof mine);
            const char *want = json_string_value(json_object_get(e, "value"));
            if (v.type == TG_GGUF_FLOAT32 || v.type == TG_GGUF_FLOAT64) {
                double a = strtod(mine, NULL), b = want ? strtod(want, NULL) : (double)NAN;
                ok = ok && a == b;
            } else {
                ok = ok && want && strcmp(mine, want) == 0;
            }
        }
        if (!strcmp(key, "general.architecture")) saw_arch = 1;
        if (!strcmp(key, "tokenizer.ggml.model")) saw_model = 1;
        if (!ok) {
            tg_test_failed_checks++;
            fprintf(stderr, "%s: key #%zu '%s' (%s) differs from gguf_facts.js\n", file, k, key, type);
        }
    }
    TG_CHECK(saw_arch && saw_model && saw_tokens);
}

static void test_real_files(void) {
    const char *models = tg_fixture("llama.cpp/models");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "node '%s' '%s'/ggml-vocab-*.gguf", tg_source("tests/gguf/gguf_facts.js"), models);
    FILE *p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p) return;
    tgx_buf out;
    tgx_buf_init(&out, (size_t)1 << 28);
    TG_CHECK_EQ_I(tgx_read_fd(fileno(p), out.max, &out, NULL), TG_OK);
    TG_CHECK_EQ_I(pclose(p), 0);
    int files = 0;
    char *line = out.data, *nl;
    while (line && (nl = strchr(line, '\n')) != NULL) {
        *nl = '\0';
        json_error_t jerr;
        json_t *ref = json_loads(line, 0, &jerr);
        TG_CHECK(ref != NULL);
        if (ref) {
            const char *file = json_string_value(json_object_get(ref, "file"));
            tg_gguf *g = NULL;
            tg_error err;
            TG_CHECK_EQ_I(tg_gguf_open_file(file, &g, &err), TG_OK);
            if (g) check_file_against(g, ref);
            else fprintf(stderr, "%s: %s\n", file, err.msg);
            tg_gguf_close(g);
            json_decref(ref);
            files++;
        }
        line = nl + 1;
    }
    tgx_buf_free(&out);
    /* FIXTURES.md lists 19 vocab files; fewer means the fixtures are broken. */
    TG_CHECK(files >= 15);
    printf("compared %d vocab files with gguf_facts.js\n", files);
}

/* The qwen2 vocab: facts cited from gguf_facts.js output (node
 * tests/gguf/gguf_facts.js models/ggml-vocab-qwen2.gguf) and from Qwen2's HF
 * tokenizer (151643 is <|endoftext|>); the generic comparison above checks
 * every key, this pins the few the project leans on. */
static void test_qwen2_facts(void) {
    tg_gguf *g = NULL;
    tg_error err;
    TG_CHECK_EQ_I(tg_gguf_open_file(tg_fixture("llama.cpp/models/ggml-vocab-qwen2.gguf"), &g, &err), TG_OK);
    if (!g) return;
    tg_gguf_str s;
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "general.architecture", &s, &err), TG_OK);
    TG_CHECK(str_eq(s, "qwen2"));
    TG_CHECK_EQ_I(tg_gguf_get_str(g, "tokenizer.ggml.model", &s, &err), TG_OK);
    TG_CHECK(str_eq(s, "gpt2"));
    uint64_t eos;
    TG_CHECK_EQ_I(tg_gguf_get_u64(g, "tokenizer.ggml.eos_token_id", &eos, &err), TG_OK);
    TG_CHECK_EQ_U(eos, 151643);
    tg_gguf_value toks;
    TG_CHECK_EQ_I(tg_gguf_get_array(g, "tokenizer.ggml.tokens", &toks, &err), TG_OK);
    TG_CHECK_EQ_U(toks.n, 151936);
    TG_CHECK_EQ_I(tg_gguf_array_str(g, &toks, 151643, &s), TG_OK);
    TG_CHECK(str_eq(s, "<|endoftext|>"));
    tg_gguf_close(g);
}

/* ---- (d) ggml type table against ggml's own headers ------------------------- */

static void test_ggml_types(void) {
    const char *bd = getenv("TG_BUILD_DIR");
    char src[4096], exe[4096], cmd[16384];
    snprintf(src, sizeof src, "%s/ggml_types_ref_%d.c", bd ? bd : "/tmp", (int)getpid());
    snprintf(exe, sizeof exe, "%s/ggml_types_ref_%d", bd ? bd : "/tmp", (int)getpid());
    FILE *f = fopen(src, "w");
    TG_CHECK(f != NULL);
    if (!f) return;
    /* Block element counts and sizeof(block_*) as ggml defines them. */
    fputs("#define GGML_COMMON_DECL_C\n#include <stdio.h>\n#include <stdint.h>\n#include \"ggml.h\"\n"
          "#include \"ggml-common.h\"\n#define T(id, qk, sz) printf(\"%d %d %d\\n\", (int)(id), (int)(qk), (int)(sz));\n"
          "int main(void) {\n"
          "T(GGML_TYPE_F32, 1, sizeof(float)) T(GGML_TYPE_F16, 1, sizeof(ggml_half))\n"
          "T(GGML_TYPE_Q4_0, QK4_0, sizeof(block_q4_0)) T(GGML_TYPE_Q4_1, QK4_1, sizeof(block_q4_1))\n"
          "T(GGML_TYPE_Q5_0, QK5_0, sizeof(block_q5_0)) T(GGML_TYPE_Q5_1, QK5_1, sizeof(block_q5_1))\n"
          "T(GGML_TYPE_Q8_0, QK8_0, sizeof(block_q8_0)) T(GGML_TYPE_Q8_1, QK8_1, sizeof(block_q8_1))\n"
          "T(GGML_TYPE_Q2_K, QK_K, sizeof(block_q2_K)) T(GGML_TYPE_Q3_K, QK_K, sizeof(block_q3_K))\n"
          "T(GGML_TYPE_Q4_K, QK_K, sizeof(block_q4_K)) T(GGML_TYPE_Q5_K, QK_K, sizeof(block_q5_K))\n"
          "T(GGML_TYPE_Q6_K, QK_K, sizeof(block_q6_K)) T(GGML_TYPE_Q8_K, QK_K, sizeof(block_q8_K))\n"
          "T(GGML_TYPE_IQ2_XXS, QK_K, sizeof(block_iq2_xxs)) T(GGML_TYPE_IQ2_XS, QK_K, sizeof(block_iq2_xs))\n"
          "T(GGML_TYPE_IQ3_XXS, QK_K, sizeof(block_iq3_xxs)) T(GGML_TYPE_IQ1_S, QK_K, sizeof(block_iq1_s))\n"
          "T(GGML_TYPE_IQ4_NL, QK4_NL, sizeof(block_iq4_nl)) T(GGML_TYPE_IQ3_S, QK_K, sizeof(block_iq3_s))\n"
          "T(GGML_TYPE_IQ2_S, QK_K, sizeof(block_iq2_s)) T(GGML_TYPE_IQ4_XS, QK_K, sizeof(block_iq4_xs))\n"
          "T(GGML_TYPE_I8, 1, 1) T(GGML_TYPE_I16, 1, 2) T(GGML_TYPE_I32, 1, 4) T(GGML_TYPE_I64, 1, 8)\n"
          "T(GGML_TYPE_F64, 1, sizeof(double)) T(GGML_TYPE_IQ1_M, QK_K, sizeof(block_iq1_m))\n"
          "T(GGML_TYPE_BF16, 1, 2) T(GGML_TYPE_TQ1_0, QK_K, sizeof(block_tq1_0))\n"
          "T(GGML_TYPE_TQ2_0, QK_K, sizeof(block_tq2_0)) T(GGML_TYPE_MXFP4, QK_MXFP4, sizeof(block_mxfp4))\n"
          "T(GGML_TYPE_NVFP4, QK_NVFP4, sizeof(block_nvfp4)) T(GGML_TYPE_Q1_0, QK1_0, sizeof(block_q1_0))\n"
          "T(GGML_TYPE_Q2_0, QK2_0, sizeof(block_q2_0))\n"
          "return 0; }\n", f);
    fclose(f);
    const char *root = tg_fixture("llama.cpp/ggml");
    snprintf(cmd, sizeof cmd, "cc -w -I'%s/include' -I'%s/src' -o '%s' '%s' && '%s'", root, root, exe, src, exe);
    FILE *p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p) return;
    int id, qk, sz, rows = 0;
    while (fscanf(p, "%d %d %d", &id, &qk, &sz) == 3) {
        uint32_t be = 0, bb = 0;
        TG_CHECK_EQ_I(tg_ggml_type_block((uint32_t)id, &be, &bb), TG_OK);
        if (be != (uint32_t)qk || bb != (uint32_t)sz) {
            tg_test_failed_checks++;
            fprintf(stderr, "ggml type %d: block %u/%u bytes, ggml says %d/%d\n", id, be, bb, qk, sz);
        }
        rows++;
    }
    TG_CHECK_EQ_I(pclose(p), 0);
    TG_CHECK_EQ_I(rows, 35);
    unlink(src);
    unlink(exe);

    /* Names: ggml.c's type_traits `[GGML_TYPE_X] = { .type_name = "x"`, and
     * the enum ids of ggml.h. */
    snprintf(cmd, sizeof cmd,
             "awk '/GGML_TYPE_[A-Z0-9_]+ *= *[0-9]+,/ {gsub(/[ ,]/,\"\"); split($0,a,\"=\"); print \"id\", a[1], a[2]}' '%s/include/ggml.h';"
             "tr -d '\\n' < '%s/src/ggml.c' | grep -o '\\[GGML_TYPE_[A-Z0-9_]*\\] *= *{ *\\.type_name *= *\"[^\"]*\"' |"
             " sed 's/\\[\\(GGML_TYPE_[A-Z0-9_]*\\)\\].*\"\\([^\"]*\\)\"/name \\1 \\2/'",
             root, root);
    p = popen(cmd, "r");
    TG_CHECK(p != NULL);
    if (!p) return;
    char kind[8], ename[64], val[64];
    struct { char e[64]; int id; } ids[64];
    int n_ids = 0, names = 0;
    while (fscanf(p, "%7s %63s %63s", kind, ename, val) == 3) {
        if (!strcmp(kind, "id") && n_ids < 64) {
            snprintf(ids[n_ids].e, sizeof ids[n_ids].e, "%s", ename);
            ids[n_ids++].id = atoi(val);
        } else if (!strcmp(kind, "name")) {
            for (int i = 0; i < n_ids; i++) {
                if (strcmp(ids[i].e, ename) != 0) continue;
                TG_CHECK_STR(tg_ggml_type_name((uint32_t)ids[i].id), val);
                names++;
            }
        }
    }
    TG_CHECK_EQ_I(pclose(p), 0);
    TG_CHECK(names >= 35);
    TG_CHECK_STR(tg_ggml_type_name(4), "unknown");
    TG_CHECK_STR(tg_ggml_type_name(1000), "unknown");
    uint32_t be = 1, bb = 1;
    TG_CHECK_EQ_I(tg_ggml_type_block(31, &be, &bb), TG_ENOTFOUND);
    TG_CHECK(be == 0 && bb == 0);
}

int main(void) {
    TG_RUN(test_round_trip);
    TG_RUN(test_empty_file);
    TG_RUN(test_truncation);
    TG_RUN(test_bad_header);
    TG_RUN(test_bad_values);
    TG_RUN(test_bad_tensors);
    TG_RUN(test_real_files);
    TG_RUN(test_qwen2_facts);
    TG_RUN(test_ggml_types);
    return tg_test_summary();
}
