/*
 * template/eval.c: the interpreter, after @huggingface/jinja's Interpreter.
 *
 * Statements write straight into an output buffer; expressions produce values.
 * Scoping is the reference's: a for loop opens a scope (a `set` inside it does
 * not leak out; use a namespace), `if` does not; a macro runs in a scope whose
 * parent is the *caller's* scope (the reference resolves names dynamically);
 * a call block's body runs where the call block stands.
 *
 * Two reference behaviours worth knowing:
 *  - `break` / `continue` discard the output of the iteration they end, and
 *    a loop whose every iteration ended that way renders its `else` block;
 *  - printing undefined or none prints nothing, but most operations on them
 *    (arithmetic, comparisons other than == and !=, most filters) fail.
 *
 * Limits (tg_template_limits): output bytes, evaluation depth (every nested
 * expression, statement and call counts one), loop iterations over the whole
 * render, working memory. Breaking one fails the render with the limit named.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "template/tpl.h"
#include "util/utf8.h"

static tg_status exec_block(tg__j_rt *rt, const tg__j_nodes *body, tg__j_env *env, tgx_buf *out);

tg__j_env *tg__j_env_new(tg__j_rt *rt, tg__j_env *parent) {
    tg__j_env *e = tg__j_arena_alloc(&rt->arena, sizeof *e);
    if (e) e->parent = parent;
    return e;
}

static tg_status nomem(tg__j_rt *rt) {
    return tg__j_fail(rt, TG_ELIMIT, "render memory above the %zu-byte limit", rt->lim.max_memory);
}

tg_status tg__j_env_set(tg__j_rt *rt, tg__j_env *env, tg__j_str name, tg__j_val v) {
    for (size_t i = 0; i < env->n; i++)
        if (env->names[i].n == name.n && memcmp(env->names[i].p, name.p, name.n) == 0) {
            env->vals[i] = v;
            return TG_OK;
        }
    if (env->n == env->cap) {
        size_t cap = env->cap ? env->cap * 2 : 4;
        tg__j_str *nn = tg__j_arena_alloc(&rt->arena, cap * sizeof *nn);
        tg__j_val *nv = tg__j_arena_alloc(&rt->arena, cap * sizeof *nv);
        if (!nn || !nv) return nomem(rt);
        if (env->n) {
            memcpy(nn, env->names, env->n * sizeof *nn);
            memcpy(nv, env->vals, env->n * sizeof *nv);
        }
        env->names = nn;
        env->vals = nv;
        env->cap = cap;
    }
    env->names[env->n] = name;
    env->vals[env->n] = v;
    env->n++;
    return TG_OK;
}

static tg__j_val lookup(const tg__j_env *env, tg__j_str name) {
    for (; env; env = env->parent)
        for (size_t i = env->n; i-- > 0;)
            if (env->names[i].n == name.n && memcmp(env->names[i].p, name.p, name.n) == 0)
                return env->vals[i];
    return tg__j_undef();
}

static tg__j_env *make_env(tg__j_rt *rt, tg__j_env *parent, tg_status *st) {
    tg__j_env *e = tg__j_env_new(rt, parent);
    *st = e ? TG_OK : nomem(rt);
    return e;
}

static tg_status deeper(tg__j_rt *rt) {
    if (++rt->depth > rt->lim.max_depth)
        return tg__j_fail(rt, TG_ELIMIT, "evaluation nested deeper than the %zu-level limit (recursion?)",
                        rt->lim.max_depth);
    return TG_OK;
}

tg_status tg__j_eval_args(tg__j_rt *rt, const tg__j_nodes *args, tg__j_env *env, tg__j_val **pos,
                        size_t *npos, tg__j_val *kw) {
    tg_status st;
    tg__j_val list;
    if ((st = tg__j_list_new(rt, args->n + 1, &list))) return st;
    for (size_t i = 0; i < args->n; i++) {
        const tg__j_node *a = args->v[i];
        if (a->kind == N_KWARG || a->kind == N_KWSPREAD) continue;
        tg__j_val v;
        if ((st = tg__j_eval(rt, a->kind == N_SPREAD ? a->a : a, env, &v))) return st;
        if (a->kind == N_SPREAD) {
            if (v.t != V_LIST) return tg__j_fail(rt, TG_EINVAL, "Cannot unpack non-iterable type: %s", tg__j_type_name(&v));
            for (size_t j = 0; j < v.u.l->n; j++)
                if ((st = tg__j_list_push(rt, list.u.l, v.u.l->v[j]))) return st;
        } else if ((st = tg__j_list_push(rt, list.u.l, v))) {
            return st;
        }
    }
    *kw = tg__j_undef();
    for (size_t i = 0; i < args->n; i++) {
        const tg__j_node *a = args->v[i];
        if (a->kind != N_KWARG && a->kind != N_KWSPREAD) continue;
        if (kw->t == V_UNDEF) {
            if ((st = tg__j_dict_new(rt, 4, V_DICT, kw))) return st;
            kw->flags = VF_KWARGS;
        }
        tg__j_val v;
        if ((st = tg__j_eval(rt, a->a, env, &v))) return st;
        if (a->kind == N_KWARG) {
            if (tg__j_dict_get(kw->u.d, a->s))
                return tg__j_fail(rt, TG_EINVAL, "Got multiple values for keyword argument '%.*s'", (int)a->s.n, a->s.p);
            if ((st = tg__j_dict_set(rt, kw->u.d, a->s, v))) return st;
        } else {
            if (v.t != V_DICT)
                return tg__j_fail(rt, TG_EINVAL, "Argument after ** must be a mapping, not %s", tg__j_type_name(&v));
            for (size_t j = 0; j < v.u.d->n; j++) {
                if (tg__j_dict_get(kw->u.d, v.u.d->k[j]))
                    return tg__j_fail(rt, TG_EINVAL, "Got multiple values for keyword argument '%.*s'",
                                    (int)v.u.d->k[j].n, v.u.d->k[j].p);
                if ((st = tg__j_dict_set(rt, kw->u.d, v.u.d->k[j], v.u.d->v[j]))) return st;
            }
        }
    }
    *pos = list.u.l->v;
    *npos = list.u.l->n;
    return TG_OK;
}

/* bindMacroArguments: positional, then keyword, then defaults evaluated in
 * the macro scope once every name is bound. */
