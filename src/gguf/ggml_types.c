/*
 * ggml_types.c: facts about ggml tensor types and GGUF value types.
 *
 * The ggml table gives, for each numeric ggml_type id, its name, the number of
 * elements in one block and the bytes one block takes. The ids, names and block
 * geometry follow llama.cpp's ggml/include/ggml.h (enum ggml_type) and the
 * type_traits table of ggml/src/ggml.c; block bytes are sizeof(block_*) from
 * ggml/src/ggml-common.h (e.g. Q4_0: 32 elements as one f16 scale + 16 nibble
 * bytes = 18 bytes). Ids that ggml retired (4, 5, 31-33, 36-38) and ids past
 * the table are unknown: the reader accepts tensors of unknown type (a newer
 * ggml may have added it) but cannot size their data.
 *
 * A tensor's byte size is dims product / block_elems * block_bytes, where
 * dims[0] must be a multiple of block_elems (a row is whole blocks).
 */
#include "tokgate/gguf.h"

typedef struct ggml_type_info {
    const char *name;
    uint32_t block_elems;
    uint32_t block_bytes;
} ggml_type_info;

#define QK_K 256u

static const ggml_type_info ggml_types[] = {
    [0] = {"f32", 1, 4},
    [1] = {"f16", 1, 2},
    [2] = {"q4_0", 32, 18},
    [3] = {"q4_1", 32, 20},
    [6] = {"q5_0", 32, 22},
    [7] = {"q5_1", 32, 24},
    [8] = {"q8_0", 32, 34},
    [9] = {"q8_1", 32, 36},
    [10] = {"q2_K", QK_K, 84},
    [11] = {"q3_K", QK_K, 110},
    [12] = {"q4_K", QK_K, 144},
    [13] = {"q5_K", QK_K, 176},
    [14] = {"q6_K", QK_K, 210},
    [15] = {"q8_K", QK_K, 292},
    [16] = {"iq2_xxs", QK_K, 66},
    [17] = {"iq2_xs", QK_K, 74},
    [18] = {"iq3_xxs", QK_K, 98},
    [19] = {"iq1_s", QK_K, 50},
    [20] = {"iq4_nl", 32, 18},
    [21] = {"iq3_s", QK_K, 110},
    [22] = {"iq2_s", QK_K, 82},
    [23] = {"iq4_xs", QK_K, 136},
    [24] = {"i8", 1, 1},
    [25] = {"i16", 1, 2},
    [26] = {"i32", 1, 4},
    [27] = {"i64", 1, 8},
    [28] = {"f64", 1, 8},
    [29] = {"iq1_m", QK_K, 56},
    [30] = {"bf16", 1, 2},
    [34] = {"tq1_0", QK_K, 54},
    [35] = {"tq2_0", QK_K, 66},
    [39] = {"mxfp4", 32, 17},
    [40] = {"nvfp4", 64, 36},
    [41] = {"q1_0", 128, 18},
    [42] = {"q2_0", 64, 18},
};

#define N_GGML_TYPES (sizeof ggml_types / sizeof ggml_types[0])

/* Name of a ggml type ("q4_K"), or "unknown" for ids ggml does not define. */
const char *tg_ggml_type_name(uint32_t type) {
    if (type >= N_GGML_TYPES || !ggml_types[type].name) return "unknown";
    return ggml_types[type].name;
}

/* Block geometry of a ggml type. Unknown ids set both outputs to 0 (when not
 * NULL) and return TG_ENOTFOUND. */
tg_status tg_ggml_type_block(uint32_t type, uint32_t *block_elems, uint32_t *block_bytes) {
    int known = type < N_GGML_TYPES && ggml_types[type].name;
    if (block_elems) *block_elems = known ? ggml_types[type].block_elems : 0;
    if (block_bytes) *block_bytes = known ? ggml_types[type].block_bytes : 0;
    return known ? TG_OK : TG_ENOTFOUND;
}

/* Name of a GGUF metadata value type, as in ggml's gguf.cpp ("uint32"). */
const char *tg_gguf_type_name(tg_gguf_type t) {
    switch (t) {
    case TG_GGUF_UINT8: return "uint8";
    case TG_GGUF_INT8: return "int8";
    case TG_GGUF_UINT16: return "uint16";
    case TG_GGUF_INT16: return "int16";
    case TG_GGUF_UINT32: return "uint32";
    case TG_GGUF_INT32: return "int32";
    case TG_GGUF_FLOAT32: return "float32";
    case TG_GGUF_BOOL: return "bool";
    case TG_GGUF_STRING: return "string";
    case TG_GGUF_ARRAY: return "array";
    case TG_GGUF_UINT64: return "uint64";
    case TG_GGUF_INT64: return "int64";
    case TG_GGUF_FLOAT64: return "float64";
    }
    return "unknown";
}
