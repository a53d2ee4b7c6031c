#!/usr/bin/env bash
# bench/gateway_bench.sh: what tokgate serve costs in front of an upstream.
#
# In one run, with wrk (HTTP load generator) and the same small chat request:
#   direct   wrk -> upstream
#   nginx    wrk -> nginx (plain reverse proxy, upstream keep-alive) -> upstream
#   tokgate  wrk -> tokgate serve -> upstream
# The upstream (UPSTREAM=nginx, the default) is nginx answering every request
# from memory (`return 200`; no count route, as a plain OpenAI-compatible
# server), so what is measured is the proxies, not a model; UPSTREAM=llama
# puts the real llama-server with the tiny test model there instead
# (tests/gateway/lib.sh's tiny_model; the chat asks for max_tokens 1).
# Method (issue 17): the upstream's own time drifts by more than a proxy
# costs (llama-server by milliseconds between runs), so one run per path
# cannot tell them apart. Each path is measured in ROUNDS short runs (SECS
# seconds each), the paths interleaved and their order rotated every round;
# bench/gateway_rounds.js reports per path the median over the rounds of
# requests/s, p50 and p99, and "added" as each round's p50/p99 minus the same
# round's direct one (a paired difference), each with a distribution-free
# interval for the median. Issue 17's three checks (tokgate's added p50 and
# p99 at most 1.5x nginx's, its requests/s at least nginx's) are per-round
# margins; a check is "met" or "NOT met" only when its whole interval lies on
# one side of zero, else "within noise". BASE_BIN adds a row for another
# tokgate build (before/after in one run, also paired per round; TG_ARGS and
# BASE_ARGS add flags to either's `tokgate serve`, e.g. the same build with
# another --upstream-max-conns as BASE_BIN). The proxy nginx runs
# worker_processes 1 in a process of its own, apart from the upstream's
# nginx (bench/lib.sh start_nginx_static), as tokgate is; tokgate one event loop thread (its worker threads only
# take bodies over inline_max, 64 KiB). With the nginx upstream, then the
# same for a 32K-token chat body (~128 KB of JSON: tokgate parses it, nginx
# does not) at the last CONNS (at most 3 rounds), and tokgate's memory per
# open SSE stream with many streams held open (stand-in upstream,
# tests/gateway/standin_upstream.js, model "stall").
#
# Needs: nginx and wrk (Debian packages), node, a built tokgate (and for
# UPSTREAM=llama the llama-server of scripts/llama-server.sh and the
# build's gguf_test_tiny_writer).
#   bench/gateway_bench.sh [TOKGATE_BIN]
#   env: SECS=2 ROUNDS=5 CONNS="2 32" STREAMS=2000 UPSTREAM=nginx|llama BASE_BIN= TG_ARGS='--access-log off' BASE_ARGS=
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
secs=${SECS:-2}
rounds=${ROUNDS:-5}
conns_list=${CONNS:-2 32}
streams=${STREAMS:-2000}
upstream=${UPSTREAM:-nginx}
base_bin=${BASE_BIN:-}
# more `tokgate serve` flags for tokgate / tokgate-base; tokgate's default is
# `--access-log off`, like the bench's nginx (`access_log off`): like for like
# (TG_ARGS= keeps the access line; an older BASE_BIN rejects the flag)
tg_args=${TG_ARGS---access-log off} base_args=${BASE_ARGS:-}
case $upstream in nginx|llama) ;; *) echo "gateway_bench: UPSTREAM is nginx or llama, not '$upstream'"; exit 1;; esac
[ -z "$base_bin" ] || [ -x "$base_bin" ] || { echo "gateway_bench: BASE_BIN $base_bin is not executable"; exit 1; }
for t in nginx wrk node; do command -v $t >/dev/null || { echo "gateway_bench: $t not found (apt-get install nginx wrk)"; exit 1; }; done
[ -x "$bin" ] || { echo "gateway_bench: no tokgate binary at $bin (make build)"; exit 1; }
. "$here/bench/lib.sh"
bench_init tg-bench

up=$(port); px=$(port); tg=$(port); tgb=$(port)
if [ "$upstream" = llama ]; then # the real engine with the tiny model (tests/gateway/lib.sh)
  server=${TG_LLAMA_SERVER_BIN:-$(bash "$here/scripts/llama-server.sh")} || { echo "gateway_bench: no llama-server (scripts/llama-server.sh)"; exit 1; }
  [ -d "$server" ] && server=$server/llama-server
  writer=$(dirname "$bin")/gguf_test_tiny_writer
  vocab=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}/llama.cpp/models/ggml-vocab-qwen2.gguf
  [ -x "$writer" ] && [ -f "$vocab" ] || { echo "gateway_bench: need $writer and $vocab (make build; scripts/setup.sh --test)"; exit 1; }
  "$writer" --write "$work/tiny.gguf" "$vocab" 42 >/dev/null
  llama_up=$(port)
  "$server" -m "$work/tiny.gguf" --host 127.0.0.1 --port "$llama_up" -c 2048 -t 1 --metrics >"$work/llama.log" 2>&1 & pids+=($!)
  for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$llama_up/health" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$llama_up/health" >/dev/null || { echo "gateway_bench: llama-server did not start"; tail -5 "$work/llama.log"; exit 1; }
