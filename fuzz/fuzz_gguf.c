/*
 * fuzz_gguf.c: libFuzzer target for the GGUF reader (src/gguf/gguf_read.c).
 *
 * Opens arbitrary bytes with tg_gguf_open_buffer and, with the metadata-only
 * flag, tg_gguf_open_buffer_ex. Invariants, beyond "no crash, no leak":
 *  - a failure returns NULL, sets err.code to the status and a message
 *    starting "gguf: "; a strict success implies a metadata-only success;
 *  - on success: version 2 or 3; alignment a nonzero power of two; counts
 *    within the TG_GGUF_MAX_* caps; every key, string and value range lies
 *    inside the input; each key and tensor name finds its own index; every
 *    array element (strings, arrays of arrays to any depth) is reachable and
 *    lies inside its parent array; nesting within TG_GGUF_MAX_DEPTH; each
 *    tensor has <= 4 dims, an aligned offset and (strict mode) data inside
 *    the input;
 *  - the writer can copy every pair (tg_gguf_add_kv_from; only an alignment
 *    that is not uint32 or above TG_GGUF_WRITE_MAX_ALIGNMENT may be refused)
 *    and the result reads back.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokgate/gguf.h"
#include "tokgate/gguf_write.h"

#define REQUIRE(c) do { if (!(c)) { fprintf(stderr, "invariant failed: %s (line %d)\n", #c, __LINE__); abort(); } } while (0)

static const uint8_t *g_lo, *g_hi;

static void in_input(const void *p, size_t n) {
    uintptr_t a = (uintptr_t)p;
    REQUIRE(a >= (uintptr_t)g_lo && a <= (uintptr_t)g_hi && n <= (size_t)((uintptr_t)g_hi - a));
}

static void walk(const tg_gguf *g, const tg_gguf_value *v, unsigned depth) {
    REQUIRE(v->p && v->end && v->p <= v->end);
    in_input(v->p, (size_t)(v->end - v->p));
    uint64_t u;
    int64_t i;
    double d;
    int b;
    tg_gguf_str s;
    (void)tg_gguf_value_u64(v, &u);
    (void)tg_gguf_value_i64(v, &i);
    (void)tg_gguf_value_f64(v, &d);
    (void)tg_gguf_value_bool(v, &b);
    if (v->type == TG_GGUF_STRING) {
        REQUIRE(tg_gguf_value_str(v, &s) == TG_OK);
        in_input(s.ptr, s.len);
        REQUIRE(s.len <= TG_GGUF_MAX_STRING);
    }
    if (v->type != TG_GGUF_ARRAY) return;
    REQUIRE(depth < TG_GGUF_MAX_DEPTH);
    REQUIRE(v->n <= TG_GGUF_MAX_ARRAY);
    REQUIRE((unsigned)v->elem_type <= TG_GGUF_FLOAT64);
    for (uint64_t k = 0; k < v->n; k++) {
        tg_gguf_value e;
        REQUIRE(tg_gguf_array_get(g, v, k, &e) == TG_OK);
        REQUIRE(e.type == v->elem_type);
        REQUIRE(e.p >= v->p && e.end <= v->end);
        if (v->elem_type == TG_GGUF_STRING) {
            REQUIRE(tg_gguf_array_str(g, v, k, &s) == TG_OK);
            in_input(s.ptr, s.len);
        }
        walk(g, &e, depth + 1);
    }
    tg_gguf_value e;
    REQUIRE(tg_gguf_array_get(g, v, v->n, &e) == TG_EINVAL);
}

/* Index of a name through the public lookup, when it holds no NUL byte. */
static long find_copy(const tg_gguf *g, tg_gguf_str name, int tensor) {
    if (memchr(name.ptr, 0, name.len)) return -2;
    char *c = malloc(name.len + 1);
    REQUIRE(c != NULL);
    memcpy(c, name.ptr, name.len);
    c[name.len] = '\0';
    long r = tensor ? tg_gguf_find_tensor(g, c) : tg_gguf_find(g, c);
    free(c);
    return r;
}

