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

typedef struct tg__chunk tg__chunk;
typedef struct tg__arena {
    tg__chunk *head;
    size_t total; /* bytes handed out */
    size_t max;   /* ceiling on total */
} tg__arena;

void tg__arena_init(tg__arena *a, size_t max);
/* Zeroed memory, 16-byte aligned; NULL when the ceiling or malloc fails. */
void *tg__arena_alloc(tg__arena *a, size_t n);
void *tg__arena_dup(tg__arena *a, const void *p, size_t n); /* n bytes + NUL */
void tg__arena_free(tg__arena *a);

typedef struct tg__str {
    const char *p;
    size_t n;
} tg__str;

int tg__str_eq(tg__str a, const char *lit);

/* ---- tokens ------------------------------------------------------------------ */

enum {
    TK_TEXT, TK_NUM, TK_STR, TK_IDENT, TK_EQUALS, TK_LPAREN, TK_RPAREN,
    TK_OPEN_STMT, TK_CLOSE_STMT, TK_OPEN_EXPR, TK_CLOSE_EXPR,
    TK_LBRACKET, TK_RBRACKET, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_DOT, TK_COLON,
    TK_PIPE, TK_ADD, TK_MUL, TK_POW, TK_CMP, TK_UNARY, TK_COMMENT
};

typedef struct tg__tok {
    int type;
    tg__str v;  /* value: text, literal (escapes resolved), operator, name */
    size_t off; /* offset in the original source */
} tg__tok;

/* Line and column (1-based) of byte offset off in src. */
void tg__source_pos(const char *src, size_t len, size_t off, size_t *line, size_t *col);

/* Preprocesses and tokenizes src into arena memory. */
tg_status tg__lex(const char *src, size_t len, tg__arena *a, tg__tok **toks, size_t *ntoks,
                  tg_error *err);

/* JavaScript's \s (and String.prototype.trim's set): byte length of the
 * whitespace character at s[0..n), 0 when there is none. */
size_t tg__js_space(const char *s, size_t n);

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

typedef struct tg__node tg__node;
typedef struct tg__nodes {
    tg__node **v;
    size_t n;
} tg__nodes;

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
struct tg__node {
    int kind;
    int op;
    int flag;
    size_t off;
    tg__str s;
    int64_t i;
    double f;
    tg__node *a, *b, *c;
    tg__nodes list, list2;
};

tg_status tg__parse(const tg__tok *toks, size_t ntoks, tg__arena *a, const char *src, size_t len,
                    tg__nodes *program, tg_error *err);

struct tg_template {
    tg__arena arena;
    char *src; /* original source, for error positions */
    size_t len;
    tg__nodes program;
};

/* ---- values --------------------------------------------------------------------- */

enum { V_UNDEF, V_NULL, V_BOOL, V_INT, V_FLOAT, V_STR, V_LIST, V_DICT, V_NS, V_FUNC };

/* flags */
#define VF_TUPLE  1u /* TupleValue */
#define VF_KWARGS 2u /* KeywordArgumentsValue (a dict) */

typedef struct tg__list tg__list;
typedef struct tg__dict tg__dict;
typedef struct tg__fn tg__fn;

typedef struct tg__val {
    uint8_t t;
    uint8_t flags;
    union {
        int b;
        int64_t i;
        double f;
        tg__str s;
        tg__list *l;
        tg__dict *d; /* V_DICT and V_NS */
        tg__fn *fn;
    } u;
} tg__val;

struct tg__list {
    size_t n, cap;
    tg__val *v;
};

struct tg__dict {
    size_t n, cap;
    tg__str *k;
    tg__val *v;
};

typedef struct tg__env tg__env;
struct tg__env {
    tg__env *parent;
    size_t n, cap;
    tg__str *names;
    tg__val *vals;
};

/* Function kinds. */
enum { F_MACRO, F_CALLER, F_BUILTIN, F_METHOD };

struct tg__fn {
    int kind;
    int id;               /* builtin or method id */
    const tg__node *node; /* MACRO / CALLBLOCK node */
    tg__env *env;         /* CALLER: where the call block stands */
    tg__val self;         /* METHOD: the receiver */
};

/* The state of one render. */
typedef struct tg__rt {
    tg__arena arena;
    tg_error *err;
    const tg_template *tpl;
    tg_template_limits lim;
    int64_t now;
    size_t depth;
    size_t iterations;
    const tg__node *at; /* node being evaluated, for error positions */
} tg__rt;

#define TG__BREAK    100 /* internal statuses, never returned to the caller */
#define TG__CONTINUE 101

/* Runtime error at the current node: sets rt->err with "line L, column C: ". */
tg_status tg__fail(tg__rt *rt, tg_status code, const char *fmt, ...) TG_PRINTF(3, 4);

tg__val tg__undef(void);
tg__val tg__null(void);
tg__val tg__bool(int b);
tg__val tg__int(int64_t i);
tg__val tg__float(double f);
tg__val tg__strv(const char *p, size_t n); /* borrows p */
tg_status tg__str_copy(tg__rt *rt, const char *p, size_t n, tg__val *out);
tg_status tg__list_new(tg__rt *rt, size_t cap, tg__val *out);
tg_status tg__list_push(tg__rt *rt, tg__list *l, tg__val v);
tg_status tg__dict_new(tg__rt *rt, size_t cap, int type, tg__val *out);
/* Sets key (replacing in place when present, else appending). */
tg_status tg__dict_set(tg__rt *rt, tg__dict *d, tg__str k, tg__val v);
/* NULL when absent. */
tg__val *tg__dict_get(const tg__dict *d, tg__str k);
tg_status tg__fn_new(tg__rt *rt, int kind, int id, tg__val *out, tg__fn **fn);

