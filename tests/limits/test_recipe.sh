#!/usr/bin/env bash
# test_recipe.sh: `tokgate recipe` end to end.
#
# Part 1, no server: the recipe for Qwen3.6-27B (tests/data/configs) on two
# cards with 9254 MiB free (tp 2) prints, for every engine, the context that
# `tokgate limits` derives for the same inputs, and that context is the one
# worked out by hand in docs/limits.md section 5 from the published config
# (245734, bound by VRAM); with helexa's 131072 backstop the opencode limit
# block is helexa's recommended profile {context 131072, output 8192}. The
# MiniMax-M2.1 vLLM line in conservative mode is the dynamic-thinking seed's
# own launch line (--reasoning-parser minimax_m2_append_think,
# '{"max_thinking_tokens": 16000}', issue 15). --version works on every verb.
#
# Part 2, a real llama-server: the recipe for the tiny GGUF (written by
# gguf_test_tiny_writer, as the gateway tests make it) is started with the
# printed -c / -np, and llama-server's own /props
# default_generation_settings.n_ctx (the context of one slot) is compared with
# the derivation: the VRAM ceiling of N slots, and a clamp that is not a
# multiple of 256 (the recipe rounds the slot down to 256, as llama.cpp pads
# slots up to 256). llama-server: TG_LLAMA_SERVER_BIN / TG_LLAMA_SERVER, else
# scripts/llama-server.sh builds it once. A missing piece is a failure.
source "$(dirname "$0")/../gateway/lib.sh"
src=${TG_SOURCE_DIR:-.}
cfg=$src/tests/data/configs
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

jget() { "$py" -c "import json,sys; j=json.load(sys.stdin); print($1)"; }
# arg_after LINE FLAG: the word after FLAG in a launch line
arg_after() { printf '%s\n' "$1" | tr ' ' '\n' | awk -v f="$2" 'p {print; exit} $0 == f {p = 1}'; }

# --- --version on every verb -------------------------------------------------
for verb in inspect limits encode decode count render check serve recipe; do
  out=$("$TG_BIN" "$verb" --version 2>&1); rc=$?
  check_eq "tokgate $verb --version exit" "$rc" 0
  check_eq "tokgate $verb --version" "$out" "tokgate 0.1.0"
done
check_eq "tokgate --version" "$("$TG_BIN" --version)" "tokgate 0.1.0"

# --- usage errors --------------------------------------------------------------
"$TG_BIN" recipe --model "$cfg/Qwen3-32B" >/dev/null 2>"$work/err"; check_eq "recipe without --engine" $? 2
check_contains "recipe without --engine says so" "$(cat "$work/err")" "--engine is required"
"$TG_BIN" recipe --engine tgi --model "$cfg/Qwen3-32B" >/dev/null 2>"$work/err"; check_eq "recipe bad engine" $? 2
check_contains "bad engine named" "$(cat "$work/err")" "'tgi'"
"$TG_BIN" recipe --engine vllm --model "$cfg/Qwen3-32B" --parallel 2 >/dev/null 2>"$work/err"
check_eq "recipe --parallel with vllm" $? 2
"$TG_BIN" recipe --engine vllm --model "$cfg/Qwen3-32B" --model-name qwen3-32b >/dev/null 2>&1
check_eq "recipe with two models" $? 2
"$TG_BIN" recipe --engine ollama --model "$cfg/Qwen3-32B" --free-vram-mib 1000 >/dev/null 2>"$work/err"
check_eq "recipe where nothing fits" $? 1

# --- part 1: Qwen3.6-27B on two cards -----------------------------------------
q36=(--model "$cfg/Qwen3.6-27B" --free-vram-mib 9254 --tp 2)
lim=$("$TG_BIN" limits "${q36[@]}" --json)
ctx=$(printf %s "$lim" | jget 'j["context"]')
out=$(printf %s "$lim" | jget 'j["output"]')
inp=$(printf %s "$lim" | jget 'j["input"]')
check_eq "limits context (docs/limits.md section 5 by hand)" "$ctx" 245734

