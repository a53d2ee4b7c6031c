#!/usr/bin/env bash
# test_vram_ollama.sh: issue 20 end to end. tokgate serve in front of two
# Ollama STAND-INs (standin_ollama.js; Ollama cannot run here), each model
# on its own card of the STAND-IN NVML library (tests/limits/nvml_standin.c,
# TG_NVML_LIB; its readings come from a file this test rewrites while the
# daemon runs). Checked: the num_ctx tokgate sends to Ollama follows the free
# VRAM of that model's card only; it does not chase the KV cache Ollama
# allocated for it (the runner's /api/ps context_length is added back); a
# lost card degrades its model to the configured context, the daemon keeps
# serving; /v1/limits says which ceiling binds and why; a daemon with a
# 512 MiB hysteresis does not flap under readings swinging by 300 MiB.
#
# Expected values by hand. The stand-in's model_info (llama: block_count 28,
# head_count_kv 8, key_length = value_length 128), f16 KV, tp 1: KV bytes per
# token = 28 x (128 + 128) x 8 x 2 B = 114688 B (Ollama's own sizing,
# fs/ggml/ggml.go GraphSize, per layer context x (K + V) x heads_kv x bytes).
# context = floor((free MiB - 1500 MiB floor) x 2^20 / 114688) + the tokens
# the loaded runner holds (its /api/ps context_length), at most the trained
# 131072 and the configured context.
source "$(dirname "$0")/lib.sh"
: "${TG_NVML_STANDIN_SO:?CMake sets it to the nvml_standin module}"

per_token=$((28 * (128 + 128) * 8 * 2))
ctx_for() { echo $(( ($1 - 1500) * 1048576 / per_token + $2 )); } # ctx_for FREE_MIB HELD_TOKENS

start_ollama() { # start_ollama VAR NAME CONTEXT ARCH : sets VAR to its port
  node "$here/standin_ollama.js" "$work/$1.port" "$2" "$3" "$4" & pids+=($!)
  local i
  for i in $(seq 1 50); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
  printf -v "$1" %s "$(cat "$work/$1.port")"
}
start_ollama PA big-a:latest 131072 llama
start_ollama PB big-b:latest 131072 llama
readings=$work/nvml.txt
echo "6000,1700" > "$readings"
printf '{"discovery_interval":1,"vram":{"interval":0.5,"window":1,"hysteresis_mib":0},"models":[
 {"upstream":"http://127.0.0.1:%s","hardware":{"gpus":[0]}},
 {"upstream":"http://127.0.0.1:%s","limits":{"context":8192},
  "hardware":{"gpus":["GPU-5a1d0000-0000-4000-8000-000000000001"]}}]}\n' "$PA" "$PB" > "$work/vram.json"
export TG_NVML_LIB=$TG_NVML_STANDIN_SO TG_NVML_STANDIN_FILE=$readings
unset CUDA_VISIBLE_DEVICES
start_tokgate V --config "$work/vram.json"
G=http://127.0.0.1:$PORT_V
limits() { curl -s "$G/v1/limits"; }
ctx_of() { limits | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const m=JSON.parse(s).data.find(m=>m.model===process.argv[1]);console.log(m&&m.limit?m.limit.context:0)})" "$1"; }
wait_ctx() { # wait_ctx MODEL WANT : up to 10 s
  local i got
  for i in $(seq 1 100); do got=$(ctx_of "$1"); [ "$got" = "$2" ] && break; sleep 0.1; done
  check_eq "$1: advertised context" "$got" "$2"
}
chat_num_ctx() { # chat_num_ctx MODEL PORT : the num_ctx the stand-in received
  curl -s -o /dev/null "$G/api/chat" -d "{\"model\":\"$1\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"options\":{\"num_ctx\":999999}}"
  curl -s "http://127.0.0.1:$2/standin/last" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0)); j.num_ctx_seen[j.num_ctx_seen.length-1]'
}

# --- each model on its own card; the runner loaded with 4096 (Ollama's default) ---
a0=$(ctx_for 6000 4096) # 41142 + 4096 = 45238
b0=$(ctx_for 1700 4096) # 1828 + 4096 = 5924, under b's configured 8192
wait_ctx big-a:latest "$a0"
wait_ctx big-b:latest "$b0"
r=$(limits)
js_check "/v1/limits: a binds on VRAM of card 0, NVML, the role and the reason said" "$r" \
  '(m=>m.binding==="vram" && m.binding_reason.includes("cards [0]") && JSON.stringify(m.vram.cards)==="[0]" && m.vram.source==="nvml" && m.vram.cards_from==="hardware.gpus" && m.vram.held_mib===6000 && m.vram.kv_held_tokens===4096 && m.vram.role.startsWith("binds"))(j.data.find(m=>m.model==="big-a:latest"))'