static tg_status bind_args(tg__j_rt *rt, const char *who, const tg__j_nodes *params, int special,
                           tg__j_val *args, size_t nargs, tg__j_env *scope) {
    tg_status st;
    tg__j_dict *kw = NULL;
    if (nargs && args[nargs - 1].t == V_DICT && (args[nargs - 1].flags & VF_KWARGS)) {
        tg__j_val copy;
        if ((st = tg__j_dict_new(rt, 4, V_DICT, &copy))) return st;
        const tg__j_dict *src = args[nargs - 1].u.d;
        for (size_t i = 0; i < src->n; i++)
            if ((st = tg__j_dict_set(rt, copy.u.d, src->k[i], src->v[i]))) return st;
        kw = copy.u.d;
        nargs--;
    }
    const tg__j_node *pending[256];
    size_t npending = 0;
    for (size_t i = 0; i < params->n; i++) {
        const tg__j_node *p = params->v[i];
        tg__j_str name = p->s;
        tg__j_val v = tg__j_undef();
        int have = 0;
        if (i < nargs) { v = args[i]; have = 1; }
        if (!have && kw) {
            tg__j_val *k = tg__j_dict_get(kw, name);
            if (k) {
                v = *k;
                have = 1;
                /* delete */
                size_t j = (size_t)(k - kw->v);
                memmove(&kw->k[j], &kw->k[j + 1], (kw->n - j - 1) * sizeof(tg__j_str));
                memmove(&kw->v[j], &kw->v[j + 1], (kw->n - j - 1) * sizeof(tg__j_val));
                kw->n--;
            }
        }
        if (!have && p->kind == N_KWARG) {
            if (npending == sizeof pending / sizeof pending[0])
                return tg__j_fail(rt, TG_ELIMIT, "more than 256 default parameters");
            pending[npending++] = p;
        }
        if ((st = tg__j_env_set(rt, scope, name, v))) return st;
    }
    if (special & 1) {
        tg__j_val d;
        if ((st = tg__j_dict_new(rt, 4, V_DICT, &d))) return st;
        if (kw) d.u.d = kw;
        if ((st = tg__j_env_set(rt, scope, (tg__j_str){"kwargs", 6}, d))) return st;
    } else if (kw && kw->n > 0) {
        return tg__j_fail(rt, TG_EINVAL, "macro %s takes no keyword argument '%.*s'", who, (int)kw->k[0].n, kw->k[0].p);
    }
    if (special & 2) {
        tg__j_val l;
        if ((st = tg__j_list_new(rt, 0, &l))) return st;
        for (size_t i = params->n; i < nargs; i++)
            if ((st = tg__j_list_push(rt, l.u.l, args[i]))) return st;
        if ((st = tg__j_env_set(rt, scope, (tg__j_str){"varargs", 7}, l))) return st;
    } else if (nargs > params->n) {
        return tg__j_fail(rt, TG_EINVAL, "macro %s takes not more than %zu argument(s)", who, params->n);
    }
    for (size_t i = 0; i < npending; i++) {
        tg__j_val v;
        if ((st = tg__j_eval(rt, pending[i]->a, scope, &v))) return st;
        if ((st = tg__j_env_set(rt, scope, pending[i]->s, v))) return st;
    }
    return TG_OK;
}

