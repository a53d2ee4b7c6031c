/*
 * postproc.c: HF post-processors, reduced to what they do to the ids of one
 * sequence when add_special_tokens is true: ids around it.
 *   TemplateProcessing: the "single" template: SpecialToken pieces before and
 *     after {"Sequence": {"id": "A"}}, each expanding to its "ids" from
 *     "special_tokens".
 *   RobertaProcessing / BertProcessing: cls + A + sep.
 *   ByteLevel: only offsets: nothing.
 *   Sequence: applied in order (the later ones wrap the earlier ones).
 * Pairs are not used by tokgate. Other types are refused at load.
 */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

void tg__postproc_free(tg__postproc *pp) {
    free(pp->prefix);
    free(pp->suffix);
    memset(pp, 0, sizeof *pp);
}

static tg_status push(uint32_t **arr, size_t *n, uint32_t id, tg_error *err) {
    uint32_t *p = realloc(*arr, (*n + 1) * sizeof *p);
    if (!p) return tg_error_set(err, TG_ENOMEM, "out of memory");
    p[(*n)++] = id;
    *arr = p;
    return TG_OK;
}

static tg_status get_id(const json_t *v, uint32_t *id, const char *where, tg_error *err) {
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= (json_int_t)TG__MAX_VOCAB)
        return tg_error_set(err, TG_ECORRUPT, "%s: token id must be an integer in [0, %u)", where, (unsigned)TG__MAX_VOCAB);
    *id = (uint32_t)json_integer_value(v);
    return TG_OK;
}

static tg_status one(const json_t *j, uint32_t **pre, size_t *npre, uint32_t **suf, size_t *nsuf,
                     int depth, tg_error *err) {
    if (json_is_null(j) || !j) return TG_OK;
    if (depth > 8) return tg_error_set(err, TG_ELIMIT, "post-processor nesting deeper than 8");
    const char *type = json_string_value(json_object_get(j, "type"));
    if (!type) return tg_error_set(err, TG_ECORRUPT, "post-processor without a \"type\"");
    tg_status st;
    if (strcmp(type, "ByteLevel") == 0) return TG_OK;
    if (strcmp(type, "Sequence") == 0) {
        json_t *arr = json_object_get(j, "processors");
        if (!json_is_array(arr)) return tg_error_set(err, TG_ECORRUPT, "Sequence post-processor without \"processors\"");
        for (size_t i = 0; i < json_array_size(arr); i++) {
            uint32_t *p2 = NULL, *s2 = NULL;
            size_t np2 = 0, ns2 = 0;
            if ((st = one(json_array_get(arr, i), &p2, &np2, &s2, &ns2, depth + 1, err))) {
                free(p2);
                free(s2);
                return st;
            }
            /* wrap: new prefix = p2 + old prefix; new suffix = old suffix + s2 */
            uint32_t *np = malloc((np2 + *npre + 1) * sizeof *np);
            uint32_t *ns = malloc((ns2 + *nsuf + 1) * sizeof *ns);
            if (!np || !ns) { free(np); free(ns); free(p2); free(s2); return tg_error_set(err, TG_ENOMEM, "out of memory"); }
            if (np2) memcpy(np, p2, np2 * sizeof *np);
            if (*npre) memcpy(np + np2, *pre, *npre * sizeof *np);
            if (*nsuf) memcpy(ns, *suf, *nsuf * sizeof *ns);
            if (ns2) memcpy(ns + *nsuf, s2, ns2 * sizeof *ns);
            free(*pre);
            free(*suf);
            free(p2);
            free(s2);
            *pre = np;
            *suf = ns;
            *npre += np2;
            *nsuf += ns2;
        }
        return TG_OK;
    }
    if (strcmp(type, "RobertaProcessing") == 0 || strcmp(type, "BertProcessing") == 0) {
        json_t *cls = json_object_get(j, "cls"), *sep = json_object_get(j, "sep");
        uint32_t c = 0, s = 0;
        if (!json_is_array(cls) || !json_is_array(sep))
            return tg_error_set(err, TG_ECORRUPT, "%s: \"cls\" and \"sep\" must be [token, id]", type);
        if ((st = get_id(json_array_get(cls, 1), &c, type, err)) || (st = get_id(json_array_get(sep, 1), &s, type, err)))
            return st;
        if ((st = push(pre, npre, c, err))) return st;
        return push(suf, nsuf, s, err);
    }
    if (strcmp(type, "TemplateProcessing") == 0) {
        json_t *single = json_object_get(j, "single"), *specials = json_object_get(j, "special_tokens");
        if (!json_is_array(single)) return tg_error_set(err, TG_ECORRUPT, "TemplateProcessing without \"single\"");
        int seen_a = 0;
        for (size_t i = 0; i < json_array_size(single); i++) {
            json_t *piece = json_array_get(single, i);
            json_t *sp = json_object_get(piece, "SpecialToken"), *sq = json_object_get(piece, "Sequence");
            if (sq) {
                const char *sid = json_string_value(json_object_get(sq, "id"));
                if (!sid || strcmp(sid, "A") != 0 || seen_a)
                    return tg_error_set(err, TG_EUNSUPPORTED, "TemplateProcessing: the single template must hold sequence A once");
                seen_a = 1;
                continue;
            }
            const char *name = json_string_value(json_object_get(sp, "id"));
            if (!name) return tg_error_set(err, TG_ECORRUPT, "TemplateProcessing: piece %zu is neither SpecialToken nor Sequence", i);
            json_t *ids = json_object_get(json_object_get(specials, name), "ids");
            if (!json_is_array(ids))
                return tg_error_set(err, TG_ECORRUPT, "TemplateProcessing: special token \"%s\" has no ids", name);
            for (size_t k = 0; k < json_array_size(ids); k++) {
                uint32_t id = 0;
                if ((st = get_id(json_array_get(ids, k), &id, "TemplateProcessing", err))) return st;
                if ((st = seen_a ? push(suf, nsuf, id, err) : push(pre, npre, id, err))) return st;
            }
        }
        if (!seen_a) return tg_error_set(err, TG_EUNSUPPORTED, "TemplateProcessing: the single template has no sequence A");
        return TG_OK;
    }
    return tg_error_set(err, TG_EUNSUPPORTED, "post-processor type \"%s\" is not supported", type);
}

tg_status tg__postproc_from_json(tg__postproc *pp, const json_t *j, tg_error *err) {
    memset(pp, 0, sizeof *pp);
    tg_status st = one(j, &pp->prefix, &pp->n_prefix, &pp->suffix, &pp->n_suffix, 0, err);
    if (st) tg__postproc_free(pp);
    return st;
}
