/*
 * test_bufcap.c: the buffered-bytes cap's arithmetic (src/gateway/bufcap.c)
 * against bufcap.h's rules: bytes add up to the cap and not past it, a
 * refusal counts nothing but itself, giving back frees room, the cap
 * cannot be passed by a sum that wraps, the message names the cap, and
 * the default (0) is a quarter of this machine's memory (from
 * /proc/meminfo's MemTotal, read here independently), at least 64 MiB.
 */
#include <stdio.h>
#include <string.h>

#include "tg_test.h"

#include "gateway/bufcap.h"

static void test_take_give(void) {
    tg__bufcap b;
    memset(&b, 0, sizeof b);
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, 60), 1);
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, 40), 1); /* exactly full */
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, 1), 0);
    TG_CHECK_EQ_U(b.used, 100);
    TG_CHECK_EQ_U(b.refused, 1);
    tg__bufcap_give(&b, 60);
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, 61), 0);
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, 60), 1);
    TG_CHECK_EQ_U(b.peak, 100);
    TG_CHECK_EQ_I(tg__bufcap_take(&b, 100, SIZE_MAX), 0); /* no wrap-around */
    tg__bufcap_give(&b, 1000);                            /* never below zero */
    TG_CHECK_EQ_U(b.used, 0);
    char msg[256];
    tg__bufcap_message(msg, sizeof msg, &b, 100, 7);
    TG_CHECK_CONTAINS(msg, "100-byte limits.max_buffered_bytes");
}

static void test_default(void) {
    TG_CHECK_EQ_U(tg__bufcap_limit(12345), 12345);
    FILE *f = fopen("/proc/meminfo", "r");
    if (!f) return;
    unsigned long long kib = 0;
    char line[256];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "MemTotal: %llu kB", &kib) == 1) break;
    fclose(f);
    unsigned long long want = kib * 1024ull / 4;
    if (want < (64ull << 20)) want = 64ull << 20;
    unsigned long long got = tg__bufcap_limit(0);
    /* sysconf's page count and MemTotal agree to within a few percent */
    TG_CHECK(got > want - want / 20 && got < want + want / 20);
}

int main(void) {
    TG_RUN(test_take_give);
    TG_RUN(test_default);
    return tg_test_summary();
}
