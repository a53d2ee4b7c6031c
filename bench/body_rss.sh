#!/usr/bin/env bash
# bench/body_rss.sh: issue 16's memory reproducer. N concurrent large
# request bodies (default 10 x 30 MB) pass through tokgate (POST
# /v1/embeddings, a pass-through route) to a slow upstream that reads
# nothing and answers nothing for HOLD seconds; tokgate's resident memory is
# sampled every 0.2 s. Prints the RSS before, the peak, and the bytes held
# per body byte ((peak - before) / (N x SIZE)): 1 means each body is held
# once.
#   bench/body_rss.sh [TOKGATE_BIN]   (env: N=10 MB=30 HOLD=8)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
n=${N:-10}; mb=${MB:-30}; hold=${HOLD:-8}
. "$here/bench/lib.sh"
bench_init tg-rss
up=$(port); tg=$(port)
# the slow upstream: accepts, never reads (its socket paused), closes after HOLD s
node -e "require('net').createServer(s=>{s.pause();s.on('error',()=>{});setTimeout(()=>s.destroy(),$hold*1000)}).listen($up,'127.0.0.1')" & pids+=($!)
wait_port "$up"
"$bin" serve --listen "127.0.0.1:$tg" --upstream "http://127.0.0.1:$up" --served-name m --engine vllm --context 4096 \
  --first-byte-timeout $((hold + 5)) --max-body-bytes $(( (mb + 1) << 20 )) --quiet 2>"$work/tg.log" & tpid=$!; pids+=($tpid)
wait_port "$tg"
head -c $((mb << 20)) /dev/zero | tr '\0' 'a' > "$work/body"
rss() { awk '/^VmRSS/ {print $2}' /proc/$tpid/status; }
before=$(rss)
for i in $(seq 1 "$n"); do
  curl -s -o /dev/null -m $((hold + 20)) -H 'Content-Type: application/json' --data-binary @"$work/body" \
    "http://127.0.0.1:$tg/v1/embeddings" & pids+=($!)
done
peak=$before
end=$(( $(date +%s) + hold + 3 ))
while [ "$(date +%s)" -lt "$end" ]; do r=$(rss); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
after=$(rss)
echo "bodies: $n x $mb MB; tokgate RSS before ${before} KiB, peak ${peak} KiB, after ${after} KiB"
node -e "console.log('held per body byte: ' + (($peak - $before) / ($n * $mb * 1024)).toFixed(2))"
