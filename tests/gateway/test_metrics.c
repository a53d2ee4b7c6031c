/*
 * test_metrics.c: the Prometheus text of the daemon's counters
 * (src/gateway/metrics.c), checked against the exposition format 0.0.4
 * (prometheus.io/docs/instrumenting/exposition_formats): every sample's
 * family is one group (its HELP and TYPE once, then all its samples), label
 * values escape \\, \" and newline, histogram buckets are cumulative with
 * le="+Inf" equal to _count and reach 600 s, and the standard process_*
 * families and tokgate_build_info are there.
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/metrics.h"
#include "gateway/upstream.h"

static char *render(const tg__metrics *m, const tg__pools *pools) {
    struct evbuffer *b = evbuffer_new();
    tg__metrics_render(m, pools, b);
    size_t n = evbuffer_get_length(b);
    char *s = malloc(n + 1);
    evbuffer_remove(b, s, n);
    s[n] = '\0';
    evbuffer_free(b);
    return s;
}

/* The exposition format's grouping, as a strict parser reads it: each
 * family's "# TYPE" appears once, and every sample line belongs to the family
 * of the last "# TYPE" line above it (histograms: _bucket, _sum, _count). */
static int grouped(const char *t) {
    char cur[128] = "", seen[64][128];
    size_t n_seen = 0;
    for (const char *l = t; *l;) {
        const char *e = strchr(l, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        if (len > 7 && !strncmp(l, "# TYPE ", 7)) {
            size_t n = strcspn(l + 7, " ");
            snprintf(cur, sizeof cur, "%.*s", (int)n, l + 7);
            for (size_t k = 0; k < n_seen; k++)
                if (!strcmp(seen[k], cur)) return 0; /* a family seen twice */
            if (n_seen < 64) snprintf(seen[n_seen++], sizeof seen[0], "%s", cur);
        } else if (len && l[0] != '#') {
            size_t n = strcspn(l, "{ ");
            char fam[128];
            snprintf(fam, sizeof fam, "%.*s", (int)n, l);
            size_t cl = strlen(cur);
            int ok = !strcmp(fam, cur);
            if (!ok && !strncmp(fam, cur, cl) && cl)
                ok = !strcmp(fam + cl, "_bucket") || !strcmp(fam + cl, "_sum") || !strcmp(fam + cl, "_count");
            if (!ok) return 0;
        }
        l += len + (e ? 1 : 0);
    }
    return n_seen > 0;
}

static void test_render(void) {
    tg__metrics m;
    memset(&m, 0, sizeof m);
    m.started = 1700000000;
    tg__metrics_request(&m, TG__R_CHAT, 200);
    tg__metrics_request(&m, TG__R_CHAT, 200);
    tg__metrics_request(&m, TG__R_CHAT, 400);
    tg__metrics_refusal(&m, "context_length_exceeded");
    tg__metrics_refusal(&m, "a\"b\\c\nd");
    tg__hist_observe(&m.added_latency, 0.0002);
    tg__hist_observe(&m.added_latency, 0.003);
    tg__hist_observe(&m.added_latency, 100);
    tg__pools pools;
    memset(&pools, 0, sizeof pools);
    tg__pool *p = tg__pool_get(&pools, "127.0.0.1", 8080);
    p->adm.capacity = 4096;
    char *t = render(&m, &pools);
    TG_CHECK_CONTAINS(t, "tokgate_requests_total{route=\"chat_completions\",code=\"200\"} 2\n");
    TG_CHECK_CONTAINS(t, "tokgate_requests_total{route=\"chat_completions\",code=\"400\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_refusals_total{reason=\"context_length_exceeded\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_refusals_total{reason=\"a\\\"b\\\\c\\nd\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_admission_capacity_tokens{upstream=\"127.0.0.1:8080\"} 4096\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"0.00025\"} 1\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"0.005\"} 2\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"+Inf\"} 3\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_count 3\n");
    TG_CHECK_CONTAINS(t, "tokgate_added_latency_seconds_bucket{le=\"600\"} 3\n"); /* 100 s is inside */
    TG_CHECK_CONTAINS(t, "tokgate_build_info{version=\"");
    TG_CHECK_CONTAINS(t, "\nprocess_resident_memory_bytes ");
    TG_CHECK_CONTAINS(t, "\nprocess_open_fds ");
    TG_CHECK_CONTAINS(t, "\nprocess_start_time_seconds 1700000000\n");
    TG_CHECK(grouped(t));
    /* the check can fail: a sample before its TYPE, a family twice, a stray sample */
    TG_CHECK(!grouped("tokgate_x 1\n# TYPE tokgate_x counter\n"));
    TG_CHECK(!grouped("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\n# TYPE a gauge\na 2\n"));
    TG_CHECK(!grouped("# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na{x=\"1\"} 2\n"));
    free(t);
    tg__pool_free_all(&pools);
    tg__metrics_free(&m);
}

int main(void) {
    TG_RUN(test_render);
    return tg_test_summary();
}
