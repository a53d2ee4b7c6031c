/*
 * template/parser.c: tokens -> AST, the grammar of @huggingface/jinja.
 *
 * Statements: set (expression or block form, tuple targets, ns.attr targets),
 * if/elif/else, for (tuple targets, `if` filter, else), macro, call (with
 * caller parameters), filter blocks, break, continue. Any other statement name
 * ({% include %}, {% extends %}, {% raw %}, ...) is refused with its position.
 *
 * Expression precedence, loosest first (as the reference, which differs from
 * Python Jinja in places: `is` binds tighter than `*`, filters apply to a
 * signed operand):
 *   a if c else b | or | and | not | in, not in, == != < > <= >= |
 *   + - ~ | * / // % | ** | `is [not] test` | `|filter` | unary - + |
 *   call, .attr, [index], [a:b:c] | literal, name, (expr), (tuple), [list], {dict}
 * Parse depth is capped (TG_TEMPLATE_MAX_NESTING) so hostile nesting cannot
 * exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"

typedef struct parser {
    const tg__j_tok *t;
    size_t n, cur;
    tg__j_arena *a;
    const char *src;
    size_t len;
    tg_error *err;
    size_t depth;
} parser;

static tg_status pfail(parser *P, const char *fmt, ...) TG_PRINTF(2, 3);
static tg_status pfail(parser *P, const char *fmt, ...) {
    size_t off = P->cur < P->n ? P->t[P->cur].off : P->len;
    size_t line, col;
    tg__j_source_pos(P->src, P->len, off, &line, &col);
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return tg_error_set(P->err, TG_EINVAL, "template line %zu, column %zu: %s", line, col, msg);
}
#ifdef __clang_analyzer__
/* The analyzer does not follow variadic calls: tell it pfail yields TG_EINVAL. */
#define pfail(P, ...) ((void)pfail((P), __VA_ARGS__), (tg_status)TG_EINVAL)
#endif

static const char *tok_name(int t) {
    static const char *names[] = {"text", "number", "string", "identifier", "'='", "'('", "')'",
                                  "'{%'", "'%}'", "'{{'", "'}}'", "'['", "']'", "'{'", "'}'",
                                  "','", "'.'", "':'", "'|'", "operator", "operator", "'**'",
                                  "comparison", "unary operator", "comment"};
    return t >= 0 && t <= TK_COMMENT ? names[t] : "end of template";
}

static int is(parser *P, int type) { return P->cur < P->n && P->t[P->cur].type == type; }
static int is2(parser *P, int t1, int t2) {
    return P->cur + 1 < P->n && P->t[P->cur].type == t1 && P->t[P->cur + 1].type == t2;
}
static int is_ident(parser *P, const char *name) {
    return is(P, TK_IDENT) && tg__j_str_eq(P->t[P->cur].v, name);
}
static int is_stmt(parser *P, const char *name) {
    return P->cur + 1 < P->n && P->t[P->cur].type == TK_OPEN_STMT &&
           P->t[P->cur + 1].type == TK_IDENT && tg__j_str_eq(P->t[P->cur + 1].v, name);
}

static tg_status expect(parser *P, int type, const char *what) {
    if (!is(P, type)) {
        char msg[160];
        snprintf(msg, sizeof msg, "expected %s, got %s", what,
                 P->cur < P->n ? tok_name(P->t[P->cur].type) : "end of template");
        return pfail(P, "%s", msg);
    }
    P->cur++;
    return TG_OK;
}

static tg_status expect_ident(parser *P, const char *name) {
    if (!is_ident(P, name)) {
        char msg[80];
        snprintf(msg, sizeof msg, "expected '%s'", name);
        return pfail(P, "%s", msg);
    }
    P->cur++;
    return TG_OK;
}

static tg__j_node *mk(parser *P, int kind, size_t off) {
    tg__j_node *n = tg__j_arena_alloc(P->a, sizeof *n);
    if (n) {
        n->kind = kind;
        n->off = off;
    }
    return n;
}

#define MK(var, kind, off) do { (var) = mk(P, kind, off); \
    if (!(var)) return tg_error_set(P->err, TG_ENOMEM, "template: out of memory"); } while (0)

/* A growable node list in the arena. */
typedef struct nlist {
    tg__j_node **v;
    size_t n, cap;
} nlist;

