/*
 * template/tpl.h: internals of the chat-template renderer.
 *
 * Pipeline: lexer.c (preprocess: trim_blocks, lstrip_blocks, generation tags;
 * then tokens) -> parser.c (AST) -> eval.c (interpreter over value.c values,
 * with filters.c, methods.c and tojson.c). template.c is the public API.
 *
 * The behaviour copied throughout is @huggingface/jinja 0.5.x (the reference
 * of the exactness tests), including its JavaScript-isms: loose `==`, number
 * formatting, UTF-16 string lengths, undefined that prints as "".
 *
 * Memory: a template owns one arena for its tokens and AST; a render owns
 * another for every value it makes, freed at once at the end. Values are
 * immutable once built except namespaces (set ns.x = ...), so they share
 * their lists and dicts freely; identity (JS object identity) is pointer
 * identity.
 */
#ifndef TG_TEMPLATE_TPL_H
#define TG_TEMPLATE_TPL_H

#include <stddef.h>
#include <stdint.h>

#include "tokgate/error.h"
#include "tokgate/template.h"
#include "util/buf.h"

/* ---- arena ----------------------------------------------------------------- */

typedef struct tg__j_chunk tg__j_chunk;
typedef struct tg__j_arena {
    tg__j_chunk *head;
    size_t total; /* bytes handed out */
    size_t max;   /* ceiling on total */
} tg__j_arena;

void tg__j_arena_init(tg__j_arena *a, size_t max);
/* Zeroed memory, 16-byte aligned; NULL when the ceiling or malloc fails. */
void *tg__j_arena_alloc(tg__j_arena *a, size_t n);
void *tg__j_arena_alloc_raw(tg__j_arena *a, size_t n); /* not zeroed */
void *tg__j_arena_dup(tg__j_arena *a, const void *p, size_t n); /* n bytes + NUL */
void tg__j_arena_free(tg__j_arena *a);

typedef struct tg__j_str {
    const char *p;
    size_t n;
} tg__j_str;

int tg__j_str_eq(tg__j_str a, const char *lit);
/* First occurrence of needle[0..m) in hay[0..n), or NULL (m == 0: hay). */
const char *tg__j_find(const char *hay, size_t n, const char *needle, size_t m);

/* ---- tokens ------------------------------------------------------------------ */

enum {
    TK_TEXT, TK_NUM, TK_STR, TK_IDENT, TK_EQUALS, TK_LPAREN, TK_RPAREN,
    TK_OPEN_STMT, TK_CLOSE_STMT, TK_OPEN_EXPR, TK_CLOSE_EXPR,
    TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_DOT, TK_COLON,
    TK_PIPE, TK_ADD, TK_MUL, TK_POW, TK_CMP, TK_UNARY, TK_COMMENT
};

typedef struct tg__j_tok {
    int type;
    tg__j_str v;  /* value: text, literal (escapes resolved), operator, name */
    size_t off; /* offset in the original source */
} tg__j_tok;

/* Line and column (1-based) of byte offset off in src. */
void tg__j_source_pos(const char *src, size_t len, size_t off, size_t *line, size_t *col);

/* Preprocesses and tokenizes src into arena memory. */
tg_status tg__j_lex(const char *src, size_t len, tg__j_arena *a, tg__j_tok **toks, size_t *ntoks,
                  tg_error *err);

/* JavaScript's \s (and String.prototype.trim's set): byte length of the
 * whitespace character at s[0..n), 0 when there is none. */
size_t tg__j_js_space(const char *s, size_t n);

/* ---- AST ------------------------------------------------------------------------- */

enum {
    N_TEXT, N_INT, N_FLOAT, N_STR, N_IDENT, N_ARRAY, N_TUPLE, N_OBJECT,
    N_MEMBER, N_SLICE, N_CALL, N_KWARG, N_SPREAD, N_KWSPREAD,
    N_BINARY, N_UNARY, N_FILTER, N_TEST, N_SELECT, N_TERNARY,
    N_IF, N_FOR, N_SET, N_MACRO, N_CALLBLOCK, N_FILTERBLOCK, N_BREAK, N_CONTINUE,
    N_COMMENT
};

enum {
    OP_AND = 1, OP_OR, OP_EQ, OP_NE, OP_LT, OP_GT, OP_LE, OP_GE, OP_IN, OP_NOTIN,
    OP_ADD, OP_SUB, OP_CONCAT, OP_MUL, OP_DIV, OP_FLOORDIV, OP_MOD, OP_POW,
    OP_NOT, OP_NEG, OP_POS
};

