/* gateway/health.c: an upstream's passive/active health (health.h): the
 * back-off arithmetic the replica router and discovery share. */
#include "gateway/health.h"

int tg__health_fault(tg__health *h, double now) {
    int was_up = !h->down;
    if (h->backoff < TG__HEALTH_BACKOFF_MIN) h->backoff = TG__HEALTH_BACKOFF_MIN;
    h->faults++;
    if (was_up) h->outs++;
    h->down = 1;
    h->until = now + h->backoff;
    h->backoff = h->backoff * 2 > TG__HEALTH_BACKOFF_MAX ? TG__HEALTH_BACKOFF_MAX : h->backoff * 2;
    return was_up;
}

int tg__health_ok(tg__health *h) {
    int was_down = h->down;
    h->down = 0;
    h->until = 0;
    h->backoff = TG__HEALTH_BACKOFF_MIN;
    return was_down;
}

int tg__health_usable(const tg__health *h, double now) { return !h->down || now >= h->until; }
