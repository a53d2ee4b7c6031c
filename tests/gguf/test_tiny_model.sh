#!/usr/bin/env bash
# test_tiny_model.sh: checks that llama.cpp's llama-server loads and serves
# the tiny random-weight qwen2 model written by tg_gguf_write_tiny_model
# (src/gguf/tiny_model.c), which proves the GGUF writer's output is a model
# llama.cpp accepts, with the metadata we meant.
#
# Runs only when TG_LLAMA_SERVER is set (the gateway tests set it): the path
# of a llama-server binary, or of the directory holding it, as printed by
# scripts/llama-server.sh. Without it the test prints a note and passes, as
# building llama-server takes 8-15 minutes.
#
# Steps: write tiny.gguf from $TG_FIXTURES/llama.cpp/models/ggml-vocab-qwen2.gguf
# with the gguf_test_tiny_writer tool (--write); start
#   llama-server -m tiny.gguf --host 127.0.0.1 --port P -c 2048 -t 1
# on a free port; then check, against what llama.cpp itself reports:
#   /v1/models  meta.n_vocab = 151936 (the vocab's token count), n_ctx_train
#               4096, n_embd 64, n_params = the sum of our tensor sizes;
#   /props      n_ctx 2048;
#   /v1/chat/completions answers 200 with a message, usage.prompt_tokens > 0,
#               completion_tokens <= max_tokens and a finish_reason.
# The server is killed on exit, whatever happens.
set -euo pipefail
if [ -z "${TG_LLAMA_SERVER:-}" ]; then
  echo "test_tiny_model.sh: TG_LLAMA_SERVER not set; not starting llama-server (see the top comment)"
  exit 0
fi
server=$TG_LLAMA_SERVER
[ -d "$server" ] && server=$server/llama-server
[ -x "$server" ] || { echo "FAIL: $server is not an executable llama-server"; exit 1; }
build=${TG_BUILD_DIR:?TG_BUILD_DIR not set}
vocab=${TG_FIXTURES:?TG_FIXTURES not set}/llama.cpp/models/ggml-vocab-qwen2.gguf
source "$(dirname "$0")/../lib/llama_server.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/tg-tiny.XXXXXX")
cleanup() { ls_stop; rm -rf "$work"; }
trap cleanup EXIT

"$build/gguf_test_tiny_writer" --write "$work/tiny.gguf" "$vocab" 42

port=$(ls_pick_port "${TG_TINY_PORT:-$((18080 + $$ % 2000))}")
ls_start "$work/server.log" "$port" "$server" -m "$work/tiny.gguf" -c 2048 -t 1
url=$ls_url
ls_wait_healthy 120 0.5 || exit 1

fail=0
check() { # check DESCRIPTION JQ-EXPR JSON
  if [ "$(jq -r "$2" <<<"$3")" = true ]; then echo "ok: $1"; else echo "FAIL: $1"; jq -c . <<<"$3" | cut -c1-400; fail=1; fi
}

# n_params: token_embd + output (64 x 151936 each), output_norm (64), and per
# layer: 2 norms (64) + q (64x64) + k, v (64x32) + biases (64+32+32)
# + attn_output (64x64) + ffn gate, up, down (64x128 each).
n_vocab=151936
per_layer=$((64 + 4096 + 2048 + 2048 + 64 + 32 + 32 + 4096 + 64 + 8192 + 8192 + 8192))
n_params=$((2 * 64 * n_vocab + 64 + 2 * per_layer))

models=$(curl -sf "$url/v1/models")
check "v1/models meta" ".data[0].meta | (.n_vocab == $n_vocab and .n_ctx_train == 4096 and .n_embd == 64 and .n_params == $n_params)" "$models"
props=$(curl -sf "$url/props")
check "props n_ctx" '.default_generation_settings.n_ctx == 2048' "$props"

t0=$(date +%s%N)
resp=$(curl -sf -H 'Content-Type: application/json' "$url/v1/chat/completions" \
  -d '{"messages":[{"role":"user","content":"Hello, tiny model!"}],"max_tokens":8,"temperature":0}')
t1=$(date +%s%N)
check "chat completion" '(.choices[0].message.content | type) == "string" and .usage.prompt_tokens > 0 and .usage.completion_tokens <= 8 and (.choices[0].finish_reason == "length" or .choices[0].finish_reason == "stop")' "$resp"
echo "chat completion: prompt_tokens $(jq .usage.prompt_tokens <<<"$resp"), finish_reason $(jq -r '.choices[0].finish_reason' <<<"$resp"), $(( (t1 - t0) / 1000000 )) ms"
exit $fail