static tg_status nl_push(parser *P, nlist *l, tg__j_node *x) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        tg__j_node **v = tg__j_arena_alloc(P->a, cap * sizeof *v); // NOLINT(bugprone-sizeof-expression): an array of node pointers
        if (!v) return tg_error_set(P->err, TG_ENOMEM, "template: out of memory");
        if (l->n) memcpy(v, l->v, l->n * sizeof *v); // NOLINT(bugprone-sizeof-expression): an array of node pointers
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = x;
    return TG_OK;
}

static tg__j_nodes nl_done(nlist *l) {
    tg__j_nodes r = {l->v, l->n};
    return r;
}

static tg_status parse_expr(parser *P, tg__j_node **out);
static tg_status parse_primary(parser *P, tg__j_node **out);
static tg_status parse_any(parser *P, tg__j_node **out);

static tg_status enter(parser *P) {
    if (++P->depth > TG_TEMPLATE_MAX_NESTING)
        return pfail(P, "nesting deeper than the %d-level limit", TG_TEMPLATE_MAX_NESTING);
    return TG_OK;
}

/* Body statements until one of the named statements opens. */
static tg_status parse_body(parser *P, const char *const *ends, size_t nends, nlist *body,
                            const char *owner) {
    tg_status st;
    for (;;) {
        if (P->cur >= P->n) {
            char msg[120];
            snprintf(msg, sizeof msg, "unexpected end of template: '%s' is not closed", owner);
            return pfail(P, "%s", msg);
        }
        for (size_t i = 0; i < nends; i++)
            if (is_stmt(P, ends[i])) return TG_OK;
        tg__j_node *x = NULL;
        if ((st = parse_any(P, &x))) return st;
        if ((st = nl_push(P, body, x))) return st;
    }
}

static tg_status parse_args(parser *P, int params, tg__j_nodes *out) {
    tg_status st;
    if ((st = expect(P, TK_LPAREN, "'(' opening the arguments"))) return st;
    nlist args = {0};
    int saw_kw = 0, saw_spread = 0;
    while (!is(P, TK_RPAREN)) {
        if (P->cur >= P->n) return pfail(P, "unexpected end of template in an argument list");
        int kwspread = is(P, TK_POW);
        int spread = is(P, TK_MUL) && tg__j_str_eq(P->t[P->cur].v, "*");
        if (params && (kwspread || spread))
            return pfail(P, "Argument unpacking is not allowed in parameter declarations");
        tg__j_node *arg;
        if (kwspread) {
            size_t off = P->t[P->cur].off;
            P->cur++;
            tg__j_node *e;
            if ((st = parse_expr(P, &e))) return st;
            MK(arg, N_KWSPREAD, off);
            arg->a = e;
            if ((st = nl_push(P, &args, arg))) return st;
            if (is(P, TK_COMMA)) P->cur++;
            if (!is(P, TK_RPAREN))
                return pfail(P, "Expected closing parenthesis: `**` must be applied to the final argument");
            break;
        }
        if (spread) {
            if (saw_spread) return pfail(P, "Only one `*` argument unpacking is allowed");
            saw_spread = 1;
            size_t off = P->t[P->cur].off;
            P->cur++;
            tg__j_node *e;
            if ((st = parse_expr(P, &e))) return st;
            MK(arg, N_SPREAD, off);
            arg->a = e;
        } else {
            if ((st = parse_expr(P, &arg))) return st;
            if (is(P, TK_EQUALS)) {
                P->cur++;
                if (arg->kind != N_IDENT)
                    return pfail(P, params ? "Expected identifier for parameter declaration"
                                           : "Expected identifier for keyword argument");
                tg__j_node *kw, *v;
                if ((st = parse_expr(P, &v))) return st;
                MK(kw, N_KWARG, arg->off);
                kw->s = arg->s;
                kw->a = v;
                arg = kw;
            }
            if (params) {
                if (arg->kind != N_IDENT && arg->kind != N_KWARG)
                    return pfail(P, "Expected identifier for parameter declaration");
                for (size_t i = 0; i < args.n; i++)
                    if (args.v[i]->s.n == arg->s.n && memcmp(args.v[i]->s.p, arg->s.p, arg->s.n) == 0)
                        return pfail(P, "Duplicate parameter name");
            }
            if (arg->kind == N_KWARG) saw_kw = 1;
            else if (saw_kw)
                return pfail(P, params ? "Non-default argument follows default argument"
                                       : "Positional arguments must come before keyword arguments");
            else if (saw_spread)
                return pfail(P, "Positional arguments must not follow `*` argument unpacking");
        }
        if ((st = nl_push(P, &args, arg))) return st;
        if (is(P, TK_COMMA)) P->cur++;
    }
    if ((st = expect(P, TK_RPAREN, "')' closing the arguments"))) return st;
    *out = nl_done(&args);
    return TG_OK;
}