js_check "/v1/limits: b reads card 1 (named by UUID)" "$r" \
  '(m=>m.binding==="vram" && JSON.stringify(m.vram.cards)==="[1]" && m.vram.held_mib===1700)(j.data.find(m=>m.model==="big-b:latest"))'
check_eq "num_ctx sent to a follows card 0" "$(chat_num_ctx big-a:latest "$PA")" "$a0"

# Ollama reloads a runner with the new num_ctx: the KV it adds leaves the card
# (MiB rounded up). alloc FREE_MIB OLD_TOKENS NEW_TOKENS -> the free MiB after.
alloc() { echo $(( $1 - ( ($3 - $2) * per_token + 1048575 ) / 1048576 )); }
wait_held() { # wait_held TOKENS : discovery read the runner's context from /api/ps
  for i in $(seq 1 100); do limits | grep -q "\"kv_held_tokens\":$1" && break; sleep 0.1; done
  check_contains "the runner's context read back from /api/ps" "$(limits)" "\"kv_held_tokens\":$1"
}

# --- the KV Ollama allocated for a0 leaves card 0: num_ctx does not chase it ----
wait_held "$a0"
free0=$(alloc 6000 4096 "$a0")
echo "$free0,1700" > "$readings"
e1=$(ctx_for "$free0" "$a0") # a0 again, give or take the MiB rounding
wait_ctx big-a:latest "$e1"
check "... it stays within a MiB's worth of tokens of a0 ($e1 vs $a0), not $(ctx_for "$free0" 4096)" \
  test $((e1 - a0)) -ge 0 -a $((e1 - a0)) -le 10

# --- another process frees 2000 MiB on card 0: a's num_ctx grows, b's stays ------
free1=$((free0 + 2000))
echo "$free1,1700" > "$readings"
e2=$(ctx_for "$free1" "$a0")
wait_ctx big-a:latest "$e2"
check_eq "num_ctx sent to a follows the freed VRAM" "$(chat_num_ctx big-a:latest "$PA")" "$e2"
wait_held "$e2"
free2=$(alloc "$free1" "$a0" "$e2")
echo "$free2,1700" > "$readings"
e3=$(ctx_for "$free2" "$e2")
wait_ctx big-a:latest "$e3"
check_eq "b's context is its own card's" "$(ctx_of big-b:latest)" "$b0"

# --- card 1 lost: b degrades to its configured context, a and the daemon go on ---
echo "$free2,lost" > "$readings"
wait_ctx big-b:latest 8192
check_eq "num_ctx sent to b: the configured context" "$(chat_num_ctx big-b:latest "$PB")" 8192
js_check "/v1/limits: b degraded, the reason said" "$(limits)" \
  '(m=>m.binding==="clamp" && m.vram.degraded.includes("GPU is lost") && m.vram.held_mib===null)(j.data.find(m=>m.model==="big-b:latest"))'
check_eq "a unaffected" "$(ctx_of big-a:latest)" "$e3"
sleep 2 # four more readings of the lost card
check_contains "the log says so" "$(cat "$work/V.log")" "GPU is lost"
check_eq "one warning for the lost card, not one per reading" "$(grep -c 'GPU is lost' "$work/V.log")" 1
[ "$(grep -c 'GPU is lost' "$work/V.log")" = 1 ] || grep 'GPU is lost' "$work/V.log" >&2
r=$(curl -s "$G/healthz"); js_check "still serving" "$r" 'j.status==="ok"'
stop_tokgate V

# --- no flap: a daemon with the hysteresis at 512 MiB (window 1, so only the
# hysteresis holds it) under a reading that swings by 300 MiB every 0.5 s
# reading: the advertised context stays the one of the first reading; a move
# of 1000 MiB is followed. -------------------------------------------------------
echo "6000,1700" > "$readings"
printf '{"discovery_interval":1,"vram":{"interval":0.5,"window":1,"hysteresis_mib":512},"models":[
 {"upstream":"http://127.0.0.1:%s","hardware":{"gpus":[0]}}]}\n' "$PA" > "$work/flap.json"
start_tokgate W --config "$work/flap.json"
G=http://127.0.0.1:$PORT_W
held=$(curl -s "http://127.0.0.1:$PA/api/ps" | node -pe 'JSON.parse(require("fs").readFileSync(0)).models[0].context_length')
f0=$(ctx_for 6000 "$held")
wait_ctx big-a:latest "$f0"
seen=""
for k in $(seq 1 12); do
  if [ $((k % 2)) = 1 ]; then echo "6300,1700" > "$readings"; else echo "5800,1700" > "$readings"; fi
  sleep 0.3
  seen="$seen $(ctx_of big-a:latest)"
done
check_eq "no flap: 12 readings swinging 6300 / 5800 MiB, the context seen each time" "$(echo $seen | tr ' ' '\n' | sort -u | tr '\n' ' ')" "$f0 "
echo "7000,1700" > "$readings"
wait_ctx big-a:latest "$(ctx_for 7000 "$held")"
stop_tokgate W
finish