static tg_status render_to_value(tg__j_rt *rt, const tg__j_nodes *body, tg__j_env *env, tg__j_val *out) {
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    tg_status st = exec_block(rt, body, env, &b);
    if (st == TG__BREAK || st == TG__CONTINUE) {
        /* break/continue escaping a macro propagate in the reference; keep them. */
        tgx_buf_free(&b);
        return st;
    }
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

tg_status tg__j_call(tg__j_rt *rt, const tg__j_val *fnv, tg__j_val *args, size_t nargs, tg__j_env *env,
                   tg__j_val *out) {
    tg_status st;
    if (fnv->t != V_FUNC)
        return tg__j_fail(rt, TG_EINVAL, "Cannot call something that is not a function: got %s", tg__j_type_name(fnv));
    const tg__j_fn *fn = fnv->u.fn;
    switch (fn->kind) {
    case F_BUILTIN: return tg__j_call_builtin(rt, fn->id, args, nargs, out);
    case F_METHOD: return tg__j_call_method(rt, fn, args, nargs, out);
    case F_MACRO: {
        if ((st = deeper(rt))) return st;
        tg__j_env *scope = make_env(rt, env, &st);
        if (st) return st;
        char who[80];
        snprintf(who, sizeof who, "'%.*s'", (int)(fn->node->s.n < 60 ? fn->node->s.n : 60), fn->node->s.p);
        if ((st = bind_args(rt, who, &fn->node->list, fn->node->flag, args, nargs, scope))) return st;
        st = render_to_value(rt, &fn->node->list2, scope, out);
        rt->depth--;
        return st;
    }
    default: { /* F_CALLER */
        if ((st = deeper(rt))) return st;
        tg__j_env *scope = make_env(rt, fn->env, &st);
        if (st) return st;
        if ((st = bind_args(rt, "None", &fn->node->list, fn->node->flag, args, nargs, scope))) return st;
        st = render_to_value(rt, &fn->node->list2, scope, out);
        rt->depth--;
        return st;
    }
    }
}

/* utils.ts slice(): Python-style bounds with a step; step 0 yields nothing. */
static void slice_bounds(int64_t len, const tg__j_val *a, const tg__j_val *b, const tg__j_val *c,
                         int64_t *start, int64_t *stop, int64_t *step) {
    int64_t st = c->t == V_INT ? c->u.i : 1;
    int dir = st > 0 ? 1 : st < 0 ? -1 : 0;
    int64_t s, e;
    if (dir >= 0) {
        s = a->t == V_INT ? a->u.i : 0;
        s = s < 0 ? (len + s > 0 ? len + s : 0) : (s < len ? s : len);
        e = b->t == V_INT ? b->u.i : len;
        e = e < 0 ? (len + e > 0 ? len + e : 0) : (e < len ? e : len);
    } else {
        s = a->t == V_INT ? a->u.i : len - 1;
        s = s < 0 ? (len + s > -1 ? len + s : -1) : (s < len - 1 ? s : len - 1);
        e = b->t == V_INT ? b->u.i : -1;
        e = e < -1 ? (len + e > -1 ? len + e : -1) : (e < len - 1 ? e : len - 1);
    }
    *start = s;
    *stop = e;
    *step = st;
}

static tg_status eval_slice(tg__j_rt *rt, const tg__j_val *obj, const tg__j_node *sl, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    if (obj->t != V_LIST && obj->t != V_STR)
        return tg__j_fail(rt, TG_EINVAL, "Slice object must be an array or string");
    tg__j_val a = tg__j_undef(), b = tg__j_undef(), c = tg__j_undef();
    if (sl->a && (st = tg__j_eval(rt, sl->a, env, &a))) return st;
    if (sl->b && (st = tg__j_eval(rt, sl->b, env, &b))) return st;
    if (sl->c && (st = tg__j_eval(rt, sl->c, env, &c))) return st;
    if (a.t != V_INT && a.t != V_UNDEF) return tg__j_fail(rt, TG_EINVAL, "Slice start must be numeric or undefined");
    if (b.t != V_INT && b.t != V_UNDEF) return tg__j_fail(rt, TG_EINVAL, "Slice stop must be numeric or undefined");
    if (c.t != V_INT && c.t != V_UNDEF) return tg__j_fail(rt, TG_EINVAL, "Slice step must be numeric or undefined");
    int64_t s, e, step;
    if (obj->t == V_LIST) {
        slice_bounds((int64_t)obj->u.l->n, &a, &b, &c, &s, &e, &step);
        if ((st = tg__j_list_new(rt, 0, out))) return st;
        int dir = step > 0 ? 1 : step < 0 ? -1 : 0;
        for (int64_t i = s; dir * i < dir * e; i += step)
            if ((st = tg__j_list_push(rt, out->u.l, obj->u.l->v[i]))) return st;
        return TG_OK;
    }
    /* Strings slice by code point (Array.from(string)). */
    const char *p = obj->u.s.p;
    size_t n = obj->u.s.n, ncp = 0;
    for (size_t i = 0; i < n; i++) if (((unsigned char)p[i] & 0xC0) != 0x80) ncp++;
    size_t *starts = tg__j_arena_alloc(&rt->arena, (ncp + 1) * sizeof(size_t));
    if (!starts) return nomem(rt);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) if (((unsigned char)p[i] & 0xC0) != 0x80) starts[k++] = i;
    starts[ncp] = n;
    slice_bounds((int64_t)ncp, &a, &b, &c, &s, &e, &step);
    tgx_buf buf;
    tg__j_buf_init(rt, &buf);
    int dir = step > 0 ? 1 : step < 0 ? -1 : 0;
    st = TG_OK;
    for (int64_t i = s; dir * i < dir * e && !st; i += step)
        st = tg__j_append(rt, &buf, p + starts[i], starts[i + 1] - starts[i]);
    if (!st) st = tg__j_buf_to_val(rt, &buf, out);
    tgx_buf_free(&buf);
    return st;
}

