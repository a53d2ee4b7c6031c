/*
 * gateway/vram.h: the live free-VRAM loop (issue 20). One NVML reading of
 * every card per tick (vram.interval seconds); each model reads the cards it
 * runs on (hardware.gpus, else $CUDA_VISIBLE_DEVICES, else all), and the
 * tightest of them binds. Per set of cards the figure in use is smoothed:
 * the minimum of the last vram.window readings (a drop counts at once, a
 * rise only once it has lasted the window), and it moves only when that
 * minimum moves more than vram.hysteresis_mib away from it, so the
 * advertised context does not flap with every allocation. A failed reading
 * (no NVML, a lost card, a card not found) degrades the models on those
 * cards to their configured figures, with a rate-limited log line; the
 * daemon keeps serving. live_limits.c reads it; daemon.c runs the timer.
 */
#ifndef TG_GATEWAY_VRAM_H
#define TG_GATEWAY_VRAM_H

#include <stdint.h>

#include "gateway/server.h"
#include "limits/limits_keys.h"

enum { TG__VRAM_NONE = 0, TG__VRAM_CONFIG, TG__VRAM_NVML };

/* What one model's VRAM figure is and where it came from (for /v1/limits). */
typedef struct tg__vram_view {
    int source;              /* TG__VRAM_*: none, hardware.free_vram_mib, NVML */
    const char *selected_by; /* "hardware.gpus", "CUDA_VISIBLE_DEVICES", "all cards" (static) */
    char cards[256];         /* the NVML indices read, "0,1" */
    uint64_t reading;        /* tightest card's latest free bytes */
    uint64_t held;           /* the smoothed figure in use, bytes */
    char degraded[200];      /* "" healthy, else why NVML gave no figure */
} tg__vram_view;

/* Reads NVML now and folds the reading into every card set's window;
 * 1 when some set's figure in use (or its health) changed. */
int tg__vram_sample(tg__server *s);
/* The figure for a model with hardware inputs `hw` (name for the log):
 * 1 and v->held when NVML gives one, else 0 with v->degraded saying why.
 * Takes a first reading when none was taken yet. */
int tg__vram_read(tg__server *s, const tg__limits_inputs *hw, const char *name, tg__vram_view *v);
/* Starts the timer when some model reads NVML (daemon.c, after discovery). */
void tg__vram_start(tg__server *s);
void tg__vram_free(tg__server *s);

#endif
