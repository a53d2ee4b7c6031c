#!/usr/bin/env bash
# test_llama_server_families.sh: the template families llama-server renders
# with code of its own (common_chat_try_specialized_template: gpt-oss,
# Qwen3-Coder, Kimi K2, Kimi K3, Gemma 4, Cohere2 MoE, ...) for which llama.cpp
# ships no vocab GGUF, checked against llama-server itself. A tiny model is
# written from ggml-vocab-qwen2.gguf; llama-server serves it with
# --chat-template-file <the published template llama.cpp ships under
# models/templates/>, and every request in tests/template/conversations/ and
# tests/template/llamacpp_requests/ goes to its /apply-template. tokgate
# renders the same request with the same template and the server's BOS/EOS
# (`tokgate render --template FILE --bos-token B --eos-token E --dialect
# llamacpp`); the prompts must be byte-identical, so the counts are (the
# tokenizer is the model's either way; the tokenizer's own exactness is
# tests/tokenizer's and test_llama_server_count.sh's).
#
#   equal    identical prompts
#   refused  both refuse (an error from /apply-template, tokgate exits
#            non-zero), or tokgate refuses with "not reproduced"/"own code"
#            (a prefill llama-server continues its own way): reported
#   differ   anything else: a failure
#
# Both use the current date (gpt-oss prints it).
# Set TG_SKIP_LLAMA_SERVER=1 to skip; TG_LS_TEMPLATES picks templates.
set -euo pipefail
if [ -n "${TG_SKIP_LLAMA_SERVER:-}" ]; then echo "skipped (TG_SKIP_LLAMA_SERVER)"; exit 0; fi
src=${TG_SOURCE_DIR:?TG_SOURCE_DIR not set}
build=${TG_BUILD_DIR:?TG_BUILD_DIR not set}
bin=${TG_BIN:?TG_BIN not set}
llama=${TG_FIXTURES:?TG_FIXTURES not set}/llama.cpp
server=$("$src/scripts/llama-server.sh")/llama-server
[ -x "$server" ] || { echo "FAIL: no llama-server at $server"; exit 1; }
command -v jq >/dev/null && command -v curl >/dev/null || { echo "FAIL: needs jq and curl"; exit 1; }

source "$src/tests/lib/llama_server.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/tg-lsfam.XXXXXX")
cleanup() { ls_stop; rm -rf "$work"; }
trap cleanup EXIT

templates=${TG_LS_TEMPLATES:-openai-gpt-oss-120b Qwen3-Coder Kimi-K2-Thinking Kimi-K2-Instruct Kimi-K3 google-gemma-4-31B-it Cohere2MoE}
tiny=$work/tiny.gguf
"$build/gguf_test_tiny_writer" --write "$tiny" "$llama/models/ggml-vocab-qwen2.gguf" 42 >/dev/null
total_eq=0 total_ref=0 total_diff=0
for t in $templates; do
  tf=$llama/models/templates/$t.jinja
  [ -f "$tf" ] || { echo "skip $t: no $tf"; continue; }
  port=$(ls_pick_port $((19000 + $$ % 1000)))
  ls_start "$work/server-$t.log" "$port" "$server" -m "$tiny" -c 4096 -t 1 -np 1 --jinja --chat-template-file "$tf"
  ls_wait_healthy 240 0.25 " ($t)" || exit 1
  props=$(curl -s "$ls_url/props")
  bos=$(jq -r '.bos_token // ""' <<<"$props")
  eos=$(jq -r '.eos_token // ""' <<<"$props")
  eq=0 ref=0 diff=0
  for conv in "$src"/tests/template/conversations/*.json "$src"/tests/template/llamacpp_requests/*.json; do
    name=$(basename "$conv" .json)
    resp=$(curl -s -H 'Content-Type: application/json' "$ls_url/apply-template" --data-binary @"$conv" || true)
    if jq -e 'has("prompt")' >/dev/null 2>&1 <<<"$resp"; then
      jq -j '.prompt' <<<"$resp" >"$work/ref"; want=1
    else
      want=
    fi
    if "$bin" render --template "$tf" --bos-token "$bos" --eos-token "$eos" --dialect llamacpp \
        <"$conv" >"$work/our" 2>"$work/err"; then got=1; else got=; fi
    if [ -n "$want" ] && [ -n "$got" ] && cmp -s "$work/ref" "$work/our"; then
      eq=$((eq + 1))
    elif [ -z "$want" ] && [ -z "$got" ]; then
      ref=$((ref + 1)); echo "  refused by both: $t $name: $(cut -c1-120 "$work/err")"
    elif [ -z "$got" ] && grep -qi "not reproduced\|own code" "$work/err"; then
      ref=$((ref + 1)); echo "  refused by tokgate: $t $name: $(cut -c1-120 "$work/err")"
    else
      diff=$((diff + 1))
      if [ -n "$want" ] && [ -n "$got" ]; then
        echo "FAIL: $t $name: prompts differ:"; diff "$work/ref" "$work/our" | head -8 || true
      else
        echo "FAIL: $t $name: llama-server ${want:+renders}${want:-error: $(jq -c '.error.message // .' <<<"$resp" | cut -c1-150)}," \
          "tokgate ${got:+renders}${got:-error: $(cut -c1-150 "$work/err")}"
      fi
    fi
  done
  echo "$t: $eq equal, $ref refused, $diff differ"
  total_eq=$((total_eq + eq)) total_ref=$((total_ref + ref)) total_diff=$((total_diff + diff))
  ls_stop
done
echo "total: $total_eq equal, $total_ref refused, $total_diff differ"
[ "$total_diff" -eq 0 ]