static tg_status eval_member(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    tg__j_val obj, prop;
    if ((st = tg__j_eval(rt, n->a, env, &obj))) return st;
    rt->at = n;
    if (n->flag) {
        if (n->b->kind == N_SLICE) return eval_slice(rt, &obj, n->b, env, out);
        if ((st = tg__j_eval(rt, n->b, env, &prop))) return st;
        rt->at = n;
    } else if (n->b->kind == N_INT) {
        prop = tg__j_int(n->b->i);
    } else {
        prop = tg__j_strv(n->b->s.p, n->b->s.n);
    }
    *out = tg__j_undef();
    if (rt->llamacpp && prop.t == V_UNDEF) return TG_OK; /* member_expression: an undefined key gives undefined */
    if (obj.t == V_DICT || obj.t == V_NS) {
        if (prop.t != V_STR)
            return tg__j_fail(rt, TG_EINVAL, "Cannot access property with non-string: got %s", tg__j_type_name(&prop));
        tg__j_val *v = tg__j_dict_get(obj.u.d, prop.u.s);
        if (v) *out = *v;
        else if (obj.t == V_DICT) tg__j_builtin_member(rt, &obj, prop.u.s, out);
        return TG_OK;
    }
    if (obj.t == V_LIST || obj.t == V_STR) {
        if (prop.t == V_INT) {
            if (obj.t == V_LIST) {
                int64_t len = (int64_t)obj.u.l->n, i = prop.u.i;
                if (i < 0) i += len;
                if (i >= 0 && i < len) *out = obj.u.l->v[i];
                return TG_OK;
            }
            /* String index by code point. */
            const char *p = obj.u.s.p;
            size_t n2 = obj.u.s.n, ncp = 0;
            for (size_t i = 0; i < n2; i++) if (((unsigned char)p[i] & 0xC0) != 0x80) ncp++;
            int64_t i = prop.u.i;
            if (i < 0) i += (int64_t)ncp;
            if (i < 0 || i >= (int64_t)ncp) return TG_OK;
            size_t k = 0, at = 0;
            for (; at < n2; at++) {
                if (((unsigned char)p[at] & 0xC0) != 0x80) {
                    if ((int64_t)k == i) break;
                    k++;
                }
            }
            size_t end = at + 1;
            while (end < n2 && ((unsigned char)p[end] & 0xC0) == 0x80) end++;
            *out = tg__j_strv(p + at, end - at);
            return TG_OK;
        }
        if (prop.t == V_STR) {
            tg__j_builtin_member(rt, &obj, prop.u.s, out);
            return TG_OK;
        }
        return tg__j_fail(rt, TG_EINVAL, "Cannot access property with non-string/non-number: got %s", tg__j_type_name(&prop));
    }
    if (prop.t != V_STR)
        return tg__j_fail(rt, TG_EINVAL, "Cannot access property with non-string: got %s", tg__j_type_name(&prop));
    if (rt->llamacpp && !n->flag && (obj.t == V_UNDEF || obj.t == V_NULL) && tg__j_lc_member_missing(rt, &obj, prop.u.s, out) < 0)
        return nomem(rt);
    return TG_OK; /* undefined.x, none.x, 1.x: undefined */
}

static tg_status concat(tg__j_rt *rt, const tg__j_val *l, const tg__j_val *r, tg__j_val *out) {
    if (l->t == V_STR && r->t == V_STR) { /* the common case, straight into the arena */
        size_t n = l->u.s.n + r->u.s.n;
        if (n > rt->lim.max_output)
            return tg__j_fail(rt, TG_ELIMIT, "a string above the %zu-byte output limit", rt->lim.max_output);
        if (r->u.s.n == 0) { *out = *l; return TG_OK; }
        if (l->u.s.n == 0) { *out = *r; return TG_OK; }
        char *p = tg__j_arena_alloc_raw(&rt->arena, n + 1);
        if (!p) return nomem(rt);
        memcpy(p, l->u.s.p, l->u.s.n);
        memcpy(p + l->u.s.n, r->u.s.p, r->u.s.n);
        p[n] = '\0';
        *out = tg__j_strv(p, n);
        return TG_OK;
    }
    tgx_buf b;
    tg__j_buf_init(rt, &b);
    /* llama.cpp: left->as_string() + right->as_string() (True, 1.5, Python reprs) */
    tg_status st = rt->llamacpp ? tg__j_lc_string(rt, &b, l, 0) : tg__j_js_string(rt, &b, l);
    if (!st) st = rt->llamacpp ? tg__j_lc_string(rt, &b, r, 0) : tg__j_js_string(rt, &b, r);
    if (!st) st = tg__j_buf_to_val(rt, &b, out);
    tgx_buf_free(&b);
    return st;
}

static int str_contains(tg__j_str hay, tg__j_str needle) {
    if (needle.n == 0) return 1;
    if (needle.n > hay.n) return 0;
    return tg__j_find(hay.p, hay.n, needle.p, needle.n) != NULL;
}

static const char *op_name(int op) {
    static const char *names[] = {"", "and", "or", "==", "!=", "<", ">", "<=", ">=", "in", "not in",
                                  "+", "-", "~", "*", "/", "//", "%", "**", "not", "-", "+"};
    return op > 0 && op <= OP_POS ? names[op] : "?";
}