fi
start_nginx_static "$up" "$px" "${llama_up:-$up}" 65536
target=http://127.0.0.1:${llama_up:-$up}
"$bin" serve --listen "127.0.0.1:$tg" --upstream "$target" --quiet $tg_args 2>"$work/tokgate.log" & tgpid=$!
pids+=($tgpid)
wait_port "$tg"
if [ -n "$base_bin" ]; then
  "$base_bin" serve --listen "127.0.0.1:$tgb" --upstream "$target" --quiet $base_args 2>"$work/tokgate-base.log" & pids+=($!)
  wait_port "$tgb"
fi
for p in $tg ${base_bin:+$tgb}; do
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$p/v1/models" | grep -q limit && break; sleep 0.1; done
done

model=bench
[ "$upstream" = llama ] && model=$(curl -s "http://127.0.0.1:$tg/v1/models" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data[0].id))')
small='{"model":"'$model'","messages":[{"role":"user","content":"Say ok."}],"max_tokens":1}'
node -e '
const words=[];for(let i=0;i<32000;i++)words.push("w"+(i%997));
process.stdout.write(JSON.stringify({model:"bench",messages:[{role:"system",content:"You are terse."},{role:"user",content:words.join(" ")}],max_tokens:16}));' >"$work/big.json"
printf %s "$small" >"$work/small.json"
wrk_post_lua "$work/small.lua" "$work/small.json"
wrk_post_lua "$work/big.lua" "$work/big.json"