static tg_status parse_member(parser *P, tg__j_node **obj);

static tg_status parse_call(parser *P, tg__j_node *callee, tg__j_node **out) {
    tg_status st;
    if ((st = enter(P))) return st;
    tg__j_node *c;
    MK(c, N_CALL, P->t[P->cur].off);
    c->a = callee;
    if ((st = parse_args(P, 0, &c->list))) return st;
    if ((st = parse_member(P, &c))) return st;
    if (is(P, TK_LPAREN)) {
        if ((st = parse_call(P, c, &c))) return st;
    }
    P->depth--;
    *out = c;
    return TG_OK;
}

/* [a], [a:b], [a:b:c], [::-1] ... */
static tg_status parse_subscript(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *parts[4] = {0};
    size_t np = 0;
    int slice = 0;
    size_t off = P->cur < P->n ? P->t[P->cur].off : P->len;
    while (!is(P, TK_RBRACKET)) {
        if (P->cur >= P->n) return pfail(P, "unexpected end of template in a subscript");
        if (np >= 4) return pfail(P, "Expected 0-3 arguments for slice expression");
        if (is(P, TK_COLON)) {
            parts[np++] = NULL;
            P->cur++;
            slice = 1;
        } else {
            if ((st = parse_expr(P, &parts[np]))) return st;
            np++;
            if (is(P, TK_COLON)) {
                P->cur++;
                slice = 1;
            }
        }
    }
    if (np == 0) return pfail(P, "Expected at least one argument for member/slice expression");
    if (slice) {
        if (np > 3) return pfail(P, "Expected 0-3 arguments for slice expression");
        tg__j_node *s;
        MK(s, N_SLICE, off);
        s->a = parts[0];
        s->b = np > 1 ? parts[1] : NULL;
        s->c = np > 2 ? parts[2] : NULL;
        *out = s;
        return TG_OK;
    }
    *out = parts[0];
    return TG_OK;
}

static tg_status parse_member(parser *P, tg__j_node **obj) {
    tg_status st;
    while (is(P, TK_DOT) || is(P, TK_LBRACKET)) {
        int computed = is(P, TK_LBRACKET);
        size_t off = P->t[P->cur].off;
        P->cur++;
        tg__j_node *prop;
        if (computed) {
            if ((st = enter(P))) return st;
            if ((st = parse_subscript(P, &prop))) return st;
            if ((st = expect(P, TK_RBRACKET, "']'"))) return st;
            P->depth--;
        } else {
            if ((st = parse_primary(P, &prop))) return st;
            if (prop->kind != N_IDENT && prop->kind != N_INT)
                return pfail(P, "Expected identifier or integer following dot operator");
        }
        tg__j_node *m;
        MK(m, N_MEMBER, off);
        m->a = *obj;
        m->b = prop;
        m->flag = computed;
        *obj = m;
    }
    return TG_OK;
}

static tg_status parse_sequence(parser *P, int primary, tg__j_node **out) {
    tg_status st;
    tg__j_node *first;
    size_t off = P->cur < P->n ? P->t[P->cur].off : P->len;
    if ((st = primary ? parse_primary(P, &first) : parse_expr(P, &first))) return st;
    if (!is(P, TK_COMMA)) { *out = first; return TG_OK; }
    nlist items = {0};
    if ((st = nl_push(P, &items, first))) return st;
    while (is(P, TK_COMMA)) {
        P->cur++;
        tg__j_node *x = NULL;
        if ((st = primary ? parse_primary(P, &x) : parse_expr(P, &x))) return st;
        if ((st = nl_push(P, &items, x))) return st;
    }
    tg__j_node *t;
    MK(t, N_TUPLE, off);
    t->list = nl_done(&items);
    *out = t;
    return TG_OK;
}

static int parse_number(const tg__j_str v, tg__j_node *n) {
    char tmp[64];
    if (v.n >= sizeof tmp) return -1;
    memcpy(tmp, v.p, v.n);
    tmp[v.n] = '\0';
    if (memchr(tmp, '.', v.n)) {
        n->kind = N_FLOAT;
        n->f = strtod(tmp, NULL);
        return 0;
    }
    errno = 0;
    long long x = strtoll(tmp, NULL, 10);
    if (errno == ERANGE) return -1;
    n->kind = N_INT;
    n->i = (int64_t)x;
    return 0;
}