static tg_status arith(tg__j_rt *rt, int op, const tg__j_val *l, const tg__j_val *r, tg__j_val *out) {
    int fl = l->t == V_FLOAT || r->t == V_FLOAT;
    if (!fl) {
        int64_t a = l->u.i, b = r->u.i, res;
        switch (op) {
        case OP_ADD: if (__builtin_add_overflow(a, b, &res)) goto ovf; *out = tg__j_int(res); return TG_OK;
        case OP_SUB: if (__builtin_sub_overflow(a, b, &res)) goto ovf; *out = tg__j_int(res); return TG_OK;
        case OP_MUL: if (__builtin_mul_overflow(a, b, &res)) goto ovf; *out = tg__j_int(res); return TG_OK;
        case OP_FLOORDIV:
            if (b == 0) return tg__j_fail(rt, TG_EUNSUPPORTED, "integer division by zero");
            *out = tg__j_int((int64_t)floor((double)a / (double)b));
            if (a % b == 0 && !(a == INT64_MIN && b == -1)) *out = tg__j_int(a / b);
            return TG_OK;
        case OP_MOD:
            if (b == 0) return tg__j_fail(rt, TG_EUNSUPPORTED, "integer modulo by zero");
            if (b == -1) { *out = tg__j_int(0); return TG_OK; }
            *out = tg__j_int(a % b); /* JS remainder: sign of the dividend */
            return TG_OK;
        default: break;
        }
    }
    double a = tg__j_num(l), b = tg__j_num(r);
    switch (op) {
    case OP_ADD: *out = tg__j_float(a + b); return TG_OK;
    case OP_SUB: *out = tg__j_float(a - b); return TG_OK;
    case OP_MUL: *out = tg__j_float(a * b); return TG_OK;
    case OP_DIV: *out = tg__j_float(a / b); return TG_OK;
    case OP_FLOORDIV: *out = tg__j_float(floor(a / b)); return TG_OK;
    case OP_MOD: *out = tg__j_float(fmod(a, b)); return TG_OK;
    case OP_LT: *out = tg__j_bool(a < b); return TG_OK;
    case OP_GT: *out = tg__j_bool(a > b); return TG_OK;
    case OP_GE: *out = tg__j_bool(a >= b); return TG_OK;
    case OP_LE: *out = tg__j_bool(a <= b); return TG_OK;
    default: break;
    }
    return TG_EINVAL;
ovf:
    return tg__j_fail(rt, TG_EUNSUPPORTED, "integer overflow in '%s'", op_name(op));
}

static tg_status eval_binary(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    tg__j_val l, r;
    if ((st = tg__j_eval(rt, n->a, env, &l))) return st;
    if (n->op == OP_AND) return tg__j_truthy(&l) ? tg__j_eval(rt, n->b, env, out) : (*out = l, TG_OK);
    if (n->op == OP_OR) return tg__j_truthy(&l) ? (*out = l, TG_OK) : tg__j_eval(rt, n->b, env, out);
    if ((st = tg__j_eval(rt, n->b, env, &r))) return st;
    rt->at = n;
    int op = n->op;
    if (op == OP_EQ || op == OP_NE) {
        int eq = rt->llamacpp ? tg__j_lc_eq(&l, &r) : tg__j_loose_eq(&l, &r);
        *out = tg__j_bool(op == OP_EQ ? eq : !eq);
        return TG_OK;
    }
    if (rt->llamacpp && (op == OP_ADD || op == OP_CONCAT) && tg__j_lc_concat_missing(&l, &r, out)) return TG_OK;
    if (l.t == V_UNDEF || r.t == V_UNDEF) {
        if (r.t == V_UNDEF && (op == OP_IN || op == OP_NOTIN)) { *out = tg__j_bool(op == OP_NOTIN); return TG_OK; }
        return tg__j_fail(rt, TG_EINVAL, "Cannot perform operation %s on undefined values", op_name(op));
    }
    if (l.t == V_NULL || r.t == V_NULL) return tg__j_fail(rt, TG_EINVAL, "Cannot perform operation on null values");
    if (op == OP_CONCAT) return concat(rt, &l, &r, out);
    int ln = tg__j_is_numeric(&l) || l.t == V_BOOL, rn = tg__j_is_numeric(&r) || r.t == V_BOOL;
    if (op == OP_POW && ln && rn) {
        double a = tg__j_num(&l), b = tg__j_num(&r);
        if (a == 0 && b < 0) return tg__j_fail(rt, TG_EINVAL, "0.0 cannot be raised to a negative power");
        double res = pow(a, b);
        if (!isfinite(res)) return tg__j_fail(rt, TG_EINVAL, "Exponentiation result is not a finite real number");
        int fl = l.t == V_FLOAT || r.t == V_FLOAT || b < 0;
        if (!fl && fabs(res) < 9.2e18) *out = tg__j_int((int64_t)res);
        else *out = tg__j_float(res);
        return TG_OK;
    }
    if (tg__j_is_numeric(&l) && tg__j_is_numeric(&r)) {
        st = arith(rt, op, &l, &r, out);
        if (st != TG_EINVAL) return st;
    } else if (l.t == V_LIST && r.t == V_LIST && op == OP_ADD) {
        if ((st = tg__j_list_new(rt, l.u.l->n + r.u.l->n, out))) return st;
        for (size_t i = 0; i < l.u.l->n; i++) out->u.l->v[out->u.l->n++] = l.u.l->v[i];
        for (size_t i = 0; i < r.u.l->n; i++) out->u.l->v[out->u.l->n++] = r.u.l->v[i];
        return TG_OK;
    } else if (r.t == V_LIST && (op == OP_IN || op == OP_NOTIN)) {
        int member = 0;
        for (size_t i = 0; i < r.u.l->n && !member; i++)
            member = rt->llamacpp ? tg__j_lc_eq(&r.u.l->v[i], &l) : tg__j_strict_eq(&r.u.l->v[i], &l);
        *out = tg__j_bool(op == OP_IN ? member : !member);
        return TG_OK;
    }
    if ((l.t == V_STR || r.t == V_STR) && op == OP_ADD) return concat(rt, &l, &r, out);
    if (l.t == V_STR && r.t == V_STR && (op == OP_IN || op == OP_NOTIN)) {
        int c = str_contains(r.u.s, l.u.s);
        *out = tg__j_bool(op == OP_IN ? c : !c);
        return TG_OK;
    }
    if (l.t == V_STR && r.t == V_DICT && (op == OP_IN || op == OP_NOTIN)) {
        int c = tg__j_dict_get(r.u.d, l.u.s) != NULL;
        *out = tg__j_bool(op == OP_IN ? c : !c);
        return TG_OK;
    }
    return tg__j_fail(rt, TG_EINVAL, "Unknown operator \"%s\" between %s and %s", op_name(op), tg__j_type_name(&l),
                    tg__j_type_name(&r));
}

