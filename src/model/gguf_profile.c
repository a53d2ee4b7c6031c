/* model/gguf_profile.c: placeholder until the GGUF reader lands (branch gguf). */
#include "model/model_internal.h"

tg_status tg_model_from_gguf(const tg_gguf *g, tg_model_profile *out, tg_error *err) {
    (void)g;
    tg__profile_init(out, TG_MODEL_SRC_GGUF);
    return tg_error_set(err, TG_EUNSUPPORTED, "GGUF profiles are not built in yet");
}

tg_status tg__model_from_gguf_file(const char *path, tg_model_profile *out, tg_error *err) {
    tg__profile_init(out, TG_MODEL_SRC_GGUF);
    return tg_error_set(err, TG_EUNSUPPORTED, "%s: GGUF profiles are not built in yet", path);
}