const char *tg__type_name(const tg__val *v); /* "StringValue" etc., as the reference */
int tg__truthy(const tg__val *v);
int tg__is_numeric(const tg__val *v); /* int or float */
double tg__num(const tg__val *v);     /* int/float/bool as double */

/* JS `==` on the values' underlying JS values; `===` likewise. */
int tg__loose_eq(const tg__val *a, const tg__val *b);
int tg__strict_eq(const tg__val *a, const tg__val *b);
/* compareRuntimeValues: -1/0/1, or TG_EINVAL (message set) when incomparable. */
tg_status tg__compare(tg__rt *rt, const tg__val *a, const tg__val *b, int case_sensitive, int *res);

/* Appends the printed form (RuntimeValue.toString) of v. */
tg_status tg__print(tg__rt *rt, tgx_buf *b, const tg__val *v);
/* Appends String(v.value) (JS toString of the underlying value: floats
 * without ".0", arrays joined with ",", maps as "[object Map]"). */
tg_status tg__js_string(tg__rt *rt, tgx_buf *b, const tg__val *v);
/* Number formatting: JS Number.prototype.toString. */
void tg__js_number(double d, char out[40]);
/* Buffer -> string value (copied into the arena). */
tg_status tg__buf_to_val(tg__rt *rt, const tgx_buf *b, tg__val *out);
/* Appends with the output limit's message. */
tg_status tg__append(tg__rt *rt, tgx_buf *b, const char *p, size_t n);
void tg__buf_init(tg__rt *rt, tgx_buf *b);

/* String length in UTF-16 code units (JS .length). */
size_t tg__utf16_len(const char *p, size_t n);

/* JSON (jansson) -> value, as convertToRuntimeValues after JSON.parse. */
tg_status tg__from_json(tg__rt *rt, const struct json_t *j, tg__val *out, size_t depth);

/* tojson: indent < 0 for none; sep_item/sep_key NULL for the defaults. */
typedef struct tg__json_opts {
    long indent;
    int ensure_ascii;
    int sort_keys;
    int undef_as_null;
    tg__str sep_item, sep_key;
    int have_seps;
} tg__json_opts;
tg_status tg__tojson(tg__rt *rt, tgx_buf *b, const tg__val *v, const tg__json_opts *o, size_t depth);
/* JSON.stringify of a string, optionally made ASCII-safe. */
tg_status tg__json_string(tg__rt *rt, tgx_buf *b, const char *p, size_t n, int ensure_ascii);

/* ---- evaluation ---------------------------------------------------------------- */

tg_status tg__eval(tg__rt *rt, const tg__node *n, tg__env *env, tg__val *out);
tg_status tg__call(tg__rt *rt, const tg__val *fn, tg__val *args, size_t nargs, tg__env *env,
                   tg__val *out);
tg_status tg__env_set(tg__rt *rt, tg__env *env, tg__str name, tg__val v);
tg__env *tg__env_new(tg__rt *rt, tg__env *parent);
/* Evaluates positional and keyword arguments; *kw is a dict value (V_DICT,
 * VF_KWARGS) or undefined when there are none. */
tg_status tg__eval_args(tg__rt *rt, const tg__nodes *args, tg__env *env, tg__val **pos,
                        size_t *npos, tg__val *kw);

/* filters.c */
tg_status tg__apply_filter(tg__rt *rt, const tg__val *operand, const tg__node *filter,
                           tg__env *env, tg__val *out);
/* Runs test `name` on a (b: the optional second operand). */
tg_status tg__run_test(tg__rt *rt, tg__str name, const tg__val *a, const tg__val *b, int *res);
int tg__test_known(tg__str name);

/* methods.c: member lookup of built-in methods and properties ("builtins"). */
int tg__builtin_member(tg__rt *rt, const tg__val *self, tg__str name, tg__val *out);
tg_status tg__call_method(tg__rt *rt, const tg__fn *fn, tg__val *args, size_t nargs, tg__val *out);
/* Global functions: raise_exception, range, strftime_now, namespace. */
enum { B_RAISE, B_RANGE, B_STRFTIME, B_NAMESPACE };
tg_status tg__call_builtin(tg__rt *rt, int id, tg__val *args, size_t nargs, tg__val *out);
/* String helpers shared with filters. */
tg_status tg__str_upper(tg__rt *rt, tg__str s, int upper, tg__val *out);
tg_status tg__str_trim(tg__rt *rt, tg__str s, int left, int right, tg__val *out);
tg_status tg__str_title(tg__rt *rt, tg__str s, tg__val *out);
tg_status tg__str_capitalize(tg__rt *rt, tg__str s, tg__val *out);
tg_status tg__str_replace(tg__rt *rt, tg__str s, tg__str from, tg__str to, long count, tg__val *out);
int tg__dict_builtin(tg__str name); /* method id or -1 */

#endif