tg_status tg__j_eval(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tg__j_val *out) {
    tg_status st;
    if ((st = deeper(rt))) return st;
    rt->at = n;
    switch (n->kind) {
    case N_INT: *out = tg__j_int(n->i); break;
    case N_FLOAT: *out = tg__j_float(n->f); break;
    case N_STR:
    case N_TEXT: *out = tg__j_strv(n->s.p, n->s.n); break;
    case N_IDENT: *out = lookup(env, n->s); break;
    case N_ARRAY:
    case N_TUPLE: {
        if ((st = tg__j_list_new(rt, n->list.n, out))) break;
        if (n->kind == N_TUPLE) out->flags = VF_TUPLE;
        for (size_t i = 0; i < n->list.n; i++) {
            tg__j_val v;
            if ((st = tg__j_eval(rt, n->list.v[i], env, &v))) break;
            out->u.l->v[out->u.l->n++] = v;
        }
        break;
    }
    case N_OBJECT: {
        if ((st = tg__j_dict_new(rt, n->list.n, V_DICT, out))) break;
        for (size_t i = 0; i < n->list.n; i++) {
            tg__j_val k, v;
            if ((st = tg__j_eval(rt, n->list.v[i], env, &k))) break;
            if (k.t != V_STR) {
                rt->at = n->list.v[i];
                st = tg__j_fail(rt, TG_EINVAL, "Object keys must be strings: got %s", tg__j_type_name(&k));
                break;
            }
            if ((st = tg__j_eval(rt, n->list2.v[i], env, &v))) break;
            if ((st = tg__j_dict_set(rt, out->u.d, k.u.s, v))) break;
        }
        break;
    }
    case N_MEMBER: st = eval_member(rt, n, env, out); break;
    case N_CALL: {
        tg__j_val *args, kw, fn;
        size_t nargs;
        if ((st = tg__j_eval_args(rt, &n->list, env, &args, &nargs, &kw))) break;
        if (kw.t != V_UNDEF && kw.u.d->n > 0) {
            tg__j_val *a2 = tg__j_arena_alloc(&rt->arena, (nargs + 1) * sizeof *a2);
            if (!a2) { st = nomem(rt); break; }
            if (nargs) memcpy(a2, args, nargs * sizeof *a2);
            a2[nargs++] = kw;
            args = a2;
        }
        if ((st = tg__j_eval(rt, n->a, env, &fn))) break;
        rt->at = n;
        st = tg__j_call(rt, &fn, args, nargs, env, out);
        break;
    }
    case N_BINARY: st = eval_binary(rt, n, env, out); break;
    case N_UNARY: {
        tg__j_val a;
        if ((st = tg__j_eval(rt, n->a, env, &a))) break;
        rt->at = n;
        if (n->op == OP_NOT) { *out = tg__j_bool(!tg__j_truthy(&a)); break; }
        int neg = n->op == OP_NEG;
        if (a.t == V_FLOAT) *out = tg__j_float(neg ? -a.u.f : a.u.f);
        else if (a.t == V_INT) {
            if (neg && a.u.i == INT64_MIN) { st = tg__j_fail(rt, TG_EUNSUPPORTED, "integer overflow in '-'"); break; }
            *out = tg__j_int(neg ? -a.u.i : a.u.i);
        } else if (a.t == V_BOOL) *out = tg__j_int(neg ? -(int64_t)a.u.b : a.u.b);
        else st = tg__j_fail(rt, TG_EINVAL, "Unknown operator \"%s\" for %s", neg ? "-" : "+", tg__j_type_name(&a));
        break;
    }
    case N_FILTER: {
        tg__j_val a;
        if ((st = tg__j_eval(rt, n->a, env, &a))) break;
        rt->at = n;
        st = tg__j_apply_filter(rt, &a, n->b, env, out);
        break;
    }
    case N_TEST: {
        tg__j_val a;
        if ((st = tg__j_eval(rt, n->a, env, &a))) break;
        rt->at = n;
        int res;
        if ((st = tg__j_run_test(rt, n->s, &a, NULL, &res))) break;
        *out = tg__j_bool(n->flag ? !res : res);
        break;
    }
    case N_SELECT: {
        tg__j_val c;
        if ((st = tg__j_eval(rt, n->b, env, &c))) break;
        if (!tg__j_truthy(&c)) { *out = tg__j_undef(); break; }
        st = tg__j_eval(rt, n->a, env, out);
        break;
    }
    case N_TERNARY: {
        tg__j_val c;
        if ((st = tg__j_eval(rt, n->a, env, &c))) break;
        st = tg__j_eval(rt, tg__j_truthy(&c) ? n->b : n->c, env, out);
        break;
    }
    default:
        st = tg__j_fail(rt, TG_EINVAL, "a statement where an expression was expected");
        break;
    }
    rt->depth--;
    return st;
}

