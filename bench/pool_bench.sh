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
report() { # report NAME "p50 p99 rps errs"
  set -- "$1" $2
  printf '%-14s p50 %8s ms   p99 %8s ms   %8s req/s   non-2xx %s\n' "$1" "$2" "$3" "$4" "$5"
}
wait_models() { for _ in $(seq 1 50); do curl -s "$1/v1/models" | grep -q '"id"' && break; sleep 0.2; done; }
start_tokgate T --upstream "$LL" --quiet
wait_models "http://127.0.0.1:$PORT_T"
targets=("direct=$LL" "tokgate=http://127.0.0.1:$PORT_T")
if [ -n "${OLD_BIN:-}" ]; then
  TG_BIN=$OLD_BIN start_tokgate O --upstream "$LL" --quiet
  wait_models "http://127.0.0.1:$PORT_O"
  targets+=("old=http://127.0.0.1:$PORT_O")
fi
echo "llama-server: $(curl -s "$LL/props" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("total_slots "+JSON.parse(s).total_slots))'); $conns connections, ${secs} s per run, ${ROUNDS:-3} rounds"
run_wrk "$LL" > /dev/null # warm-up
: > "$work/all"
for round in $(seq 1 "${ROUNDS:-3}"); do
  for t in "${targets[@]}"; do
    name=${t%%=*}; r=$(run_wrk "${t#*=}")
    report "$name#$round" "$r"
    echo "$name $r" >> "$work/all"
  done
done
# medians, and tokgate's p99 over direct's
node -e '
  const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(l => l.split(" "));
  const med = a => { a = a.slice().sort((x, y) => x - y); return a[(a.length - 1) >> 1]; };
  const by = {};
  for (const [n, p50, p99] of rows) (by[n] = by[n] || {p50: [], p99: []}, by[n].p50.push(+p50), by[n].p99.push(+p99));
  const d = med(by.direct.p99);
  for (const n of Object.keys(by))
    console.log(`median ${n.padEnd(8)} p50 ${med(by[n].p50).toFixed(1)} ms  p99 ${med(by[n].p99).toFixed(1)} ms` +
                (n === "direct" ? "" : `  p99 ratio to direct ${(med(by[n].p99) / d).toFixed(2)}`));' "$work/all"
