/*
 * policy/adaptive_state.c: the learned thinking budgets' state file
 * (tokgate/adaptive.h has the format). Saving writes PATH.tmp, fsyncs it,
 * renames it over PATH and fsyncs the folder (POSIX rename is atomic within
 * a file system), so a crash leaves the old file or the new one. Loading
 * checks everything before it touches the table: a file that is not
 * exactly this format and version leaves the table empty, with an error
 * naming what is wrong; the gateway logs it and starts empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/adaptive_int.h"
#include "util/buf.h"

#define FORMAT "tokgate-adaptive"

static json_t *model_json(const tg__amodel *m, uint32_t window) {
    json_t *o = json_object();
    uint32_t buf[TG_ADAPTIVE_WINDOW];
    char name[32];
    for (size_t c = 0; o && c < TG_ADAPTIVE_CLASSES; c++) {
        size_t n = tg__ring_samples(m->cls[c], window, buf);
        if (!n) continue;
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
            if (json_array_append_new(arr, json_integer((json_int_t)buf[i])) != 0) {
                json_decref(arr);
                arr = NULL;
            }
        tg_adaptive_class_name(tg_adaptive_class_at(c), name, sizeof name);
        if (!arr || json_object_set_new(o, name, arr) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *tg_adaptive_to_json(tg_adaptive *a) {
    json_t *models = json_object();
    json_t *o = json_pack("{s:s, s:i, s:i}", "format", FORMAT, "version", TG_ADAPTIVE_VERSION, "window",
                          (json_int_t)a->cfg.window);
    int ok = models && o;
    pthread_mutex_lock(&a->mu);
    for (size_t i = 0; ok && i < a->n; i++) {
        json_t *m = model_json(&a->models[i], a->cfg.window);
        ok = m && json_object_set_new(models, a->models[i].name, m) == 0;
    }
    pthread_mutex_unlock(&a->mu);
    if (!ok || json_object_set_new(o, "models", models) != 0) {
        if (!ok) json_decref(models);
        json_decref(o);
        return NULL;
    }
    return o;
}

static tg_status write_all(int fd, const char *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return TG_EIO;
        p += w;
        n -= (size_t)w;
    }
    return TG_OK;
}

/* fsync the folder holding PATH so the rename itself is durable. */
static void sync_dir(const char *path) {
    char dir[4096];
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    if (n >= sizeof dir) return;
    if (n == 0) snprintf(dir, sizeof dir, "%s", slash ? "/" : ".");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

tg_status tg_adaptive_save(tg_adaptive *a, const char *path, tg_error *err) {
    if (!a || !path || !*path) return tg_error_set(err, TG_EINVAL, "adaptive state: no file named");
    json_t *o = tg_adaptive_to_json(a);
    char *text = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL; /* never a document missing a key */
    json_decref(o);
    if (!text) return tg_error_set(err, TG_ENOMEM, "adaptive state %s: out of memory", path);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) {
        free(text);
        return tg_error_set(err, TG_ENOMEM, "adaptive state %s: out of memory", path);
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    tg_status st = TG_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        st = tg_error_set(err, TG_EIO, "adaptive state: cannot create %s: %s", tmp, strerror(errno));
    } else {
        int bad = write_all(fd, text, strlen(text)) != TG_OK || write_all(fd, "\n", 1) != TG_OK || fsync(fd) != 0;
        int e = errno;
        if (close(fd) != 0 && !bad) {
            bad = 1;
            e = errno;
        }
        if (bad) st = tg_error_set(err, TG_EIO, "adaptive state: writing %s: %s", tmp, strerror(e));
        else if (rename(tmp, path) != 0)
            st = tg_error_set(err, TG_EIO, "adaptive state: renaming %s to %s: %s", tmp, path, strerror(errno));
        if (st != TG_OK) unlink(tmp);
        else sync_dir(path);
    }
    free(tmp);
    free(text);
    return st;
}

/* One model's classes into M (the table is locked and M fresh). */
static tg_status load_model(tg_adaptive *a, tg__amodel *m, const char *mname, json_t *classes, tg_error *err) {
    if (!json_is_object(classes))
        return tg_error_set(err, TG_ECORRUPT, "model \"%.64s\": not an object of classes", mname);
    const char *cname;
    json_t *arr;
    json_object_foreach(classes, cname, arr) {
        tg_adaptive_class c;
        if (tg_adaptive_class_parse(cname, &c) != 0)
            return tg_error_set(err, TG_ECORRUPT, "model \"%.64s\": unknown class \"%.64s\"", mname, cname);
        if (!json_is_array(arr))
            return tg_error_set(err, TG_ECORRUPT, "model \"%.64s\" class %s: samples are not an array", mname,
                                cname);
        size_t n = json_array_size(arr), skip = n > a->cfg.window ? n - a->cfg.window : 0;
        tg__ring *r = tg__adaptive_ring(m, tg_adaptive_class_index(c));
        if (!r) return tg_error_set(err, TG_ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
            json_t *v = json_array_get(arr, i);
            json_int_t x = json_is_integer(v) ? json_integer_value(v) : -1;
            if (x < 0 || x > (json_int_t)TG_ADAPTIVE_MAX_SAMPLE)
                return tg_error_set(err, TG_ECORRUPT,
                                    "model \"%.64s\" class %s: sample %zu is not an integer in 0..%u", mname, cname,
                                    i, TG_ADAPTIVE_MAX_SAMPLE);
            if (i >= skip) tg__ring_push(r, a->cfg.window, (uint32_t)x);
        }
    }
    return TG_OK;
}

