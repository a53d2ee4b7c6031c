/* gateway/filters/model_name.h: the served model's name in an answer's
 * top-level "model" (model_name.c). */
#ifndef TG_GATEWAY_FILTERS_MODEL_NAME_H
#define TG_GATEWAY_FILTERS_MODEL_NAME_H

#include <stddef.h>

#include "gateway/filters/filter.h"

/* A filter that replaces the string value of every top-level "model" key
 * (one JSON answer, or each `data:` event of an SSE stream) with `served`,
 * and passes every other byte on as it arrives. It holds nothing back: the
 * upstream's value is dropped as it streams. NULL on allocation failure. */
tg__filter *tg__model_name_filter_new(const char *served);

#endif