static tg_status parse_primary(parser *P, tg__j_node **out) {
    tg_status st;
    if (P->cur >= P->n) return pfail(P, "unexpected end of template in an expression");
    const tg__j_tok *t = &P->t[P->cur++];
    tg__j_node *x = NULL;
    switch (t->type) {
    case TK_NUM:
        MK(x, N_INT, t->off);
        if (parse_number(t->v, x)) { P->cur--; return pfail(P, "number literal out of range"); }
        *out = x;
        return TG_OK;
    case TK_STR: {
        MK(x, N_STR, t->off);
        x->s = t->v;
        if (is(P, TK_STR)) { /* adjacent literals concatenate */
            size_t total = t->v.n, j = P->cur;
            while (j < P->n && P->t[j].type == TK_STR) total += P->t[j++].v.n;
            char *p = tg__j_arena_alloc(P->a, total + 1);
            if (!p) return tg_error_set(P->err, TG_ENOMEM, "template: out of memory");
            size_t o = 0;
            memcpy(p, t->v.p, t->v.n);
            o = t->v.n;
            while (is(P, TK_STR)) {
                memcpy(p + o, P->t[P->cur].v.p, P->t[P->cur].v.n);
                o += P->t[P->cur].v.n;
                P->cur++;
            }
            x->s.p = p;
            x->s.n = o;
        }
        *out = x;
        return TG_OK;
    }
    case TK_IDENT:
        MK(x, N_IDENT, t->off);
        x->s = t->v;
        *out = x;
        return TG_OK;
    case TK_LPAREN:
        if ((st = enter(P))) return st;
        if ((st = parse_sequence(P, 0, &x))) return st;
        if ((st = expect(P, TK_RPAREN, "')'"))) return st;
        P->depth--;
        *out = x;
        return TG_OK;
    case TK_LBRACKET: {
        if ((st = enter(P))) return st;
        nlist items = {0};
        while (!is(P, TK_RBRACKET)) {
            if (P->cur >= P->n) return pfail(P, "unexpected end of template in a list literal");
            tg__j_node *e;
            if ((st = parse_expr(P, &e))) return st;
            if ((st = nl_push(P, &items, e))) return st;
            if (is(P, TK_COMMA)) P->cur++;
        }
        P->cur++;
        MK(x, N_ARRAY, t->off);
        x->list = nl_done(&items);
        P->depth--;
        *out = x;
        return TG_OK;
    }
    case TK_LBRACE: {
        if ((st = enter(P))) return st;
        nlist keys = {0}, vals = {0};
        while (!is(P, TK_RBRACE)) {
            if (P->cur >= P->n) return pfail(P, "unexpected end of template in a dict literal");
            tg__j_node *k, *v;
            if ((st = parse_expr(P, &k))) return st;
            if ((st = expect(P, TK_COLON, "':' between key and value in a dict literal"))) return st;
            if ((st = parse_expr(P, &v))) return st;
            /* A Map keyed by AST node: every key is distinct, so duplicates in
             * the literal are all evaluated, the last value winning. */
            if ((st = nl_push(P, &keys, k)) || (st = nl_push(P, &vals, v))) return st;
            if (is(P, TK_COMMA)) P->cur++;
        }
        P->cur++;
        MK(x, N_OBJECT, t->off);
        x->list = nl_done(&keys);
        x->list2 = nl_done(&vals);
        P->depth--;
        *out = x;
        return TG_OK;
    }
    default:
        P->cur--;
        return pfail(P, "unexpected %s in an expression", tok_name(t->type));
    }
}

static tg_status parse_unary_sign(parser *P, tg__j_node **out) {
    tg_status st;
    if ((is(P, TK_UNARY) || is(P, TK_ADD)) &&
        (tg__j_str_eq(P->t[P->cur].v, "-") || tg__j_str_eq(P->t[P->cur].v, "+"))) {
        const tg__j_tok *t = &P->t[P->cur++];
        if ((st = enter(P))) return st;
        tg__j_node *arg, *u;
        if ((st = parse_unary_sign(P, &arg))) return st;
        P->depth--;
        MK(u, N_UNARY, t->off);
        u->op = t->v.p[0] == '-' ? OP_NEG : OP_POS;
        u->a = arg;
        *out = u;
        return TG_OK;
    }
    tg__j_node *m;
    if ((st = parse_primary(P, &m))) return st;
    if ((st = parse_member(P, &m))) return st;
    if (is(P, TK_LPAREN)) {
        if ((st = parse_call(P, m, &m))) return st;
    }
    *out = m;
    return TG_OK;
}

