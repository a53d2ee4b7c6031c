#!/usr/bin/env bash
# test_bench_summary.sh: bench/summary.js, the SUMMARY block of `make bench`,
# on a made-up run log: RESULT lines, gateway_bench.sh's and body_bench.sh's
# table formats
# (the figures are invented; what is checked is each target's verdict:
# met, NOT met or not measured, by the thresholds of issue 17).
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/log" <<'LOG'
RESULT encode qwen3.mbps 60.00 MB/s
RESULT encode qwen3.ratio 120.0 x
RESULT encode qwen3.worst_slowdown 4.50 x long-random
RESULT encode qwen3.count_diffs 0 inputs
RESULT encode llama3.ratio 99.9 x
RESULT encode llama3.worst_slowdown 6.10 x long-spaces
RESULT encode llama3.count_diffs 1 inputs
RESULT llama qwen2.ratio 3.2 x
RESULT llama qwen2.count_diff 0 tokens
== small chat request (81 bytes) against llama-server (wrk -t2 -c2 -d10s)
path          req/s     p50_ms     p99_ms  added_p50  added_p99
direct         1000      2.000      5.000          -          -
nginx           900      2.400      5.400      0.400      0.400
tokgate         950      2.500      5.900      0.500      0.900
== small chat request (81 bytes) against llama-server (wrk -t2 -c32 -d10s)
path          req/s     p50_ms     p99_ms  added_p50  added_p99
direct         2000      9.000     20.000          -          -
nginx          1900      9.200     21.000      0.200      1.000
tokgate        1800      9.250     21.100      0.250      1.100
== memory per open SSE stream
wrk -t2 -c8 -d10s
mode    tokgate_rps    nginx_rps   tg/nginx     target
warm           2500         3000       0.83       2000
cold            400         3000       0.13        500
RESULT memory per_model_3 26000 KiB
RESULT memory model_qwen3 14000 KiB
RESULT memory per_stream_standin 4096 bytes
RESULT part encode 0 rc
RESULT part gateway 0 rc
RESULT part sims 3 rc
LOG
out=$(node "$here/bench/summary.js" "$work/log")
printf '%s\n' "$out"
fail=0
expect() { # expect PATTERN STATUS: the summary row matching PATTERN ends with STATUS
  local line
  line=$(printf '%s\n' "$out" | grep -E -- "$1" | head -1)
  if [ -z "$line" ] || ! printf '%s' "$line" | grep -qE -- "  $2\$"; then
    echo "FAIL: row /$1/ should be '$2': '$line'"; fail=1
  fi
}
expect '^1 encode qwen3 vs HF' 'met'
expect '^1 encode llama3 vs HF' 'NOT met'
expect '^1 encode gemma3 vs HF' 'not measured'
expect '^1 pathological qwen3' 'met'
expect '^1 pathological llama3' 'NOT met'
expect '^1 exactness' 'NOT met'
expect '^2 gateway llama-server 2 conns added p50' 'met'       # 0.5 <= 1.5 x 0.4
expect '^2 gateway llama-server 2 conns added p99' 'NOT met'   # 0.9 > 0.6
expect '^2 gateway llama-server 2 conns req/s' 'met'
expect '^2 gateway llama-server 32 conns req/s' 'NOT met'
expect '^3 156 KB chat, count cache warm' 'met'
expect '^3 156 KB chat, count cache cold' 'NOT met'
expect '^4 memory per loaded model' 'met'
expect '^5 make bench' 'NOT met'
printf '%s\n' "$out" | grep -q 'failed: sims' || { echo "FAIL: the failed part is not named"; fail=1; }
[ $fail = 0 ] && echo "test_bench_summary: ok"
exit $fail