static void check(const tg_gguf *g, const uint8_t *data, size_t size, int strict) {
    REQUIRE(tg_gguf_version(g) == 2 || tg_gguf_version(g) == 3);
    uint64_t al = tg_gguf_alignment(g);
    REQUIRE(al != 0 && (al & (al - 1)) == 0);
    REQUIRE(tg_gguf_data_offset(g) % al == 0);
    size_t n_kv = tg_gguf_kv_count(g);
    REQUIRE(n_kv <= TG_GGUF_MAX_KV);
    for (size_t i = 0; i < n_kv; i++) {
        tg_gguf_str k = tg_gguf_kv_key(g, i);
        in_input(k.ptr, k.len);
        long f = find_copy(g, k, 0);
        REQUIRE(f == -2 || f == (long)i);
        tg_gguf_value v = tg_gguf_kv_value(g, i);
        walk(g, &v, 0);
    }
    size_t n_t = tg_gguf_tensor_count(g);
    REQUIRE(n_t <= TG_GGUF_MAX_TENSORS);
    for (size_t i = 0; i < n_t; i++) {
        const tg_gguf_tensor *t = tg_gguf_tensor_at(g, i);
        REQUIRE(t != NULL);
        in_input(t->name.ptr, t->name.len);
        long f = find_copy(g, t->name, 1);
        REQUIRE(f == -2 || f == (long)i);
        REQUIRE(t->n_dims <= TG_GGUF_MAX_DIMS);
        REQUIRE(t->offset % al == 0);
        if (strict) {
            REQUIRE(tg_gguf_data_offset(g) <= size);
            REQUIRE(t->offset <= size - tg_gguf_data_offset(g));
            REQUIRE(t->n_bytes <= size - tg_gguf_data_offset(g) - t->offset);
        }
    }
    REQUIRE(tg_gguf_tensor_at(g, n_t) == NULL);
    (void)data;
}

static void rewrite(const tg_gguf *g) {
    tg_gguf_writer *w = tg_gguf_writer_new();
    if (!w) return;
    tg_error err;
    for (size_t i = 0; i < tg_gguf_kv_count(g); i++) {
        tg_status st = tg_gguf_add_kv_from(w, g, i, &err);
        tg_gguf_str k = tg_gguf_kv_key(g, i);
        int is_align = k.len == 17 && memcmp(k.ptr, "general.alignment", 17) == 0;
        uint64_t a = 0;
        tg_gguf_value v = tg_gguf_kv_value(g, i);
        if (st != TG_OK)
            REQUIRE(is_align && (v.type != TG_GGUF_UINT32 ||
                                 (tg_gguf_value_u64(&v, &a) == TG_OK && a > TG_GGUF_WRITE_MAX_ALIGNMENT)));
    }
    void *mem = NULL;
    size_t len = 0;
    if (tg_gguf_writer_to_memory(w, &mem, &len, &err) == TG_OK) {
        tg_gguf *g2 = NULL;
        REQUIRE(tg_gguf_open_buffer(mem, len, &g2, &err) == TG_OK);
        tg_gguf_close(g2);
        free(mem);
    }
    tg_gguf_writer_free(w);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    g_lo = data;
    g_hi = data + size;
    tg_error err;
    tg_gguf *g = NULL;
    memset(&err, 0, sizeof err);
    tg_status st = tg_gguf_open_buffer(data, size, &g, &err);
    if (st != TG_OK) {
        REQUIRE(g == NULL);
        REQUIRE(err.code == st);
        REQUIRE(strncmp(err.msg, "gguf: ", 6) == 0);
    } else {
        check(g, data, size, 1);
        rewrite(g);
        tg_gguf_close(g);
    }
    tg_gguf *m = NULL;
    tg_status st2 = tg_gguf_open_buffer_ex(data, size, TG_GGUF_OPEN_META_ONLY, &m, &err);
    if (st == TG_OK) REQUIRE(st2 == TG_OK);
    if (st2 == TG_OK) check(m, data, size, 0);
    else REQUIRE(m == NULL && strncmp(err.msg, "gguf: ", 6) == 0);
    tg_gguf_close(m);
    return 0;
}