static tg_status parse_filter_expr(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *operand = NULL;
    if ((st = parse_unary_sign(P, &operand))) return st;
    while (is(P, TK_PIPE)) {
        size_t off = P->t[P->cur].off;
        P->cur++;
        tg__j_node *f;
        if ((st = parse_primary(P, &f))) return st;
        if (f->kind != N_IDENT) return pfail(P, "Expected identifier for the filter");
        if (is(P, TK_LPAREN)) {
            if ((st = parse_call(P, f, &f))) return st;
        }
        tg__j_node *x = NULL;
        MK(x, N_FILTER, off);
        x->a = operand;
        x->b = f;
        operand = x;
    }
    *out = operand;
    return TG_OK;
}

static tg_status parse_test_expr(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *operand = NULL;
    if ((st = parse_filter_expr(P, &operand))) return st;
    while (is_ident(P, "is")) {
        size_t off = P->t[P->cur].off;
        P->cur++;
        int neg = is_ident(P, "not");
        if (neg) P->cur++;
        tg__j_node *t;
        if ((st = parse_primary(P, &t))) return st;
        if (t->kind != N_IDENT) return pfail(P, "Expected identifier for the test");
        tg__j_node *x = NULL;
        MK(x, N_TEST, off);
        x->a = operand;
        x->s = t->s;
        x->flag = neg;
        operand = x;
    }
    *out = operand;
    return TG_OK;
}

static tg_status binary(parser *P, const tg__j_tok *op, int code, tg__j_node *l, tg__j_node *r, tg__j_node **out) {
    tg__j_node *x = NULL;
    MK(x, N_BINARY, op->off);
    x->op = code;
    x->a = l;
    x->b = r;
    *out = x;
    return TG_OK;
}