typedef struct tg__j_node tg__j_node;
typedef struct tg__j_nodes {
    tg__j_node **v;
    size_t n;
} tg__j_nodes;

/* One generic node; which fields mean what is per kind:
 *   TEXT/STR/IDENT: s. INT: i. FLOAT: f. ARRAY/TUPLE: list. OBJECT: list keys, list2 values.
 *   MEMBER: a object, b property, flag computed. SLICE: a start, b stop, c step (NULL = none).
 *   CALL: a callee, list args. KWARG: s name, a value. SPREAD/KWSPREAD: a.
 *   BINARY: op, a, b. UNARY: op, a. FILTER: a operand, b filter (IDENT or CALL).
 *   TEST: a operand, s test name, flag negate. SELECT: a value, b condition.
 *   TERNARY: a condition, b if true, c if false.
 *   IF: a test, list body, list2 else. FOR: a target, b iterable, list body, list2 else.
 *   SET: a target, b value (NULL for a block set), list body.
 *   MACRO: s name, list params, list2 body, flag bit 1 kwargs used, bit 2 varargs used.
 *   CALLBLOCK: a call (CALL), list caller params, list2 body, flag as MACRO.
 *   FILTERBLOCK: b filter, list body. */
struct tg__j_node {
    int kind;
    int op;
    int flag;
    size_t off;
    tg__j_str s;
    int64_t i;
    double f;
    tg__j_node *a, *b, *c;
    tg__j_nodes list, list2;
};

tg_status tg__j_parse(const tg__j_tok *toks, size_t ntoks, tg__j_arena *a, const char *src, size_t len,
                    tg__j_nodes *program, tg_error *err);

struct tg_template {
    tg__j_arena arena;
    char *src; /* original source, for error positions */
    size_t len;
    tg__j_nodes program;
};

/* ---- values --------------------------------------------------------------------- */

enum { V_UNDEF, V_NULL, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_NS, V_FUNC };

/* flags */
#define VF_TUPLE  1u /* TupleValue */
#define VF_KWARGS 2u /* KeywordArgumentsValue (a dict) */

typedef struct tg__j_list tg__j_list;
typedef struct tg__j_dict tg__j_dict;
typedef struct tg__j_fn tg__j_fn;

typedef struct tg__j_val {
    uint8_t t;
    uint8_t flags;
    union {
        int b;
        int64_t i;
        double f;
        tg__j_str s;
        tg__j_list *l;
        tg__j_dict *d; /* V_DICT and V_NS */
        tg__j_fn *fn;
    } u;
} tg__j_val;

struct tg__j_list {
    size_t n, cap;
    tg__j_val *v;
};

struct tg__j_dict {
    size_t n, cap;
    tg__j_str *k;
    tg__j_val *v;
};

typedef struct tg__j_env tg__j_env;
struct tg__j_env {
    tg__j_env *parent;
    size_t n, cap;
    tg__j_str *names;
    tg__j_val *vals;
};

/* Function kinds. */
enum { F_MACRO, F_CALLER, F_BUILTIN, F_METHOD };

struct tg__j_fn {
    int kind;
    int id;               /* builtin or method id */
    const tg__j_node *node; /* MACRO / CALLBLOCK node */
    tg__j_env *env;         /* CALLER: where the call block stands */
    tg__j_val self;         /* METHOD: the receiver */
};

/* The state of one render. */
typedef struct tg__j_rt {
    tg__j_arena arena;
    tg_error *err;
    const tg_template *tpl;
    tg_template_limits lim;
    int64_t now;
    size_t depth;
    size_t iterations;
    const tg__j_node *at; /* node being evaluated, for error positions */
    int llamacpp;         /* llama.cpp's engine semantics (llamacpp_sem.c) */
} tg__j_rt;

#define TG__BREAK    100 /* internal statuses, never returned to the caller */
#define TG__CONTINUE 101

/* Runtime error at the current node: sets rt->err with "line L, column C: ". */
tg_status tg__j_fail(tg__j_rt *rt, tg_status code, const char *fmt, ...) TG_PRINTF(3, 4);
#ifdef __clang_analyzer__
/* As tg_error_set (tokgate/error.h): the analyzer is told the code comes back. */
#define tg__j_fail(rt, code, ...) ((void)tg__j_fail((rt), (code), __VA_ARGS__), (tg_status)(code))
#endif

