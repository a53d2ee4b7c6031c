/*
 * gateway/vram.c: the live free-VRAM loop (vram.h): the NVML snapshot of
 * every card, the per-card-set windows and held figures, the timer.
 *
 * Smoothing: the minimum over the last vram.window readings of the set's
 * tightest card (not an EWMA: an EWMA lags a drop, and a drop is what makes
 * an engine that allocates per request, Ollama, run out). Hysteresis: the
 * figure in use (held) follows that minimum only when it moves more than
 * vram.hysteresis_mib away, up or down. A reading that oscillates by less
 * than the hysteresis leaves the figure, and so the advertised context,
 * where it is. Sets are keyed by their NVML positions ("0,1"): two models
 * on the same cards share one; at most TG__VRAM_MAX_SETS sets are kept.
 */
#include "gateway/vram.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/log.h"

#define TG__VRAM_WIN_MAX 64
#define TG__VRAM_MAX_SETS 64

typedef struct vram_set {
    char key[256];
    uint64_t win[TG__VRAM_WIN_MAX];
    size_t wn, wpos;
    uint64_t held, reading;
    int have_held;
    char why[200]; /* "" healthy */
    tg__log_limit log;
} vram_set;

struct tg__vram {
    double sampled_at; /* 0: never */
    int ok;            /* the last reading as a whole succeeded */
    char why[200];
    tg_nvml_card cards[TG_LIMITS_MAX_CARDS];
    size_t n;
    vram_set sets[TG__VRAM_MAX_SETS];
    size_t n_sets;
    struct event *ev;
    tg__log_limit log; /* NVML as a whole failing, for sections that say "nvml" */
};

static struct tg__vram *state(tg__server *s) {
    if (!s->vram) s->vram = calloc(1, sizeof *s->vram);
    return s->vram;
}

static void take_reading(struct tg__vram *v) {
    tg_error err;
    memset(&err, 0, sizeof err);
    v->ok = tg_nvml_cards(v->cards, TG_LIMITS_MAX_CARDS, &v->n, &err) == TG_OK;
    snprintf(v->why, sizeof v->why, "%.190s", v->ok ? "" : err.msg);
    v->sampled_at = tg__now();
}

/* The set's tightest card now, or its failure in `why`. */
static int set_tightest(const struct tg__vram *v, const vram_set *set, uint64_t *out, char *why, size_t cap) {
    if (!v->ok) {
        snprintf(why, cap, "%.190s", v->why);
        return 0;
    }
    uint64_t min = UINT64_MAX;
    for (const char *p = set->key; *p;) {
        char *end;
        size_t pos = strtoul(p, &end, 10);
        if (pos >= v->n) {
            snprintf(why, cap, "NVML now sees %zu card(s), not card %zu", v->n, pos);
            return 0;
        }
        const tg_nvml_card *c = &v->cards[pos];
        if (c->status) {
            snprintf(why, cap, "GPU %u %.60s: %.90s", c->index, c->uuid, c->error);
            return 0;
        }
        if (c->free_bytes < min) min = c->free_bytes;
        p = *end == ',' ? end + 1 : end;
    }
    *out = min;
    return 1;
}

/* Folds the current snapshot into one set; 1 when its figure or health changed. */
static int set_update(tg__server *s, vram_set *set) {
    struct tg__vram *v = s->vram;
    char why[200] = "";
    uint64_t now = 0;
    if (!set_tightest(v, set, &now, why, sizeof why)) {
        int changed = strcmp(set->why, why) != 0 || set->have_held;
        snprintf(set->why, sizeof set->why, "%.190s", why);
        set->wn = set->wpos = 0;
        set->have_held = 0;
        tg__log_limited(s, &set->log, TG__LOG_WARN,
                        "free VRAM of cards [%s]: %s; their models fall back to their configured figures", set->key,
                        why);
        return changed;
    }
    int changed = set->why[0] != 0;
    if (changed) tg__log(s, TG__LOG_INFO, "free VRAM of cards [%s]: read again (%llu MiB on the tightest)", set->key,
                         (unsigned long long)(now / TG_MIB));
    set->why[0] = '\0';
    size_t w = s->cfg->vram_window ? s->cfg->vram_window : 1;
    if (w > TG__VRAM_WIN_MAX) w = TG__VRAM_WIN_MAX;
    set->win[set->wpos] = now;
    set->wpos = (set->wpos + 1) % w;
    if (set->wn < w) set->wn++;
    uint64_t m = UINT64_MAX;
    for (size_t i = 0; i < set->wn; i++)
        if (set->win[i] < m) m = set->win[i];
    set->reading = now;
    uint64_t h = s->cfg->vram_hysteresis_mib * TG_MIB;
    if (!set->have_held || m + h < set->held || m > set->held + h) {
        changed |= !set->have_held || m != set->held;
        set->held = m;
        set->have_held = 1;
    }
    return changed;
}

int tg__vram_sample(tg__server *s) {
    struct tg__vram *v = state(s);
    if (!v) return 0;
    take_reading(v);
    int changed = 0;
    for (size_t i = 0; i < v->n_sets; i++) changed |= set_update(s, &v->sets[i]);
    return changed;
}

