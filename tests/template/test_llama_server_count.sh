#!/usr/bin/env bash
# test_llama_server_count.sh: tokgate's llama-server chat counts
# (`tokgate count --chat --dialect llamacpp`, i.e. tg_chat_count with
# TG_CHAT_LLAMACPP) against llama-server itself: for each vocabulary, a tiny
# random-weight model is written from llama.cpp's vocab GGUF
# (gguf_test_tiny_writer --write), llama-server serves it on a free loopback
# port with its defaults for chat templates (--jinja, the GGUF's template),
# and every conversation in tests/template/conversations/ (and the
# rule-specific requests in tests/template/llamacpp_requests/: developer role,
# prefill with parts, a lone system message, null content with extra keys,
# object tool arguments, reasoning_effort, empty tools and parts, refusals) is
# sent to
# /v1/chat/completions with max_tokens 1. The reference is the response's
# usage.prompt_tokens; tokgate must print the same number.
#
# The prompt is also compared with llama-server's /apply-template for the same
# request (`tokgate render --dialect llamacpp`), so a difference is told apart
# as the template's (prompt differs) or the tokenizer's (same prompt).
#
#   equal    the counts agree
#   refused  both refuse (llama-server answers an error, tokgate exits non-zero),
#            or tokgate refuses with "unsupported" (a template family
#            llama-server renders with its own code): reported, not a failure
#   known    listed in llama_server_known.txt (vocabulary, conversation, the
#            reason: a difference outside the chat layer, e.g. the tokenizer
#            following HF where llama.cpp does not); reported, not a failure;
#            a listed case that agrees fails, so the list cannot go stale
#   differ   anything else: a failure (so is tokgate refusing what
#            llama-server accepts for another reason, and the reverse)
#
# llama-server comes from scripts/llama-server.sh (builds and caches llama.cpp
# in $TG_CACHE/llama-build once, 8-15 minutes; then returns at once). Set
# TG_SKIP_LLAMA_SERVER=1 to skip. Vocabularies: TG_LS_VOCABS (default: qwen2
# phi-3 command-r qwen35 gemma-4; those without a chat template are skipped).
# The server runs with one thread and is always killed on exit.
set -euo pipefail
if [ -n "${TG_SKIP_LLAMA_SERVER:-}" ]; then echo "skipped (TG_SKIP_LLAMA_SERVER)"; exit 0; fi
src=${TG_SOURCE_DIR:?TG_SOURCE_DIR not set}
build=${TG_BUILD_DIR:?TG_BUILD_DIR not set}
bin=${TG_BIN:?TG_BIN not set}
models=${TG_FIXTURES:?TG_FIXTURES not set}/llama.cpp/models
server_dir=$("$src/scripts/llama-server.sh")
server=$server_dir/llama-server
[ -x "$server" ] || { echo "FAIL: no llama-server at $server"; exit 1; }
command -v jq >/dev/null && command -v curl >/dev/null || { echo "FAIL: needs jq and curl"; exit 1; }

source "$src/tests/lib/llama_server.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/tg-lscount.XXXXXX")
cleanup() { ls_stop; rm -rf "$work"; }
trap cleanup EXIT

fixed_date=1735689600 # tokgate's clock; the conversations' templates do not print dates
total_eq=0 total_ref=0 total_diff=0 total_known=0
knownfile=$src/tests/template/llama_server_known.txt
vocabs=${TG_LS_VOCABS:-qwen2 phi-3 command-r qwen35 gemma-4}
for v in $vocabs; do
  vocab=$models/ggml-vocab-$v.gguf
  [ -f "$vocab" ] || { echo "skip $v: no $vocab"; continue; }
  if ! echo '{"messages":[{"role":"user","content":"x"}]}' | "$bin" render --tokenizer "$vocab" >/dev/null 2>&1; then
    echo "skip $v: no usable chat template in the vocab GGUF"
    continue
  fi
  tiny=$work/tiny-$v.gguf
  "$build/gguf_test_tiny_writer" --write "$tiny" "$vocab" 42 >/dev/null
  port=$(ls_pick_port $((18500 + $$ % 1000)))
  ls_start "$work/server-$v.log" "$port" "$server" -m "$tiny" -c 4096 -t 1 -np 1 --jinja
  url=$ls_url
  ls_wait_healthy 240 0.25 " ($v)" || exit 1
  eq=0 ref=0 diff=0 known=0
  for conv in "$src"/tests/template/conversations/*.json "$src"/tests/template/llamacpp_requests/*.json; do
    name=$(basename "$conv" .json)
    jq -c '. + {max_tokens: 1, temperature: 0}' "$conv" >"$work/req.json"
    resp=$(curl -s -H 'Content-Type: application/json' "$url/v1/chat/completions" --data-binary @"$work/req.json" || true)
    want=$(jq -r '.usage.prompt_tokens // empty' <<<"$resp" 2>/dev/null || true)
    got=$(TG_FIXED_DATE=$fixed_date "$bin" count --tokenizer "$tiny" --chat "$conv" --dialect llamacpp 2>"$work/err") || got=
    listed=$(awk -v v="$v" -v c="$name" '$1 == v && $2 == c { $1 = ""; $2 = ""; print; exit }' "$knownfile")
    prompt_note=
    if [ -n "$want" ] && [ "$want" != "$got" ]; then
      curl -s -H 'Content-Type: application/json' "$url/apply-template" --data-binary @"$work/req.json" |
        jq -j '.prompt // empty' >"$work/ref_prompt" 2>/dev/null || true
      if "$bin" render --tokenizer "$tiny" --dialect llamacpp <"$conv" >"$work/our_prompt" 2>/dev/null &&
        cmp -s "$work/ref_prompt" "$work/our_prompt"; then
        prompt_note=" (prompts identical: tokenizer difference)"
      else
        prompt_note=" (prompts differ)"
      fi
    fi
    if [ -n "$want" ] && [ "$want" = "$got" ]; then
      eq=$((eq + 1))
      if [ -n "$listed" ]; then diff=$((diff + 1)); echo "FAIL: $v $name is listed as known but agrees now"; fi
    elif [ -n "$listed" ]; then
      known=$((known + 1)); echo "  known: $v $name: llama-server ${want:-error}, tokgate ${got:-error}$prompt_note:$listed"
    elif [ -z "$want" ] && [ -z "$got" ]; then
      ref=$((ref + 1)); echo "  refused by both: $v $name: $(cut -c1-150 "$work/err")"
    elif [ -z "$got" ] && grep -qi "unsupported\|own code\|not reproduced" "$work/err"; then
      ref=$((ref + 1)); echo "  refused by tokgate: $v $name: $(cut -c1-150 "$work/err")"
    else
      diff=$((diff + 1))
      echo "FAIL: $v $name: llama-server ${want:-error: $(jq -c '.error.message // .' <<<"$resp" 2>/dev/null | cut -c1-150)}, tokgate ${got:-error: $(cut -c1-150 "$work/err")}$prompt_note"
    fi
  done
  echo "$v: $eq equal, $ref refused, $known known, $diff differ"
  total_eq=$((total_eq + eq)) total_ref=$((total_ref + ref)) total_diff=$((total_diff + diff))
  total_known=$((total_known + known))
  ls_stop
done
echo "total: $total_eq equal, $total_ref refused, $total_known known, $total_diff differ"
[ "$total_diff" -eq 0 ]
