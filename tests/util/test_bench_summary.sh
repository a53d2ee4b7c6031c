#!/usr/bin/env bash
# test_bench_summary.sh: bench/summary.js, the SUMMARY block of `make bench`.
# The log below is trimmed from a real run of bench/all.sh (BENCH_QUICK=1,
# 2026-12-07, 2 loaded cores): the parts' RESULT lines summary.js reads, and
# a few of their table lines, which it must ignore. Checked: each target's
# verdict by issue 17's thresholds on those figures (given beside each
# check), then the same log with figures changed by sed so that verdicts
# flip both ways, a missing figure and a failed part.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat >"$work/log" <<'LOG'
######## encode: bash bench/run.sh (10:30:16, load 9.64 9.00 12.59)
RESULT encode qwen3.mbps 77.58 MB/s
RESULT encode qwen3.ratio 127.4 x
RESULT encode qwen3.worst_slowdown 21.14 x long-dot
RESULT encode qwen3.count_diffs 0 inputs
RESULT encode llama3.mbps 77.43 MB/s
RESULT encode llama3.ratio 113.2 x
RESULT encode llama3.worst_slowdown 15.44 x long-tab
RESULT encode llama3.count_diffs 0 inputs
RESULT encode gemma3.mbps 62.15 MB/s
RESULT encode gemma3.ratio 111.6 x
RESULT encode gemma3.worst_slowdown 11.95 x long-dot
RESULT encode gemma3.count_diffs 0 inputs
RESULT llama qwen2.ratio 46.9 x
RESULT llama qwen2.count_diff 0 tokens
RESULT llama llama-bpe.ratio 113.5 x
RESULT llama llama-bpe.count_diff 0 tokens
######## encode: exit 0, 150 s
RESULT part encode 0 rc
######## gateway-nginx: env UPSTREAM=nginx CONNS=2 32 bash bench/gateway_bench.sh build/tokgate (10:32:46, load 7.94 8.74 11.97)
== small chat request (81 bytes) (wrk -t2 -c2 -d3s, upstream nginx, load average 7.94 8.74 11.97)
tokgate vs nginx: added p50 ratio 3.16, added p99 ratio n/a (both <= 0), req/s ratio 0.91 (target: <= 1.5, <= 1.5, >= 1)
RESULT gateway static.small.c2.nginx.rps 10182 req/s
RESULT gateway static.small.c2.nginx.added_p50 0.043 ms
RESULT gateway static.small.c2.nginx.added_p99 -4.760 ms
RESULT gateway static.small.c2.tokgate.rps 9257 req/s
RESULT gateway static.small.c2.tokgate.added_p50 0.136 ms
RESULT gateway static.small.c2.tokgate.added_p99 -8.690 ms
== small chat request (81 bytes) (wrk -t2 -c32 -d3s, upstream nginx, load average 7.76 8.67 11.89)
tokgate vs nginx: added p50 ratio 2.08, added p99 ratio n/a (both <= 0), req/s ratio 0.60 (target: <= 1.5, <= 1.5, >= 1)
RESULT gateway static.small.c32.nginx.rps 11777 req/s
RESULT gateway static.small.c32.nginx.added_p50 1.671 ms
RESULT gateway static.small.c32.nginx.added_p99 -3.380 ms
RESULT gateway static.small.c32.tokgate.rps 7115 req/s
RESULT gateway static.small.c32.tokgate.added_p50 3.481 ms
RESULT gateway static.small.c32.tokgate.added_p99 -3.370 ms
tokgate vs nginx: added p50 ratio 14.03, added p99 ratio inf (nginx adds <= 0), req/s ratio 0.11 (target: <= 1.5, <= 1.5, >= 1)
######## gateway-nginx: exit 0, 68 s
RESULT part gateway-nginx 0 rc
######## gateway-llama: env UPSTREAM=llama CONNS=2 32 bash bench/gateway_bench.sh build/tokgate (10:33:54, load 6.36 8.14 11.54)
== small chat request (106 bytes) (wrk -t2 -c2 -d3s, upstream llama, load average 6.25 8.09 11.51)
tokgate vs nginx: added p50 ratio 1.52, added p99 ratio inf (nginx adds <= 0), req/s ratio 0.87 (target: <= 1.5, <= 1.5, >= 1)
RESULT gateway llama.small.c2.nginx.rps 138 req/s
RESULT gateway llama.small.c2.nginx.added_p50 1.810 ms
RESULT gateway llama.small.c2.nginx.added_p99 -1.270 ms
RESULT gateway llama.small.c2.tokgate.rps 120 req/s
RESULT gateway llama.small.c2.tokgate.added_p50 2.760 ms
RESULT gateway llama.small.c2.tokgate.added_p99 4.710 ms
== small chat request (106 bytes) (wrk -t2 -c32 -d3s, upstream llama, load average 6.05 7.96 11.41)
tokgate vs nginx: added p50 ratio 0.78, added p99 ratio 1.45, req/s ratio 1.22 (target: <= 1.5, <= 1.5, >= 1)
RESULT gateway llama.small.c32.nginx.rps 213 req/s
RESULT gateway llama.small.c32.nginx.added_p50 106.240 ms
RESULT gateway llama.small.c32.nginx.added_p99 154.070 ms
RESULT gateway llama.small.c32.tokgate.rps 260 req/s
RESULT gateway llama.small.c32.tokgate.added_p50 82.740 ms
RESULT gateway llama.small.c32.tokgate.added_p99 222.840 ms
######## gateway-llama: exit 0, 30 s
RESULT part gateway-llama 0 rc
######## body: env -u CONNS bash bench/body_bench.sh build/tokgate (10:34:24, load 6.13 7.91 11.36)
mode    tokgate_rps    nginx_rps   tg/nginx     target
warm        1944.81      3322.85      0.585      0.97x
cold         253.02       654.11      0.387      0.51x
RESULT body warm.rps 1944.81 req/s
RESULT body cold.rps 253.02 req/s
######## body: exit 0, 14 s
RESULT part body 0 rc
######## memory: env STREAMS=200 bash bench/memory.sh build/tokgate (10:34:38, load 6.61 7.93 11.31)
RESULT memory model_qwen3 24648 KiB
RESULT memory per_model_3 36733 KiB
RESULT memory per_stream_standin 327 bytes
RESULT memory per_stream_llama 0 bytes
######## memory: exit 0, 27 s
RESULT part memory 0 rc
######## sims: bash bench/run_sims.sh (10:35:05, load 6.86 7.87 11.20)
######## sims: exit 0, 2 s
RESULT part sims 0 rc
LOG
fail=0
out=
expect() { # expect PATTERN STATUS: the summary row matching PATTERN ends with STATUS
  local line
  line=$(printf '%s\n' "$out" | grep -E -- "$1" | head -1)
  if [ -z "$line" ] || ! printf '%s' "$line" | grep -qE -- "  $2\$"; then
    echo "FAIL: row /$1/ should be '$2': '$line'"; fail=1
  fi
}
out=$(node "$here/bench/summary.js" "$work/log")
printf '%s\n' "$out"
expect '^1 encode qwen3 vs HF' 'met'                    # 127.4 >= 100
expect '^1 encode gemma3 vs HF' 'met'                   # 111.6
expect '^1 pathological qwen3' 'NOT met'                # 21.14 > 5
expect '^1 exactness' 'met'                             # 0 of 5 differ
printf '%s\n' "$out" | grep -q '0 of 5 differ' || { echo "FAIL: 5 count comparisons expected"; fail=1; }
expect '^2 gateway, upstream llama-server, 2 conns, added p50' 'NOT met'   # 2.760 > 1.5 x 1.810
expect '^2 gateway, upstream llama-server, 2 conns, added p99' 'NOT met'   # 4.710 > 1.5 x max(-1.270, 0)
expect '^2 gateway, upstream llama-server, 2 conns, req/s' 'NOT met'       # 120 < 138
expect '^2 gateway, upstream llama-server, 32 conns, added p50' 'met'      # 82.740 <= 1.5 x 106.240
expect '^2 gateway, upstream llama-server, 32 conns, added p99' 'met'      # 222.840 <= 1.5 x 154.070
expect '^2 gateway, upstream llama-server, 32 conns, req/s' 'met'          # 260 >= 213
expect '^2 gateway, upstream nginx return 200, 2 conns, added p50' 'NOT met'  # 0.136 > 1.5 x 0.043
expect '^2 gateway, upstream nginx return 200, 2 conns, added p99' 'met'      # -8.690 <= 0
expect '^2 gateway, upstream nginx return 200, 32 conns, req/s' 'NOT met'     # 7115 < 11777
expect '^3 156 KB chat, count cache warm' 'NOT met'     # 1944.81 < 2000
expect '^3 156 KB chat, count cache cold' 'NOT met'     # 253.02 < 500
expect '^4 memory per loaded model' 'met'
expect '^4 memory per open stream' 'met'
expect '^5 make bench' 'met'                            # 6 parts, all rc 0
printf '%s\n' "$out" | grep -q '^14 met, 12 not met, 0 not measured$' || { echo "FAIL: the totals"; fail=1; }