static vram_set *set_find(tg__server *s, const char *key, const char *name, const char *from) {
    struct tg__vram *v = s->vram;
    for (size_t i = 0; i < v->n_sets; i++)
        if (!strcmp(v->sets[i].key, key)) return &v->sets[i];
    if (v->n_sets == TG__VRAM_MAX_SETS) return NULL;
    vram_set *set = &v->sets[v->n_sets++];
    memset(set, 0, sizeof *set);
    set->log.window = 60;
    snprintf(set->key, sizeof set->key, "%.250s", key);
    if (!strcmp(from, "all cards"))
        tg__log(s, TG__LOG_INFO,
                "model %s: no hardware.gpus and no CUDA_VISIBLE_DEVICES: its free VRAM is the tightest of all "
                "%zu card(s) NVML sees",
                name ? name : "(discovered)", v->n);
    set_update(s, set);
    return set;
}

/* The NVML positions `hw` names in the snapshot, as a key "0,1". */
static int select_key(struct tg__vram *v, const tg__limits_inputs *hw, tg__vram_view *out) {
    size_t pos[TG_LIMITS_MAX_CARDS], n_pos = 0;
    tg_error err;
    const char *spec = tg__gpus_spec(hw, &out->selected_by);
    tg_status st = tg__gpus_select(spec, v->cards, v->n, pos, &n_pos, &err);
    if (st != TG_OK || n_pos == 0) {
        snprintf(out->degraded, sizeof out->degraded, "%s: %.170s", out->selected_by,
                 st != TG_OK ? err.msg : "no card named");
        return 0;
    }
    size_t len = 0;
    for (size_t k = 0; k < n_pos && len + 8 < sizeof out->cards; k++)
        len += (size_t)snprintf(out->cards + len, sizeof out->cards - len, "%s%zu", k ? "," : "", pos[k]);
    return 1;
}

int tg__vram_read(tg__server *s, const tg__limits_inputs *hw, const char *name, tg__vram_view *out) {
    memset(out, 0, sizeof *out);
    out->source = TG__VRAM_NVML;
    out->selected_by = "all cards";
    struct tg__vram *v = state(s);
    if (!v) {
        snprintf(out->degraded, sizeof out->degraded, "out of memory");
        return 0;
    }
    if (v->sampled_at == 0) take_reading(v);
    if (!v->ok) {
        tg__gpus_spec(hw, &out->selected_by);
        snprintf(out->degraded, sizeof out->degraded, "%.190s", v->why);
        if (hw->free_vram_nvml) {
            v->log.window = 60;
            tg__log_limited(s, &v->log, TG__LOG_WARN, "free VRAM: %s; no VRAM ceiling until NVML answers", v->why);
        } else if (!s->nvml_note_said) {
            s->nvml_note_said = 1;
            tg__log(s, TG__LOG_INFO, "free VRAM: %s; give hardware.free_vram_mib for a VRAM ceiling", v->why);
        }
        return 0;
    }
    if (!select_key(v, hw, out)) {
        v->log.window = 60;
        tg__log_limited(s, &v->log, TG__LOG_WARN, "model %s: %s; no VRAM ceiling for it", name ? name : "(discovered)",
                        out->degraded);
        return 0;
    }
    vram_set *set = set_find(s, out->cards, name, out->selected_by);
    if (!set) {
        snprintf(out->degraded, sizeof out->degraded, "more than %d card sets", TG__VRAM_MAX_SETS);
        return 0;
    }
    out->reading = set->reading;
    out->held = set->held;
    if (set->why[0] || !set->have_held) {
        snprintf(out->degraded, sizeof out->degraded, "%.190s", set->why[0] ? set->why : "no reading yet");
        return 0;
    }
    return 1;
}

static void on_tick(evutil_socket_t fd, short what, void *arg) {
    (void)fd;
    (void)what;
    tg__server *s = arg;
    /* a figure changed: the model table is rebuilt as after discovery */
    if (tg__vram_sample(s) && s->on_discovered) s->on_discovered(s);
}

void tg__vram_start(tg__server *s) {
    int live = 0;
    uint64_t bit = tgx_opt_bit(tg__hardware_opts, tg__n_hardware_opts, "free_vram_mib");
    for (size_t i = 0; i < s->cfg->n_models; i++)
        live |= !(s->cfg->models[i].hw_given & bit) || s->cfg->models[i].hw.free_vram_nvml;
    struct tg__vram *v = live ? state(s) : NULL;
    if (!v || v->ev) return;
    v->ev = event_new(s->base, -1, EV_PERSIST, on_tick, s);
    double iv = s->cfg->vram_interval > 0 ? s->cfg->vram_interval : 5;
    struct timeval tv = {(time_t)iv, (suseconds_t)((iv - (double)(time_t)iv) * 1e6)};
    if (v->ev) event_add(v->ev, &tv);
}

void tg__vram_free(tg__server *s) {
    if (!s->vram) return;
    if (s->vram->ev) event_free(s->vram->ev);
    free(s->vram);
    s->vram = NULL;
}