# wrk --latency prints the 50% and 99% lines; prints rps p50 p99 (ms) non2xx [batch].
# With llama-server also its busy slots per llama_decode() call over the run
# (from its /metrics, deltas): how full its batches were, a figure the
# machine's load barely moves (4 = every slot in every batch, this model).
engine_batch() { # prints "decodes busy_slot_decodes" so far, or "0 0"
  [ "$upstream" = llama ] || { echo "0 0"; return; }
  curl -s "http://127.0.0.1:$llama_up/metrics" | awk '/^llamacpp:n_decode_total /{d=$2} /^llamacpp:n_busy_slots_per_decode /{b=$2}
    END{printf "%d %.3f\n", d, b*d}'
}
run() { # run URL LUA SECS
  local d0 b0 d1 b1
  read -r d0 b0 < <(engine_batch)
  wrk -t2 -c"$conns" -d"${3}s" --latency -s "$2" "$1/v1/chat/completions" >"$work/wrk.out" 2>&1
  node -e '
const s=require("fs").readFileSync(process.argv[1],"utf8");
const ms=v=>{const m=v.match(/([\d.]+)(us|ms|s)/);return +m[1]*({us:0.001,ms:1,s:1000})[m[2]];};
const p=q=>ms(s.match(new RegExp("^\\s*"+q+"%\\s+(\\S+)","m"))[1]);
const rps=+s.match(/Requests\/sec:\s+([\d.]+)/)[1];
const non2xx=(s.match(/Non-2xx or 3xx responses:\s+(\d+)/)||[0,0])[1];
console.log([rps.toFixed(1),p(50).toFixed(3),p(99).toFixed(3),non2xx].join(" "));' "$work/wrk.out" | tr -d '\n'
  read -r d1 b1 < <(engine_batch)
  if [ "$upstream" = llama ] && [ "$d1" -gt "$d0" ]; then echo " $(node -pe "(($b1-$b0)/($d1-$d0)).toFixed(3)")"; else echo; fi
}
url_of() { case $1 in direct) echo "$target" ;; nginx) echo "http://127.0.0.1:$px" ;; tokgate) echo "http://127.0.0.1:$tg" ;; *) echo "http://127.0.0.1:$tgb" ;; esac; }
report() { # report TITLE LUA BODYKEY [ROUNDS]: the rounds, then the table and RESULT gateway <up>.<body>.c<N>.<path>.<metric>
  local key=$ukey.$3.c$conns nr=${4:-$rounds} r i n paths
  paths=(direct nginx tokgate ${base_bin:+tokgate-base})
  n=${#paths[@]}
  echo "== $1 (wrk -t2 -c$conns, $nr rounds x ${secs}s per path, order rotated each round, upstream $upstream, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  for i in "${!paths[@]}"; do run "$(url_of "${paths[$i]}")" "$2" 1 >/dev/null; done # warm-up: connections, caches
  : >"$work/rounds"
  for r in $(seq 1 "$nr"); do
    for i in $(seq 0 $((n - 1))); do
      name=${paths[$(( (i + r - 1) % n ))]}
      echo "$r $name $(run "$(url_of "$name")" "$2" "$secs")" >>"$work/rounds"
    done
  done
  node "$here/bench/gateway_rounds.js" "$key" "$work/rounds"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
}
ukey=static; [ "$upstream" = llama ] && ukey=llama # RESULT keys: static = nginx return 200
echo "gateway_bench: $(nproc) cores, nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(date -u +%FT%TZ)"
prev_sum=0; prev_n=0
added() { # tokgate's own measure of the time it adds per request (tokgate_added_latency_seconds), since the last call
  read -r sum n < <(curl -s "http://127.0.0.1:$tg/metrics" | awk '/^tokgate_added_latency_seconds_sum/{s=$2} /^tokgate_added_latency_seconds_count/{n=$2} END{print s, n}')
  echo "tokgate's own added-latency measure: $(node -pe "(1000*($sum-$prev_sum)/Math.max(1,$n-$prev_n)).toFixed(3)") ms mean over $((n - prev_n)) requests (parse, budget, relay of the head)"
  prev_sum=$sum; prev_n=$n
}
echo "threads: nginx worker_processes 1; tokgate 1 event loop thread (+ $(awk '/^Threads:/{print $2 - 1}' /proc/$tgpid/status) worker threads, for bodies over inline_max)"
added >/dev/null
for conns in $conns_list; do
  report "small chat request ($(wc -c <"$work/small.json") bytes)" "$work/small.lua" small
  added
done
[ "$upstream" = nginx ] || exit 0
report "32K-word chat ($(wc -c <"$work/big.json") bytes, ~39K estimated tokens)" "$work/big.lua" big $(( rounds < 3 ? rounds : 3 ))
added

# Memory per open SSE stream: hold STREAMS streams open through tokgate.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
node "$here/tests/gateway/standin_upstream.js" "$work/standin.port" & pids+=($!)
for _ in $(seq 1 50); do [ -s "$work/standin.port" ] && break; sleep 0.1; done
sp=$(cat "$work/standin.port"); tg2=$(port)
"$bin" serve --listen "127.0.0.1:$tg2" --upstream "http://127.0.0.1:$sp" --idle-timeout 600 --first-byte-timeout 600 --quiet 2>>"$work/tokgate.log" & tg2pid=$!
pids+=($tg2pid)
wait_port "$tg2"
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$tg2/v1/models" | grep -q stall && break; sleep 0.1; done
rss0=$(ps -o rss= -p "$tg2pid" | tr -d ' ')
node -e '
const net=require("net");const n=+process.argv[2],port=+process.argv[1];let open=0;
const b=JSON.stringify({model:"stall",stream:true,messages:[{role:"user",content:"hi"}]});
function one(){const s=net.connect(port,"127.0.0.1",()=>s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: "+b.length+"\r\n\r\n"+b));
  let got=false;s.on("data",()=>{if(!got){got=true;open++;if(open===n){console.log("open");}}});s.on("error",()=>{});}
let i=0;const t=setInterval(()=>{for(let k=0;k<100&&i<n;k++,i++)one();if(i>=n)clearInterval(t);},10);
setTimeout(()=>{},600000);' "$tg2" "$streams" >"$work/streams.out" & holder=$!
pids+=($holder)
for _ in $(seq 1 300); do grep -q open "$work/streams.out" 2>/dev/null && break; sleep 0.1; done
rss1=$(ps -o rss= -p "$tg2pid" | tr -d ' ')
openm=$(curl -s "http://127.0.0.1:$tg2/metrics" | awk '/^tokgate_open_streams /{print $2}')
echo "== memory per open SSE stream"
echo "streams open: $openm; tokgate RSS ${rss0} KiB -> ${rss1} KiB; per stream $(( (rss1 - rss0) * 1024 / (openm > 0 ? openm : 1) )) bytes (client + upstream connection, buffers, state)"
result gateway per_stream_standin "$(( (rss1 - rss0) * 1024 / (openm > 0 ? openm : 1) ))" bytes

# --- reading a continuable stream: CPU per token (bench/cont_bench.c) ------------
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$here/include" -I"$here/src" "$here/bench/cont_bench.c" "${TG_BUILD_DIR:-$here/build}/libtokgate_daemon.a" "${TG_BUILD_DIR:-$here/build}/libtokgate.a" \
   $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lm -o "$work/cont_bench"
echo "== reading a stream that may continue in place (per token)"
"$work/cont_bench" 200000