static tg_status assign(tg__j_rt *rt, const tg__j_node *target, const tg__j_val *v, tg__j_env *env, int in_for) {
    tg_status st;
    if (target->kind == N_IDENT) return tg__j_env_set(rt, env, target->s, *v);
    if (target->kind == N_TUPLE) {
        if (in_for ? (v->t != V_LIST || (v->flags & VF_TUPLE)) : v->t != V_LIST)
            return tg__j_fail(rt, TG_EINVAL, in_for ? "Cannot unpack non-iterable type: %s"
                                                  : "Cannot unpack non-iterable type in set: %s", tg__j_type_name(v));
        if (v->u.l->n != target->list.n)
            return tg__j_fail(rt, TG_EINVAL, "Too %s items to unpack%s", target->list.n > v->u.l->n ? "few" : "many",
                            in_for ? "" : " in set");
        for (size_t i = 0; i < target->list.n; i++) {
            const tg__j_node *e = target->list.v[i];
            if (e->kind != N_IDENT) return tg__j_fail(rt, TG_EINVAL, "Cannot unpack to a non-identifier");
            if ((st = tg__j_env_set(rt, env, e->s, v->u.l->v[i]))) return st;
        }
        return TG_OK;
    }
    if (target->kind == N_MEMBER && !in_for) {
        tg__j_val obj;
        if ((st = tg__j_eval(rt, target->a, env, &obj))) return st;
        rt->at = target;
        if (obj.t != V_NS) return tg__j_fail(rt, TG_EINVAL, "cannot assign attribute on non-namespace object");
        if (target->b->kind != N_IDENT)
            return tg__j_fail(rt, TG_EINVAL, "Cannot assign to member with non-identifier property");
        return tg__j_dict_set(rt, obj.u.d, target->b->s, *v);
    }
    return tg__j_fail(rt, TG_EINVAL, "Invalid target of an assignment");
}

static tg_status exec_for(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tgx_buf *out) {
    tg_status st;
    tg__j_env *scope = make_env(rt, env, &st);
    if (st) return st;
    const tg__j_node *test = NULL;
    tg__j_val it;
    if (n->b->kind == N_SELECT) {
        if ((st = tg__j_eval(rt, n->b->a, scope, &it))) return st;
        test = n->b->b;
    } else if ((st = tg__j_eval(rt, n->b, scope, &it))) {
        return st;
    }
    rt->at = n;
    if (rt->llamacpp && it.t == V_UNDEF && (st = tg__j_list_new(rt, 0, &it))) return st; /* an empty loop */
    if (it.t != V_LIST && it.t != V_DICT)
        return tg__j_fail(rt, TG_EINVAL, "Expected iterable or object type in for loop: got %s", tg__j_type_name(&it));
    tg__j_val items;
    if ((st = tg__j_list_new(rt, 0, &items))) return st;
    size_t total = it.t == V_LIST ? it.u.l->n : it.u.d->n;
    for (size_t i = 0; i < total; i++) {
        tg__j_val cur = it.t == V_LIST ? it.u.l->v[i] : tg__j_strv(it.u.d->k[i].p, it.u.d->k[i].n);
        if (n->a->kind == N_TUPLE) {
            rt->at = n;
            if (cur.t != V_LIST || (cur.flags & VF_TUPLE))
                return tg__j_fail(rt, TG_EINVAL, "Cannot unpack non-iterable type: %s", tg__j_type_name(&cur));
            if (cur.u.l->n != n->a->list.n)
                return tg__j_fail(rt, TG_EINVAL, "Too %s items to unpack", n->a->list.n > cur.u.l->n ? "few" : "many");
        }
        if (test) {
            if (++rt->iterations > rt->lim.max_iterations)
                return tg__j_fail(rt, TG_ELIMIT, "more than %zu loop iterations", rt->lim.max_iterations);
            tg__j_env *ls = make_env(rt, scope, &st);
            if (st) return st;
            if ((st = assign(rt, n->a, &cur, ls, 1))) return st;
            tg__j_val c;
            if ((st = tg__j_eval(rt, test, ls, &c))) return st;
            if (!tg__j_truthy(&c)) continue;
        }
        if ((st = tg__j_list_push(rt, items.u.l, cur))) return st;
    }
    size_t len = items.u.l->n;
    int none = 1;
    static const char *const keys[] = {"index", "index0", "revindex", "revindex0", "first",
                                       "last", "length", "previtem", "nextitem"};
    for (size_t i = 0; i < len; i++) {
        rt->at = n;
        if (++rt->iterations > rt->lim.max_iterations)
            return tg__j_fail(rt, TG_ELIMIT, "more than %zu loop iterations", rt->lim.max_iterations);
        tg__j_val loop;
        if ((st = tg__j_dict_new(rt, 9, V_DICT, &loop))) return st;
        tg__j_val vals[9] = {
            tg__j_int((int64_t)i + 1), tg__j_int((int64_t)i), tg__j_int((int64_t)(len - i)),
            tg__j_int((int64_t)(len - i - 1)), tg__j_bool(i == 0), tg__j_bool(i == len - 1),
            tg__j_int((int64_t)len), i > 0 ? items.u.l->v[i - 1] : tg__j_undef(),
            i + 1 < len ? items.u.l->v[i + 1] : tg__j_undef()};
        for (size_t k = 0; k < 9; k++)
            if ((st = tg__j_dict_set(rt, loop.u.d, (tg__j_str){keys[k], strlen(keys[k])}, vals[k]))) return st;
        if ((st = tg__j_env_set(rt, scope, (tg__j_str){"loop", 4}, loop))) return st;
        if ((st = assign(rt, n->a, &items.u.l->v[i], scope, 1))) return st;
        size_t mark = out->len;
        st = exec_block(rt, &n->list, scope, out);
        if (st == TG__CONTINUE || st == TG__BREAK) {
            out->len = mark; /* the iteration's output is discarded */
            if (out->data) out->data[mark] = '\0';
            if (st == TG__BREAK) break;
            continue;
        }
        if (st) return st;
        none = 0;
    }
    if (none) return exec_block(rt, &n->list2, scope, out);
    return TG_OK;
}