static tg_status parse_pow(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_test_expr(P, &l))) return st;
    while (is(P, TK_POW)) {
        const tg__j_tok *op = &P->t[P->cur++];
        if ((st = parse_test_expr(P, &r)) || (st = binary(P, op, OP_POW, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_mul(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_pow(P, &l))) return st;
    while (is(P, TK_MUL)) {
        const tg__j_tok *op = &P->t[P->cur++];
        int code = tg__j_str_eq(op->v, "*") ? OP_MUL : tg__j_str_eq(op->v, "/") ? OP_DIV
                 : tg__j_str_eq(op->v, "//") ? OP_FLOORDIV : OP_MOD;
        if ((st = parse_pow(P, &r)) || (st = binary(P, op, code, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_add(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_mul(P, &l))) return st;
    while (is(P, TK_ADD)) {
        const tg__j_tok *op = &P->t[P->cur++];
        int code = op->v.p[0] == '+' ? OP_ADD : op->v.p[0] == '-' ? OP_SUB : OP_CONCAT;
        if ((st = parse_mul(P, &r)) || (st = binary(P, op, code, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_cmp(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_add(P, &l))) return st;
    while (P->cur < P->n) { /* at the end no operator follows */
        const tg__j_tok *op = &P->t[P->cur];
        int code;
        if (is2(P, TK_IDENT, TK_IDENT) && is_ident(P, "not") && tg__j_str_eq(P->t[P->cur + 1].v, "in")) {
            code = OP_NOTIN;
            P->cur += 2;
        } else if (is_ident(P, "in")) {
            code = OP_IN;
            P->cur++;
        } else if (is(P, TK_CMP)) {
            tg__j_str v = op->v;
            code = tg__j_str_eq(v, "==") ? OP_EQ : tg__j_str_eq(v, "!=") ? OP_NE : tg__j_str_eq(v, "<") ? OP_LT
                 : tg__j_str_eq(v, ">") ? OP_GT : tg__j_str_eq(v, "<=") ? OP_LE : OP_GE;
            P->cur++;
        } else {
            break;
        }
        if ((st = parse_add(P, &r)) || (st = binary(P, op, code, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_not(parser *P, tg__j_node **out) {
    tg_status st;
    if (is_ident(P, "not")) {
        const tg__j_tok *op = &P->t[P->cur++];
        if ((st = enter(P))) return st;
        tg__j_node *arg, *u;
        if ((st = parse_not(P, &arg))) return st;
        P->depth--;
        MK(u, N_UNARY, op->off);
        u->op = OP_NOT;
        u->a = arg;
        *out = u;
        return TG_OK;
    }
    return parse_cmp(P, out);
}

static tg_status parse_and(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_not(P, &l))) return st;
    while (is_ident(P, "and")) {
        const tg__j_tok *op = &P->t[P->cur++];
        if ((st = parse_not(P, &r)) || (st = binary(P, op, OP_AND, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_or(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *l, *r;
    if ((st = parse_and(P, &l))) return st;
    while (is_ident(P, "or")) {
        const tg__j_tok *op = &P->t[P->cur++];
        if ((st = parse_and(P, &r)) || (st = binary(P, op, OP_OR, l, r, &l))) return st;
    }
    *out = l;
    return TG_OK;
}

static tg_status parse_if_expr(parser *P, tg__j_node **out) {
    tg_status st;
    tg__j_node *a;
    if ((st = parse_or(P, &a))) return st;
    if (is_ident(P, "if")) {
        size_t off = P->t[P->cur].off;
        P->cur++;
        tg__j_node *test, *x;
        if ((st = parse_or(P, &test))) return st;
        if (is_ident(P, "else")) {
            P->cur++;
            tg__j_node *f;
            if ((st = enter(P))) return st;
            if ((st = parse_if_expr(P, &f))) return st;
            P->depth--;
            MK(x, N_TERNARY, off);
            x->a = test;
            x->b = a;
            x->c = f;
        } else {
            MK(x, N_SELECT, off);
            x->a = a;
            x->b = test;
        }
        *out = x;
        return TG_OK;
    }
    *out = a;
    return TG_OK;
}

static tg_status parse_expr(parser *P, tg__j_node **out) {
    tg_status st;
    if ((st = enter(P))) return st;
    st = parse_if_expr(P, out);
    P->depth--;
    return st;
}

/* Marks a macro / call block whose body reads `kwargs` or `varargs`
 * without declaring them (findAccessedSpecialMacroArguments). */
static void scan_special(const tg__j_node *n, int *flags, size_t depth) {
    if (!n || depth > 400) return;
    if (n->kind == N_IDENT) {
        if (tg__j_str_eq(n->s, "kwargs")) *flags |= 1;
        if (tg__j_str_eq(n->s, "varargs")) *flags |= 2;
        return;
    }
    if (n->kind == N_MEMBER) {
        scan_special(n->a, flags, depth + 1);
        if (n->flag) scan_special(n->b, flags, depth + 1);
        return;
    }
    if (n->kind == N_TEST) { scan_special(n->a, flags, depth + 1); return; }
    if (n->kind == N_KWARG) { scan_special(n->a, flags, depth + 1); return; }
    if (n->kind == N_FILTER) {
        scan_special(n->a, flags, depth + 1);
        if (n->b && n->b->kind == N_CALL)
            for (size_t i = 0; i < n->b->list.n; i++) scan_special(n->b->list.v[i], flags, depth + 1);
        return;
    }
    scan_special(n->a, flags, depth + 1);
    scan_special(n->b, flags, depth + 1);
    scan_special(n->c, flags, depth + 1);
    for (size_t i = 0; i < n->list.n; i++) scan_special(n->list.v[i], flags, depth + 1);
    for (size_t i = 0; i < n->list2.n; i++) scan_special(n->list2.v[i], flags, depth + 1);
}

static int special_flags(const tg__j_nodes *params, const tg__j_nodes *body) {
    int flags = 0;
    for (size_t i = 0; i < body->n; i++) scan_special(body->v[i], &flags, 0);
    for (size_t i = 0; i < params->n; i++) {
        const tg__j_node *p = params->v[i];
        if (p->kind == N_KWARG) scan_special(p->a, &flags, 0);
    }
    for (size_t i = 0; i < params->n; i++) {
        if (tg__j_str_eq(params->v[i]->s, "kwargs")) flags &= ~1;
        if (tg__j_str_eq(params->v[i]->s, "varargs")) flags &= ~2;
    }
    return flags;
}

static tg_status parse_if(parser *P, size_t off, tg__j_node **out) {
    tg_status st;
    tg__j_node *x = NULL;
    MK(x, N_IF, off);
    if ((st = parse_expr(P, &x->a))) return st;
    if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
    static const char *const ends[] = {"elif", "else", "endif"};
    nlist body = {0}, alt = {0};
    if ((st = parse_body(P, ends, 3, &body, "if"))) return st;
    x->list = nl_done(&body);
    if (is_stmt(P, "elif")) {
        size_t eoff = P->t[P->cur + 1].off;
        P->cur += 2;
        if ((st = enter(P))) return st;
        tg__j_node *e;
        if ((st = parse_if(P, eoff, &e))) return st;
        P->depth--;
        if ((st = nl_push(P, &alt, e))) return st;
    } else if (is_stmt(P, "else")) {
        P->cur += 2;
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
        static const char *const endif[] = {"endif"};
        if ((st = parse_body(P, endif, 1, &alt, "if"))) return st;
    }
    x->list2 = nl_done(&alt);
    *out = x;
    return TG_OK;
}

static tg_status parse_statement(parser *P, tg__j_node **out) {
    tg_status st;
    size_t open = P->cur;
    if ((st = expect(P, TK_OPEN_STMT, "'{%'"))) return st;
    if (!is(P, TK_IDENT)) return pfail(P, "Unknown statement, got %s", P->cur < P->n ? tok_name(P->t[P->cur].type) : "end of template");
    const tg__j_tok *name = &P->t[P->cur];
    size_t off = name->off;
    tg__j_node *x = NULL;
    (void)open;
    if (tg__j_str_eq(name->v, "set")) {
        P->cur++;
        MK(x, N_SET, off);
        if ((st = parse_sequence(P, 0, &x->a))) return st;
        if (is(P, TK_EQUALS)) {
            P->cur++;
            if ((st = parse_sequence(P, 0, &x->b))) return st;
        } else {
            if ((st = expect(P, TK_CLOSE_STMT, "'%}' or '='"))) return st;
            static const char *const ends[] = {"endset"};
            nlist body = {0};
            if ((st = parse_body(P, ends, 1, &body, "set"))) return st;
            x->list = nl_done(&body);
            P->cur++;
            if ((st = expect_ident(P, "endset"))) return st;
        }
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
    } else if (tg__j_str_eq(name->v, "if")) {
        P->cur++;
        if ((st = parse_if(P, off, &x))) return st;
        if ((st = expect(P, TK_OPEN_STMT, "'{%'")) || (st = expect_ident(P, "endif")) ||
            (st = expect(P, TK_CLOSE_STMT, "'%}'")))
            return st;
    } else if (tg__j_str_eq(name->v, "macro")) {
        P->cur++;
        MK(x, N_MACRO, off);
        tg__j_node *nm;
        if ((st = parse_primary(P, &nm))) return st;
        if (nm->kind != N_IDENT) return pfail(P, "Expected identifier following macro statement");
        x->s = nm->s;
        if ((st = parse_args(P, 1, &x->list))) return st;
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
        static const char *const ends[] = {"endmacro"};
        nlist body = {0};
        if ((st = parse_body(P, ends, 1, &body, "macro"))) return st;
        x->list2 = nl_done(&body);
        x->flag = special_flags(&x->list, &x->list2);
        if ((st = expect(P, TK_OPEN_STMT, "'{%'")) || (st = expect_ident(P, "endmacro")) ||
            (st = expect(P, TK_CLOSE_STMT, "'%}'")))
            return st;
    } else if (tg__j_str_eq(name->v, "for")) {
        P->cur++;
        MK(x, N_FOR, off);
        if ((st = parse_sequence(P, 1, &x->a))) return st;
        if (x->a->kind != N_IDENT && x->a->kind != N_TUPLE)
            return pfail(P, "Expected identifier/tuple for the loop variable");
        if (!is_ident(P, "in")) return pfail(P, "Expected `in` keyword following loop variable");
        P->cur++;
        if ((st = parse_expr(P, &x->b))) return st;
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
        static const char *const ends[] = {"endfor", "else"};
        nlist body = {0}, alt = {0};
        if ((st = parse_body(P, ends, 2, &body, "for"))) return st;
        x->list = nl_done(&body);
        if (is_stmt(P, "else")) {
            P->cur += 2;
            if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
            static const char *const endfor[] = {"endfor"};
            if ((st = parse_body(P, endfor, 1, &alt, "for"))) return st;
        }
        x->list2 = nl_done(&alt);
        if ((st = expect(P, TK_OPEN_STMT, "'{%'")) || (st = expect_ident(P, "endfor")) ||
            (st = expect(P, TK_CLOSE_STMT, "'%}'")))
            return st;
    } else if (tg__j_str_eq(name->v, "call")) {
        P->cur++;
        MK(x, N_CALLBLOCK, off);
        if (is(P, TK_LPAREN)) {
            if ((st = parse_args(P, 1, &x->list))) return st;
            x->i = 1; /* has caller parameters */
        }
        tg__j_node *callee;
        if ((st = parse_primary(P, &callee))) return st;
        if (callee->kind != N_IDENT) return pfail(P, "Expected identifier following call statement");
        tg__j_node *c;
        MK(c, N_CALL, callee->off);
        c->a = callee;
        if ((st = parse_args(P, 0, &c->list))) return st;
        x->a = c;
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
        static const char *const ends[] = {"endcall"};
        nlist body = {0};
        if ((st = parse_body(P, ends, 1, &body, "call"))) return st;
        x->list2 = nl_done(&body);
        x->flag = special_flags(&x->list, &x->list2);
        if ((st = expect(P, TK_OPEN_STMT, "'{%'")) || (st = expect_ident(P, "endcall")) ||
            (st = expect(P, TK_CLOSE_STMT, "'%}'")))
            return st;
    } else if (tg__j_str_eq(name->v, "break") || tg__j_str_eq(name->v, "continue")) {
        P->cur++;
        MK(x, tg__j_str_eq(name->v, "break") ? N_BREAK : N_CONTINUE, off);
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
    } else if (tg__j_str_eq(name->v, "filter")) {
        P->cur++;
        MK(x, N_FILTERBLOCK, off);
        tg__j_node *f;
        if ((st = parse_primary(P, &f))) return st;
        if (f->kind == N_IDENT && is(P, TK_LPAREN)) {
            if ((st = parse_call(P, f, &f))) return st;
        }
        x->b = f;
        if ((st = expect(P, TK_CLOSE_STMT, "'%}'"))) return st;
        static const char *const ends[] = {"endfilter"};
        nlist body = {0};
        if ((st = parse_body(P, ends, 1, &body, "filter"))) return st;
        x->list = nl_done(&body);
        if ((st = expect(P, TK_OPEN_STMT, "'{%'")) || (st = expect_ident(P, "endfilter")) ||
            (st = expect(P, TK_CLOSE_STMT, "'%}'")))
            return st;
    } else {
        char nm[64];
        size_t l = name->v.n < 40 ? name->v.n : 40;
        memcpy(nm, name->v.p, l);
        nm[l] = '\0';
        return pfail(P, "unknown or unsupported statement '%s'", nm);
    }
    *out = x;
    return TG_OK;
}

static tg_status parse_any(parser *P, tg__j_node **out) {
    tg_status st;
    const tg__j_tok *t = &P->t[P->cur];
    tg__j_node *x = NULL;
    if ((st = enter(P))) return st;
    switch (t->type) {
    case TK_COMMENT:
        P->cur++;
        MK(x, N_COMMENT, t->off);
        *out = x;
        break;
    case TK_TEXT:
        P->cur++;
        MK(x, N_TEXT, t->off);
        x->s = t->v;
        *out = x;
        break;
    case TK_OPEN_STMT:
        if ((st = parse_statement(P, out))) return st;
        break;
    case TK_OPEN_EXPR:
        P->cur++;
        if ((st = parse_expr(P, out))) return st;
        if ((st = expect(P, TK_CLOSE_EXPR, "'}}'"))) return st;
        break;
    default:
        return pfail(P, "unexpected %s", tok_name(t->type));
    }
    P->depth--;
    return TG_OK;
}

tg_status tg__j_parse(const tg__j_tok *toks, size_t ntoks, tg__j_arena *a, const char *src, size_t len,
                    tg__j_nodes *program, tg_error *err) {
    parser P;
    memset(&P, 0, sizeof P);
    P.t = toks;
    P.n = ntoks;
    P.a = a;
    P.src = src;
    P.len = len;
    P.err = err;
    nlist body = {0};
    tg_status st;
    while (P.cur < P.n) {
        tg__j_node *x = NULL;
        if ((st = parse_any(&P, &x))) return st;
        if ((st = nl_push(&P, &body, x))) return st;
    }
    *program = nl_done(&body);
    return TG_OK;
}
