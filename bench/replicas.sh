#!/usr/bin/env bash
# bench/replicas.sh: routing over replicas (issue 14, docs/gateway.md
# "Replicas"). Three llama-servers serve one tiny model (random weights,
# written by the gguf layer's tiny-model writer; -np 2 each); one tokgate per
# routing policy (affinity, least_loaded, round_robin) runs the same
# agent-like workload (bench/replicas_client.js: 8 conversations at once,
# each growing 10 turns, every turn resending its history). Reported per
# policy, from llama-server's own `timings` in each answer: the fraction of
# prompt tokens served from the engines' KV caches (sum cache_n / sum
# (cache_n + prompt_n)), prompt tokens computed, and throughput (turns/s,
# completion tokens/s). Each policy's run has its own system prompt, so no
# run reuses another's cache; the servers are restarted between runs too.
#   bench/replicas.sh [TOKGATE_BIN]   (env: CONVS=8 TURNS=10 MAX_TOKENS=24 LOAD_BOUND=1.25
#   LLAMA_SERVER=path TG_BUILD_DIR=dir with gguf_test_tiny_writer)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
build=${TG_BUILD_DIR:-$(dirname "$bin")}
server=${LLAMA_SERVER:-$("$here/scripts/llama-server.sh")/llama-server}
vocab=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}/llama.cpp/models/ggml-vocab-qwen2.gguf
[ -x "$bin" ] || { echo "replicas.sh: no tokgate binary at $bin"; exit 1; }
[ -x "$server" ] || { echo "replicas.sh: no llama-server at $server"; exit 1; }
[ -x "$build/gguf_test_tiny_writer" ] || { echo "replicas.sh: no $build/gguf_test_tiny_writer"; exit 1; }
. "$here/bench/lib.sh"
bench_init tg-replicas
"$build/gguf_test_tiny_writer" --write "$work/tiny.gguf" "$vocab" 42 >/dev/null

servers=() # pids of the current llama-servers
start_servers() {
  ups=()
  servers=()
  for i in 1 2 3; do
    local p; p=$(port)
    "$server" -m "$work/tiny.gguf" --host 127.0.0.1 --port "$p" -c 8192 -np 2 -t 1 >"$work/llama.$p.log" 2>&1 &
    pids+=($!); servers+=($!)
    ups+=("http://127.0.0.1:$p")
  done
  for u in "${ups[@]}"; do
    for _ in $(seq 1 240); do curl -sf "$u/health" >/dev/null 2>&1 && break; sleep 0.25; done
  done
}
stop_servers() { for p in "${servers[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done; }

printf '%-13s %10s %12s %12s %8s %9s %8s %6s\n' policy cached_frac cached_tok computed_tok turns/s compl_t/s secs errors
for policy in affinity least_loaded round_robin; do
  start_servers
  tg=$(port)
  "$bin" serve --listen "127.0.0.1:$tg" --upstream "${ups[0]}" --upstream "${ups[1]}" --upstream "${ups[2]}" \
    --routing "$policy" --routing-load-bound "${LOAD_BOUND:-1.25}" --quiet 2>"$work/tg.$policy.log" & tpid=$!; pids+=($tpid)
  wait_port "$tg" 200
  for _ in $(seq 1 100); do
    curl -s "http://127.0.0.1:$tg/v1/models" | grep -q '"in_service":3' && break; sleep 0.1
  done
  r=$(node "$here/bench/replicas_client.js" "$tg" "$policy" "${CONVS:-8}" "${TURNS:-10}" "${MAX_TOKENS:-24}")
  printf %s "$r" | node -e '
    let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const j=JSON.parse(s);const all=j.cache_n+j.prompt_n;
    console.log([process.argv[1].padEnd(13),(all?j.cache_n/all:0).toFixed(3).padStart(10),String(j.cache_n).padStart(12),
      String(j.prompt_n).padStart(12),(j.turns/j.secs).toFixed(2).padStart(8),(j.completion/j.secs).toFixed(1).padStart(9),
      j.secs.toFixed(1).padStart(8),String(j.errors).padStart(6)].join(" "))})' "$policy"
  kill "$tpid"; wait "$tpid" 2>/dev/null || true
  stop_servers
done
echo "cached_frac: prompt tokens llama-server served from its KV cache (timings.cache_n) over all prompt tokens"
echo "(cache_n + prompt_n), summed over every turn; tokgate $(basename "$bin"), llama-server $(basename "$server"), 3 x -np 2"