static tg_status print_value(tg__j_rt *rt, tgx_buf *out, const tg__j_val *v) {
    if (rt->llamacpp) return tg__j_lc_print(rt, out, v);
    if (v->t == V_NULL || v->t == V_UNDEF) return TG_OK;
    return tg__j_print(rt, out, v);
}

static tg_status exec(tg__j_rt *rt, const tg__j_node *n, tg__j_env *env, tgx_buf *out) {
    tg_status st = TG_OK;
    tg__j_val v;
    if ((st = deeper(rt))) return st;
    rt->at = n;
    switch (n->kind) {
    case N_TEXT: st = tg__j_append(rt, out, n->s.p, n->s.n); break;
    case N_COMMENT: break;
    case N_IF: {
        tg__j_val c;
        if ((st = tg__j_eval(rt, n->a, env, &c))) break;
        st = exec_block(rt, tg__j_truthy(&c) ? &n->list : &n->list2, env, out);
        break;
    }
    case N_FOR: st = exec_for(rt, n, env, out); break;
    case N_SET:
        if (n->b) st = tg__j_eval(rt, n->b, env, &v);
        else st = render_to_value(rt, &n->list, env, &v);
        if (!st) st = assign(rt, n->a, &v, env, 0);
        break;
    case N_MACRO: {
        tg__j_fn *fn;
        if ((st = tg__j_fn_new(rt, F_MACRO, 0, &v, &fn))) break;
        fn->node = n;
        st = tg__j_env_set(rt, env, n->s, v);
        break;
    }
    case N_CALLBLOCK: {
        tg__j_val caller, *args, kw, fnv;
        tg__j_fn *cf;
        size_t nargs;
        if ((st = tg__j_fn_new(rt, F_CALLER, 0, &caller, &cf))) break;
        cf->node = n;
        cf->env = env;
        const tg__j_node *call = n->a;
        if ((st = tg__j_eval_args(rt, &call->list, env, &args, &nargs, &kw))) break;
        if (kw.t == V_UNDEF) {
            if ((st = tg__j_dict_new(rt, 0, V_DICT, &kw))) break;
            kw.flags = VF_KWARGS;
        }
        tg__j_val *a2 = tg__j_arena_alloc(&rt->arena, (nargs + 1) * sizeof *a2);
        if (!a2) { st = nomem(rt); break; }
        if (nargs) memcpy(a2, args, nargs * sizeof *a2);
        a2[nargs++] = kw;
        if ((st = tg__j_eval(rt, call->a, env, &fnv))) break;
        rt->at = n;
        if (fnv.t != V_FUNC) {
            st = tg__j_fail(rt, TG_EINVAL, "Cannot call something that is not a function: got %s", tg__j_type_name(&fnv));
            break;
        }
        tg__j_env *ne = make_env(rt, env, &st);
        if (st) break;
        if ((st = tg__j_env_set(rt, ne, (tg__j_str){"caller", 6}, caller))) break;
        if ((st = tg__j_call(rt, &fnv, a2, nargs, ne, &v))) break;
        st = print_value(rt, out, &v);
        break;
    }
    case N_FILTERBLOCK: {
        tg__j_val body;
        if ((st = render_to_value(rt, &n->list, env, &body))) break;
        rt->at = n;
        if ((st = tg__j_apply_filter(rt, &body, n->b, env, &v))) break;
        st = print_value(rt, out, &v);
        break;
    }
    case N_BREAK: st = TG__BREAK; break;
    case N_CONTINUE: st = TG__CONTINUE; break;
    default:
        if ((st = tg__j_eval(rt, n, env, &v))) break;
        st = print_value(rt, out, &v);
        break;
    }
    rt->depth--;
    return st;
}

static tg_status exec_block(tg__j_rt *rt, const tg__j_nodes *body, tg__j_env *env, tgx_buf *out) {
    for (size_t i = 0; i < body->n; i++) {
        tg_status st = exec(rt, body->v[i], env, out);
        if (st) return st;
    }
    return TG_OK;
}

tg_status tg__j_exec_program(tg__j_rt *rt, const tg__j_nodes *program, tg__j_env *env, tgx_buf *out);
tg_status tg__j_exec_program(tg__j_rt *rt, const tg__j_nodes *program, tg__j_env *env, tgx_buf *out) {
    tg_status st = exec_block(rt, program, env, out);
    if (st == TG__BREAK || st == TG__CONTINUE) {
        rt->at = NULL;
        return tg__j_fail(rt, TG_EINVAL, "'%s' outside of a loop", st == TG__BREAK ? "break" : "continue");
    }
    return st;
}