for eng in vllm sglang llama-server ollama; do
  r=$("$TG_BIN" recipe --engine "$eng" "${q36[@]}" --json) || fail "recipe --engine $eng failed"
  line=$(printf %s "$r" | jget 'j["launch"]')
  case $eng in
    vllm) check_eq "vllm --max-model-len" "$(arg_after "$line" --max-model-len)" "$ctx"
          check_eq "vllm --tensor-parallel-size" "$(arg_after "$line" --tensor-parallel-size)" 2
          check_contains "vllm line" "$line" "vllm serve $cfg/Qwen3.6-27B " ;;
    sglang) check_eq "sglang --context-length" "$(arg_after "$line" --context-length)" "$ctx"
            check_contains "sglang line" "$line" "python3 -m sglang.launch_server --model-path $cfg/Qwen3.6-27B " ;;
    llama-server)
      # one slot: -c is the slot context, 245734 rounded down to 256
      check_eq "llama-server -c" "$(arg_after "$line" -c)" $(( ctx / 256 * 256 ))
      check_eq "llama-server -np" "$(arg_after "$line" -np)" 1 ;;
    ollama) check_contains "ollama Modelfile num_ctx" "$line" "PARAMETER num_ctx $ctx"
            check_contains "ollama Modelfile FROM" "$line" "FROM $cfg/Qwen3.6-27B" ;;
  esac
  if [ "$eng" != llama-server ]; then
    check_eq "$eng config limits" "$(printf %s "$r" | jget 'j["tokgate_model"]["limits"]')" \
      "{'context': $ctx, 'input': $inp, 'output': $out}"
    check_eq "$eng opencode limit" "$(printf %s "$r" | jget 'j["opencode_limit"]')" "{'context': $ctx, 'output': $out}"
  fi
done

# helexa's backstop: the opencode profile helexa recommends
r=$("$TG_BIN" recipe --engine vllm "${q36[@]}" --max-prompt-tokens 131072 --json)
check_eq "opencode limit with the 131072 backstop" "$(printf %s "$r" | jget 'j["opencode_limit"]')" \
  "{'context': 131072, 'output': 8192}"
check_eq "config section names the model file" "$(printf %s "$r" | jget 'j["tokgate_model"]["model"]')" "$cfg/Qwen3.6-27B"

# the human format carries the three parts
txt=$("$TG_BIN" recipe --engine vllm "${q36[@]}")
check_contains "text: launch line" "$txt" "--max-model-len $ctx"
check_contains "text: config section" "$txt" "\"limits\": {\"context\": $ctx"
check_contains "text: opencode block" "$txt" "{\"context\": $ctx, \"output\": $out}"

# systemd drop-ins
sd=$("$TG_BIN" recipe --engine vllm "${q36[@]}" --format systemd)
check_contains "vllm drop-in path" "$sd" "# /etc/systemd/system/vllm.service.d/tokgate.conf"
check_contains "vllm drop-in clears ExecStart" "$sd" $'[Service]\nExecStart=\nExecStart=vllm serve'
sd=$("$TG_BIN" recipe --engine llama-server "${q36[@]}" --format systemd)
check_contains "llama-server drop-in ctx" "$sd" "Environment=LLAMA_ARG_CTX_SIZE=$(( ctx / 256 * 256 ))"
check_contains "llama-server drop-in np" "$sd" "Environment=LLAMA_ARG_N_PARALLEL=1"
sd=$("$TG_BIN" recipe --engine ollama "${q36[@]}" --format systemd)
check_contains "ollama drop-in" "$sd" "Environment=OLLAMA_CONTEXT_LENGTH=$ctx"

# the dynamic-thinking seed's launch line (issue 15)
r=$("$TG_BIN" recipe --engine vllm --model-name MiniMaxAI/MiniMax-M2.1 --thinking-mode conservative --json)
line=$(printf %s "$r" | jget 'j["launch"]')
check_contains "MiniMax reasoning parser" "$line" "--reasoning-parser minimax_m2_append_think"
check_contains "MiniMax thinking default" "$line" "--default-chat-template-kwargs '{\"max_thinking_tokens\": 16000}'"
check_eq "MiniMax policy thinking mode" "$(printf %s "$r" | jget 'j["tokgate_model"]["policy"]["thinking_mode"]')" conservative
line=$("$TG_BIN" recipe --engine sglang --model-name MiniMaxAI/MiniMax-M2.1 --json | jget 'j["launch"]')
check_contains "SGLang MiniMax parser" "$line" "--reasoning-parser minimax-append-think"
line=$("$TG_BIN" recipe --engine llama-server --model-name MiniMaxAI/MiniMax-M2.1 --thinking-mode disabled --json | jget 'j["launch"]')
check_contains "llama-server thinking off" "$line" "--reasoning-budget 0"

