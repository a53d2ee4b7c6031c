/*
 * fuzz_llama_slots.c: libFuzzer target for the llama-server adapter's reader
 * of GET /slots (src/gateway/engines/llama_server.c, tg__llama_read_slots),
 * the live probe admission polls when several gateways share one engine
 * (engine_poll.c; issue 14 item 3), and for the slot gate fed by it
 * (admission.h tg__adm_engine_reading).
 *
 * Input: the bytes of one /slots answer. Invariants, beyond "no crash, no
 * leak": a reading it accepts has 1 <= busy + free slots == the array's
 * length, busy <= total; the admission budget from it never exceeds the
 * free slots it saw.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/admission.h"
#include "gateway/engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    json_t *j = json_loadb((const char *)data, size, 0, NULL);
    tg__upinfo u;
    memset(&u, 0, sizeof u);
    if (j && tg__llama_read_slots(&u, j)) {
        if (!u.have_busy || u.total_slots != json_array_size(j) || u.busy_slots > u.total_slots) abort();
        tg__adm a;
        memset(&a, 0, sizeof a);
        tg__adm_configure(&a, u.kv_tokens, u.total_slots, 0.5);
        tg__adm_probe_sent(&a);
        tg__adm_engine_reading(&a, u.busy_slots, u.total_slots, 0);
        if (a.budget > u.total_slots - u.busy_slots) abort();
    } else if (u.have_busy) {
        abort(); /* refused, yet something was read */
    }
    json_decref(j);
    return 0;
}