tg__j_val tg__j_undef(void);
tg__j_val tg__j_null(void);
tg__j_val tg__j_bool(int b);
tg__j_val tg__j_int(int64_t i);
tg__j_val tg__j_float(double f);
tg__j_val tg__j_strv(const char *p, size_t n); /* borrows p */
tg_status tg__j_str_copy(tg__j_rt *rt, const char *p, size_t n, tg__j_val *out);
tg_status tg__j_list_new(tg__j_rt *rt, size_t cap, tg__j_val *out);
tg_status tg__j_list_push(tg__j_rt *rt, tg__j_list *l, tg__j_val v);
tg_status tg__j_dict_new(tg__j_rt *rt, size_t cap, int type, tg__j_val *out);
/* Sets key (replacing in place when present, else appending). */
tg_status tg__j_dict_set(tg__j_rt *rt, tg__j_dict *d, tg__j_str k, tg__j_val v);
/* NULL when absent. */
tg__j_val *tg__j_dict_get(const tg__j_dict *d, tg__j_str k);
tg_status tg__j_fn_new(tg__j_rt *rt, int kind, int id, tg__j_val *out, tg__j_fn **fn);

const char *tg__j_type_name(const tg__j_val *v); /* "StringValue" etc., as the reference */
int tg__j_truthy(const tg__j_val *v);
int tg__j_is_numeric(const tg__j_val *v); /* int or float */
double tg__j_num(const tg__j_val *v);     /* int/float/bool as double */

/* JS `==` on the values' underlying JS values; `===` likewise. */
int tg__j_loose_eq(const tg__j_val *a, const tg__j_val *b);
int tg__j_strict_eq(const tg__j_val *a, const tg__j_val *b);
/* llama.cpp-semantics mode (llamacpp_sem.c). Equality as value_t::equivalent. */
int tg__j_lc_eq(const tg__j_val *a, const tg__j_val *b);
/* `+` / `~` with None or undefined beside a string: 1 and *out = the string. */
int tg__j_lc_concat_missing(const tg__j_val *l, const tg__j_val *r, tg__j_val *out);
/* Filter f on undefined / None as llama.cpp: 1 handled (*out set), 0 not, -1 out of memory. */
int tg__j_lc_filter_missing(tg__j_rt *rt, const tg__j_val *x, tg__j_str f, tg__j_val *out);
/* The operand of a plain string filter (capitalize, lower, strip, trim, ...)
 * converted to a string as llama.cpp's apply_filter does (value_t::as_string). */
tg_status tg__j_lc_coerce(tg__j_rt *rt, const tg__j_val *x, tg__j_str f, tg__j_val *out);
/* undefined.items / none.string ...: a method returning the empty value. 1, 0 (none), -1 (memory). */
#define TG__J_M_CONST 1000
#define TG__J_M_APPEND 1001 /* list.append(x): in place, returns the list */
#define TG__J_M_POP 1002    /* list.pop([i]): removes and returns item i (default -1) */
tg_status tg__j_lc_list_method(tg__j_rt *rt, int id, const tg__j_val *self, tg__j_val *args, size_t nargs,
                               tg__j_val *out);
int tg__j_lc_member_missing(tg__j_rt *rt, const tg__j_val *obj, tg__j_str name, tg__j_val *out);
/* Appends value_t::as_string (repr 0) or value_to_string_repr (repr 1). */
tg_status tg__j_lc_string(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v, int repr);
/* Printing as gather_string_parts_recursive. */
tg_status tg__j_lc_print(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v);
/* compareRuntimeValues: -1/0/1, or TG_EINVAL (message set) when incomparable. */
tg_status tg__j_compare(tg__j_rt *rt, const tg__j_val *a, const tg__j_val *b, int case_sensitive, int *res);

/* Appends the printed form (RuntimeValue.toString) of v. */
tg_status tg__j_print(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v);
/* Appends String(v.value) (JS toString of the underlying value: floats
 * without ".0", arrays joined with ",", maps as "[object Map]"). */
tg_status tg__j_js_string(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v);
/* Number formatting: JS Number.prototype.toString. */
void tg__j_js_number(double d, char out[40]);
/* Buffer -> string value (copied into the arena). */
tg_status tg__j_buf_to_val(tg__j_rt *rt, const tgx_buf *b, tg__j_val *out);
/* Appends with the output limit's message. */
tg_status tg__j_append(tg__j_rt *rt, tgx_buf *b, const char *p, size_t n);
void tg__j_buf_init(tg__j_rt *rt, tgx_buf *b);

/* String length in UTF-16 code units (JS .length). */
size_t tg__j_utf16_len(const char *p, size_t n);

/* JSON (jansson) -> value, as convertToRuntimeValues after JSON.parse. */
tg_status tg__j_from_json(tg__j_rt *rt, const struct json_t *j, tg__j_val *out, size_t depth);