# --- part 2: a real llama-server -----------------------------------------------
find_llama_server
model=${TG_TINY_MODEL:-}
if [ -z "$model" ]; then
  writer=${TG_BUILD_DIR:-}/gguf_test_tiny_writer
  vocab=${TG_FIXTURES:-}/llama.cpp/models/ggml-vocab-qwen2.gguf
  [ -x "$writer" ] || { echo "FAIL: no tiny model: set TG_TINY_MODEL or build gguf_test_tiny_writer"; exit 1; }
  [ -f "$vocab" ] || { echo "FAIL: $vocab missing (run scripts/setup.sh --test)"; exit 1; }
  model=$work/tiny.gguf
  "$writer" --write "$model" "$vocab" 42 >/dev/null
fi

# serve_recipe NAME ARGS...: derives the recipe, starts llama-server with the
# printed -m/-c/-np, checks /props against the recipe's slot context, stops it.
# Sets $slot (the recipe's slot context) and $props_ctx (llama-server's).
serve_recipe() {
  local name=$1; shift
  local r line c np port pid i
  r=$("$TG_BIN" recipe --engine llama-server --model "$model" "$@" --json) || { fail "$name: recipe"; return; }
  line=$(printf %s "$r" | jget 'j["launch"]')
  slot=$(printf %s "$r" | jget 'j["slot_context"]')
  c=$(arg_after "$line" -c); np=$(arg_after "$line" -np)
  check_eq "$name: -c is slot x np" "$c" $(( slot * np ))
  port=$(free_port)
  "$server" -m "$(arg_after "$line" -m)" -c "$c" -np "$np" --host 127.0.0.1 --port "$port" -t 1 \
    >"$work/llama.$port.log" 2>&1 &
  pid=$!; pids+=($pid)
  for i in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
  props_ctx=$(curl -sf "http://127.0.0.1:$port/props" | jget 'j["default_generation_settings"]["n_ctx"]')
  check_eq "$name: /props total_slots" "$(curl -sf "http://127.0.0.1:$port/props" | jget 'j["total_slots"]')" "$np"
  kill "$pid"; wait "$pid" 2>/dev/null
}

# (a) one slot, native context: the derivation says 4096 (the tiny model's
# context_length); llama-server must give its slot exactly that
lim=$("$TG_BIN" limits --model "$model" --json)
nat=$(printf %s "$lim" | jget 'j["context"]')
serve_recipe "native" 
check_eq "native: /props n_ctx = derived context" "$props_ctx" "$nat"

# (b) VRAM shared by 3 slots: a budget of 1 MiB over KV bytes per token x 3
kvt=$(printf %s "$lim" | jget 'j["kv_bytes_per_token_per_card"]')
vram=(--free-vram-mib 2 --min-free-mib 1)
per_slot=$(( 1048576 / (kvt * 3) ))
[ "$per_slot" -gt "$nat" ] && per_slot=$nat
serve_recipe "3 slots" "${vram[@]}" --parallel 3
check_eq "3 slots: /props n_ctx = VRAM ceiling / 3, rounded down to 256" "$props_ctx" $(( per_slot / 256 * 256 ))
check_eq "3 slots: recipe slot = /props n_ctx" "$slot" "$props_ctx"
# one slot with the same VRAM: the recipe's context is the one tokgate limits derives
one=$("$TG_BIN" limits --model "$model" "${vram[@]}" --json | jget 'j["context"]')
r1=$("$TG_BIN" recipe --engine vllm --model "$model" "${vram[@]}" --json | jget 'j["context"]')
check_eq "1 slot: recipe context = limits context" "$r1" "$one"

# (c) a clamp that is not a multiple of 256: the slot is the clamp rounded down
serve_recipe "clamp 3000, 2 slots" --max-prompt-tokens 3000 --parallel 2
check_eq "clamp: /props n_ctx" "$props_ctx" 2816
check_eq "clamp: recipe slot = /props n_ctx" "$slot" "$props_ctx"

finish