# The same log, figures changed: verdicts flip, a figure goes missing, a part fails.
sed -e 's/^RESULT encode qwen3.ratio 127.4 x/RESULT encode qwen3.ratio 99.9 x/' \
    -e 's/^RESULT encode qwen3.worst_slowdown [0-9.]* x/RESULT encode qwen3.worst_slowdown 5.00 x/' \
    -e '/^RESULT encode gemma3.ratio /d' \
    -e 's/^RESULT encode llama3.count_diffs 0 /RESULT encode llama3.count_diffs 2 /' \
    -e 's/^RESULT gateway llama.small.c2.tokgate.added_p50 2.760 /RESULT gateway llama.small.c2.tokgate.added_p50 2.715 /' \
    -e 's/^RESULT gateway llama.small.c32.tokgate.rps 260 /RESULT gateway llama.small.c32.tokgate.rps 212 /' \
    -e 's/^RESULT body warm.rps 1944.81 /RESULT body warm.rps 2000 /' \
    -e 's/^RESULT part sims 0 rc/RESULT part sims 3 rc/' "$work/log" >"$work/log2"
out=$(node "$here/bench/summary.js" "$work/log2")
expect '^1 encode qwen3 vs HF' 'NOT met'
expect '^1 encode gemma3 vs HF' 'not measured'
expect '^1 pathological qwen3' 'met'
expect '^1 exactness' 'NOT met'
expect '^2 gateway, upstream llama-server, 2 conns, added p50' 'met'       # 2.715 <= 2.715
expect '^2 gateway, upstream llama-server, 32 conns, req/s' 'NOT met'      # 212 < 213
expect '^3 156 KB chat, count cache warm' 'met'
expect '^5 make bench' 'NOT met'
printf '%s\n' "$out" | grep -q 'failed: sims' || { echo "FAIL: the failed part is not named"; fail=1; }
[ $fail = 0 ] && echo "test_bench_summary: ok"
exit $fail
