/*
 * model/model_internal.h: helpers shared by the profile builders in src/model/
 * (hf_config.c, gguf_profile.c, catalogue.c, load.c). Not public API.
 */
#ifndef TG_MODEL_INTERNAL_H
#define TG_MODEL_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "tokgate/model.h"

/* Zeroes *p and sets its source; has_chat_template starts at -1 (unknown). */
void tg__profile_init(tg_model_profile *p, tg_model_source src);

/* Allocates p->layers for n layers (1..TG_MODEL_MAX_LAYERS), all TG_ATTN_FULL
 * with the given KV heads and head sizes. */
tg_status tg__profile_alloc_layers(tg_model_profile *p, uint64_t n, uint32_t n_head_kv,
                                   uint32_t head_k, uint32_t head_v, tg_error *err);

/* Adds an end-of-generation id (once; ids past TG_MODEL_MAX_EOG or above
 * UINT32_MAX are left out) and names its source FROM in eog_from. */
void tg__profile_add_eog(tg_model_profile *p, uint64_t id, const char *from);
/* eos_token_id of a parsed config.json / generation_config.json object (an
 * integer or an array of integers) into the profile. */
void tg__profile_add_eog_json(tg_model_profile *p, const void *json_obj, const char *from);

/* Copies at most cap-1 bytes of s[0..n) and NUL-terminates; bytes outside
 * printable ASCII become '?' so a hostile name cannot carry escapes. */
void tg__copy_name(char *dst, size_t cap, const char *s, size_t n);

/* Mamba-style recurrent state elements per layer, as llama.cpp sizes its
 * recurrent memory (llama-hparams.cpp n_embd_r + n_embd_s): the conv state
 * (d_conv - 1) * (d_inner + 2 * n_group * d_state) plus the SSM state
 * d_state * d_inner. Saturates at UINT64_MAX instead of wrapping. */
uint64_t tg__mamba_state_elems(uint64_t d_conv, uint64_t d_inner, uint64_t d_state,
                               uint64_t n_group);

/* Gated-delta-net (Qwen3-Next / Qwen3.5 linear attention) state elements per
 * layer: conv state (conv - 1) * (2 * nk * dk + nv * dv) plus the recurrent
 * state nv * dk * dv. This is the Mamba formula with d_inner = nv * dv,
 * d_state = dk, n_group = nk, which is how llama.cpp's converter maps them. */
uint64_t tg__gdn_state_elems(uint64_t conv, uint64_t nk, uint64_t nv, uint64_t dk, uint64_t dv);

/* A profile from the GGUF file at path (gguf_profile.c); errors name the path. */
tg_status tg__model_from_gguf_file(const char *path, tg_model_profile *out, tg_error *err);

/* Saturating arithmetic for sizes computed from untrusted numbers. */
uint64_t tg__mul_sat(uint64_t a, uint64_t b);
uint64_t tg__add_sat(uint64_t a, uint64_t b);

#endif