static tg_status load_json(tg_adaptive *a, json_t *o, tg_error *err) {
    if (!json_is_object(o)) return tg_error_set(err, TG_ECORRUPT, "not a JSON object");
    const char *fmt = json_string_value(json_object_get(o, "format"));
    if (!fmt || strcmp(fmt, FORMAT) != 0)
        return tg_error_set(err, TG_ECORRUPT, "\"format\" is not \"%s\"", FORMAT);
    json_t *ver = json_object_get(o, "version");
    if (!json_is_integer(ver) || json_integer_value(ver) != TG_ADAPTIVE_VERSION)
        return tg_error_set(err, TG_ECORRUPT, "version %lld, this tokgate reads version %d",
                            json_is_integer(ver) ? (long long)json_integer_value(ver) : -1LL, TG_ADAPTIVE_VERSION);
    json_t *models = json_object_get(o, "models");
    if (!json_is_object(models)) return tg_error_set(err, TG_ECORRUPT, "\"models\" is not an object");
    if (json_object_size(models) > TG_ADAPTIVE_MAX_MODELS)
        return tg_error_set(err, TG_ELIMIT, "%zu models, above the limit of %u", json_object_size(models),
                            TG_ADAPTIVE_MAX_MODELS);
    const char *mname;
    json_t *classes;
    json_object_foreach(models, mname, classes) {
        tg__amodel *m = tg__adaptive_model(a, mname, 1);
        if (!m) return tg_error_set(err, TG_ENOMEM, "out of memory");
        tg_status st = load_model(a, m, mname, classes, err);
        if (st != TG_OK) return st;
    }
    return TG_OK;
}

tg_status tg_adaptive_load_buf(tg_adaptive *a, const char *data, size_t len, tg_error *err) {
    if (!a || (!data && len)) return tg_error_set(err, TG_EINVAL, "adaptive state: missing argument");
    if (len > TG_ADAPTIVE_MAX_FILE)
        return tg_error_set(err, TG_ELIMIT, "%zu bytes, above the limit of %u", len, TG_ADAPTIVE_MAX_FILE);
    json_error_t je;
    json_t *o = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &je);
    pthread_mutex_lock(&a->mu);
    tg__adaptive_clear(a);
    tg_status st = o ? load_json(a, o, err)
                     : tg_error_set(err, TG_ECORRUPT, "not JSON: %s (line %d, column %d)", je.text, je.line,
                                    je.column);
    if (st != TG_OK) tg__adaptive_clear(a);
    pthread_mutex_unlock(&a->mu);
    json_decref(o);
    return st;
}

tg_status tg_adaptive_load(tg_adaptive *a, const char *path, tg_error *err) {
    if (!a || !path) return tg_error_set(err, TG_EINVAL, "adaptive state: no file named");
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        pthread_mutex_lock(&a->mu);
        tg__adaptive_clear(a);
        pthread_mutex_unlock(&a->mu);
        return tg_error_set(err, e == ENOENT ? TG_ENOTFOUND : TG_EIO, "adaptive state %s: %s", path, strerror(e));
    }
    struct stat sb;
    size_t size = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size : 0;
    if (size > TG_ADAPTIVE_MAX_FILE) size = TG_ADAPTIVE_MAX_FILE + 1u; /* refused by the parser */
    char *data = malloc(size + 1u);
    size_t n = data ? fread(data, 1, size, f) : 0;
    int rerr = ferror(f);
    fclose(f);
    if (!data) return tg_error_set(err, TG_ENOMEM, "adaptive state %s: out of memory", path);
    tg_error e2;
    memset(&e2, 0, sizeof e2);
    tg_status st = rerr ? tg_error_set(&e2, TG_EIO, "read error") : tg_adaptive_load_buf(a, data, n, &e2);
    free(data);
    if (st != TG_OK) {
        pthread_mutex_lock(&a->mu);
        tg__adaptive_clear(a);
        pthread_mutex_unlock(&a->mu);
        return tg_error_set(err, st, "adaptive state %s refused: %s", path, e2.msg);
    }
    return TG_OK;
}