/* JSON text -> value, as json_loadb (with JSON_ALLOW_NUL when allow_nul; a
 * NUL in a key refused) then tg__j_from_json, accepting and refusing exactly
 * what jansson does (chat_body.c). s[0..n) is parsed in place: strings are
 * unescaped and NUL-terminated there and the values point into it, so s must
 * hold n + 1 bytes and outlive the values. *height: the deepest nesting
 * (0 for a scalar). */
tg_status tg__j_parse_json(tg__j_rt *rt, char *s, size_t n, int allow_nul, tg__j_val *out, size_t *height);
/* Nesting height of a value (0 for a scalar). */
size_t tg__j_val_height(const tg__j_val *v);
/* JavaScript's array-index keys ("0".."4294967294"): 1 and *out the index. */
int tg__j_index_key(const char *k, size_t n, uint64_t *out);

/* Renders t with the context dict make_ctx builds in the render's arena
 * (template.c; tg_template_render converts a json_t with it). t may be NULL
 * when make_ctx sets rt->tpl (a chat picks its template from the request). */
typedef tg_status (*tg__j_ctx_fn)(tg__j_rt *rt, void *user, tg__j_val *root);
tg_status tg__j_render_with(const tg_template *t, const tg_render_options *opt, tg__j_ctx_fn make_ctx, void *user,
                            char **out, size_t *out_len, tg_error *err);

/* tojson: indent < 0 for none; sep_item/sep_key NULL for the defaults. */
typedef struct tg__j_json_opts {
    long indent;
    int ensure_ascii;
    int sort_keys;
    int undef_as_null;
    tg__j_str sep_item, sep_key;
    int have_seps;
} tg__j_json_opts;
tg_status tg__j_tojson(tg__j_rt *rt, tgx_buf *b, const tg__j_val *v, const tg__j_json_opts *o, size_t depth);
/* JSON.stringify of a string, optionally made ASCII-safe. */
tg_status tg__j_json_string(tg__j_rt *rt, tgx_buf *b, const char *p, size_t n, int ensure_ascii);

/* ---- evaluation ---------------------------------------------------------------- */

tg_status tg__j_eval(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tg__j_val *out);
tg_status tg__j_call(tg__j_rt *rt, const tg__j_val *fn, tg__j_val *args, size_t nargs, tg__j_env *env,
                   tg__j_val *out);
tg_status tg__j_env_set(tg__j_rt *rt, tg__j_env *env, tg__j_str name, tg__j_val v);
tg__j_env *tg__j_env_new(tg__j_rt *rt, tg__j_env *parent);
/* Evaluates positional and keyword arguments; *kw is a dict value (V_DICT,
 * VF_KWARGS) or undefined when there are none. */
tg_status tg__j_eval_args(tg__j_rt *rt, const tg__j_nodes *args, tg__j_env *env, tg__j_val **pos,
                        size_t *npos, tg__j_val *kw);

/* filters.c */
tg_status tg__j_apply_filter(tg__j_rt *rt, const tg__j_val *operand, const tg__j_node *filter,
                           tg__j_env *env, tg__j_val *out);
/* Runs test `name` on a (b: the optional second operand). */
tg_status tg__j_run_test(tg__j_rt *rt, tg__j_str name, const tg__j_val *a, const tg__j_val *b, int *res);
int tg__j_test_known(tg__j_str name);

/* methods.c: member lookup of built-in methods and properties ("builtins"). */
int tg__j_builtin_member(tg__j_rt *rt, const tg__j_val *self, tg__j_str name, tg__j_val *out);
tg_status tg__j_call_method(tg__j_rt *rt, const tg__j_fn *fn, tg__j_val *args, size_t nargs, tg__j_val *out);
/* Global functions: raise_exception, range, strftime_now, namespace. */
enum { B_RAISE, B_RANGE, B_STRFTIME, B_NAMESPACE };
tg_status tg__j_call_builtin(tg__j_rt *rt, int id, tg__j_val *args, size_t nargs, tg__j_val *out);
/* String helpers shared with filters. */
tg_status tg__j_str_upper(tg__j_rt *rt, tg__j_str s, int upper, tg__j_val *out);
tg_status tg__j_str_trim(tg__j_rt *rt, tg__j_str s, int left, int right, tg__j_val *out);
tg_status tg__j_str_title(tg__j_rt *rt, tg__j_str s, tg__j_val *out);
tg_status tg__j_str_capitalize(tg__j_rt *rt, tg__j_str s, tg__j_val *out);
tg_status tg__j_str_replace(tg__j_rt *rt, tg__j_str s, tg__j_str from, tg__j_str to, long count, tg__j_val *out);
int tg__j_dict_builtin(tg__j_str name); /* method id or -1 */

#endif
