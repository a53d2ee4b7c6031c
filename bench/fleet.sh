#!/usr/bin/env bash
# bench/fleet.sh: what several gateways on one engine cost (issue 14 item 3).
# Two tokgate gateways behind HAProxy (deploy/haproxy.cfg, ports rewritten)
# in front of one real llama-server (tiny model, -np 2); CLIENTS concurrent
# clients send REQUESTS chat requests each of MAX_TOKENS tokens (ignore_eos).
# Per admission setup, in the same run: wall time, completion tokens/s and
# its ratio to the uncoordinated reference (share 1, no reading: the engine
# queues what the gateways over-commit), the share of llama-server /metrics
# samples (every 10 ms) with requests_deferred > 0 and the most deferred at
# once, the /slots round trip under that load (median, max: what a reading
# adds to the staleness window), and the probe traffic (GET /slots per
# second, both gateways).
#   bench/fleet.sh [TOKGATE_BIN]   (env: CLIENTS=8 REQUESTS=4 MAX_TOKENS=96)
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export TG_BIN=${1:-${TG_BIN:-$root/build/tokgate}}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$(dirname "$TG_BIN")}
export TG_FIXTURES=${TG_FIXTURES:-${TG_CACHE:-$HOME/.cache/tokgate}/fixtures}
source "$root/tests/gateway/lib.sh"
clients=${CLIENTS:-8}; reqs=${REQUESTS:-4}; mt=${MAX_TOKENS:-96}
find_llama_server
tiny_model
start_llama L "$model" -np 2 --metrics

n_run=0
run() { # run LABEL POLL_MS tokgate-args...  (the first run is the reference)
  local label=$1 poll=$2 out; shift 2
  n_run=$((n_run + 1)); out=$work/run$n_run.json
  start_tokgate A --upstream "$L" --discovery-interval 1 --quiet "$@"
  start_tokgate B --upstream "$L" --discovery-interval 1 --quiet "$@"
  for p in "$PORT_A" "$PORT_B"; do
    for _ in $(seq 1 100); do [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/readyz")" = 200 ] && break; sleep 0.1; done
  done
  local fp; fp=$(free_port)
  sed -e "s/bind 127.0.0.1:8000/bind 127.0.0.1:$fp/" -e "s/127.0.0.1:8001/127.0.0.1:$PORT_A/" \
      -e "s/127.0.0.1:8002/127.0.0.1:$PORT_B/" "$root/deploy/haproxy.cfg" >"$work/haproxy.cfg"
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & local hp=$!
  pids+=($hp)
  wait_port "$fp"
  node "$root/tests/gateway/fleet_load.js" "$L" "http://127.0.0.1:$fp" "$clients" "$reqs" "$mt" "$out"
  kill "$hp"; wait "$hp" 2>/dev/null
  kill "$PID_A" "$PID_B"; wait "$PID_A" "$PID_B" 2>/dev/null
  node -e '
    const j = JSON.parse(require("fs").readFileSync(process.argv[1]));
    const ref = JSON.parse(require("fs").readFileSync(process.argv[4]));
    const tps = j.completionTokens / (j.wallMs / 1000), rtps = ref.completionTokens / (ref.wallMs / 1000);
    const poll = Number(process.argv[3]);
    console.log([process.argv[2].padEnd(26), (j.wallMs / 1000).toFixed(1).padStart(6), tps.toFixed(0).padStart(8),
      (tps / rtps).toFixed(2).padStart(6), (100 * j.deferredSamples / j.samples).toFixed(0).padStart(5) + "%",
      String(j.maxDeferred).padStart(4), (j.slotsMsMedian.toFixed(1) + "/" + j.slotsMsMax.toFixed(0)).padStart(10),
      (poll ? (2000 / poll).toFixed(0) : "0").padStart(6), JSON.stringify(j.status)].join(" "));
  ' "$out" "$label" "$poll" "$work/run1.json"
}

echo "two gateways behind HAProxy, one llama-server -np 2; $clients clients x $reqs requests x $mt tokens"
echo "setup                       wall_s  tok/s  ratio deferred max slots_ms  probes/s statuses"
run "none (share 1, no poll)" 0
run "engine poll 100 ms" 100 --admission-engine-poll-ms 100
run "engine poll 20 ms" 20 --admission-engine-poll-ms 20
run "share 1/2" 0 --admission-share 1/2
run "share 1/2 + poll 100 ms" 100 --admission-share 1/2 --admission-engine-poll-ms 100
run "share 1/2 + poll 20 ms" 20 --admission-share 1/2 --admission-engine-poll-ms 20
