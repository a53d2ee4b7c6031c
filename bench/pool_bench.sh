#!/usr/bin/env bash
# bench/pool_bench.sh: tail latency in front of the REAL llama-server
# (issue 16, item 6). wrk, CONNS connections (default 32), a one-token chat
# (max_tokens 1) for SECS seconds, against llama-server at its defaults
# (tests/gateway/lib.sh: the tiny model, -c 2048 -t 1) directly and through
# tokgate; prints p50 and p99 of each and tokgate's p99 over direct's (the
# issue's target: at most 1.5). OLD_BIN, when set, is measured too (e.g.
# the previous build), under the same llama-server.
#   bench/pool_bench.sh [TOKGATE_BIN]   (env: SECS=10 CONNS=32 OLD_BIN=)
# Needs wrk (scripts/setup.sh --bench), node, a built tokgate and the test
# fixtures (scripts/setup.sh --test).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
export TG_BIN=${1:-${TG_BIN:-$here/build/tokgate}}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$(dirname "$TG_BIN")}
export TG_FIXTURES=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}
secs=${SECS:-10}; conns=${CONNS:-32}
command -v wrk >/dev/null || { echo "pool_bench: wrk not found (scripts/setup.sh --bench)"; exit 1; }
source "$here/tests/gateway/lib.sh"
find_llama_server
tiny_model
start_llama LL "$model"
mid=$(curl -s "$LL/v1/models" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data[0].id))')
cat > "$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"$mid","max_tokens":1,"messages":[{"role":"user","content":"hi"}]}'
LUA
# p50 and p99 of a wrk --latency run, in ms
run_wrk() {
  wrk -t2 -c"$conns" -d"${secs}s" --latency -s "$work/post.lua" "$1/v1/chat/completions" > "$work/wrk.out" 2>&1
  node -e '
    const t = require("fs").readFileSync(process.argv[1], "utf8");
    const ms = k => { const m = t.match(new RegExp("\\s" + k + "%\\s+([0-9.]+)(us|ms|s)")); if (!m) return NaN;
      return +m[1] * ({us: 0.001, ms: 1, s: 1000})[m[2]]; };
    const rps = (t.match(/Requests\/sec:\s+([0-9.]+)/) || [])[1];
    const errs = (t.match(/Non-2xx or 3xx responses: (\d+)/) || [0, 0])[1];
    console.log(ms(50).toFixed(1), ms(99).toFixed(1), rps, errs);' "$work/wrk.out"
}
report() { # report NAME "p50 p99 rps errs" [direct p99]
  set -- "$1" $2 "${3:-}"
  printf '%-14s p50 %8s ms   p99 %8s ms   %8s req/s   non-2xx %s' "$1" "$2" "$3" "$4" "$5"
  [ -n "${6:-}" ] && node -e "process.stdout.write('   p99 ratio ' + ($3 / $6).toFixed(2))"
  echo
}
run_wrk "$LL" > /dev/null # warm-up
direct=$(run_wrk "$LL")
report direct "$direct"
dp99=$(echo "$direct" | cut -d' ' -f2)
start_tokgate T --upstream "$LL" --quiet
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT_T/v1/models" | grep -q '"id"' && break; sleep 0.2; done
curl -s "http://127.0.0.1:$PORT_T/v1/chat/completions" -d "$(sed -n "s/^wrk.body = '\\(.*\\)'$/\\1/p" "$work/post.lua")" | head -c 300; echo
report tokgate "$(run_wrk "http://127.0.0.1:$PORT_T")" "$dp99"
if [ -n "${OLD_BIN:-}" ]; then
  TG_BIN=$OLD_BIN start_tokgate O --upstream "$LL" --quiet
  for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT_O/v1/models" | grep -q '"id"' && break; sleep 0.2; done
  report "tokgate (old)" "$(run_wrk "http://127.0.0.1:$PORT_O")" "$dp99"
fi
report "direct again" "$(run_wrk "$LL")"
