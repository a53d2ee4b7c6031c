#!/usr/bin/env bash
# test_bench_summary.sh: bench/summary.js, the SUMMARY block of `make bench`,
# and bench/gateway_rounds.js, the gateway bench's statistics over rounds.
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
######## gateway-llama: env UPSTREAM=llama CONNS=2 32 bash bench/gateway_bench.sh build/tokgate (12:09:08, load 8.99 7.01 4.82)
== small chat request (106 bytes) (wrk -t2 -c2, 5 rounds x 2s per path, order rotated each round, upstream llama, load average 8.99 7.01 4.82)
  req/s: tokgate - nginx = 23.4 [-79.5..34.6] (ratio 1.162 [0.506..1.254]): within noise
RESULT gateway llama.small.c2.nginx.rps 145 req/s
RESULT gateway llama.small.c2.nginx.added_p50 1.820 ms
RESULT gateway llama.small.c2.nginx.added_p99 -16.390 ms
RESULT gateway llama.small.c2.tokgate.rps 165 req/s
RESULT gateway llama.small.c2.tokgate.added_p50 -0.160 ms
RESULT gateway llama.small.c2.tokgate.added_p99 -7.730 ms
RESULT gateway llama.small.c2.tokgate.margin_p50 3.010 ms
RESULT gateway llama.small.c2.tokgate.margin_p50_lo -13.020 ms
RESULT gateway llama.small.c2.tokgate.margin_p50_hi 6.680 ms
RESULT gateway llama.small.c2.tokgate.margin_p99 7.730 ms
RESULT gateway llama.small.c2.tokgate.margin_p99_lo 4.905 ms
RESULT gateway llama.small.c2.tokgate.margin_p99_hi 23.460 ms
RESULT gateway llama.small.c2.tokgate.margin_rps 23.400 req/s
RESULT gateway llama.small.c2.tokgate.margin_rps_lo -79.500 req/s
RESULT gateway llama.small.c2.tokgate.margin_rps_hi 34.600 req/s
RESULT gateway llama.small.c2.rounds 5 rounds
RESULT gateway llama.small.c2.coverage 93.8 %
RESULT gateway llama.small.c32.nginx.rps 187 req/s
RESULT gateway llama.small.c32.nginx.added_p50 -2.220 ms
RESULT gateway llama.small.c32.nginx.added_p99 -1378.390 ms
RESULT gateway llama.small.c32.tokgate.rps 147 req/s
RESULT gateway llama.small.c32.tokgate.added_p50 154.140 ms
RESULT gateway llama.small.c32.tokgate.added_p99 -1340.390 ms
RESULT gateway llama.small.c32.tokgate.margin_p50 -124.320 ms
RESULT gateway llama.small.c32.tokgate.margin_p50_lo -291.140 ms
RESULT gateway llama.small.c32.tokgate.margin_p50_hi 207.030 ms
RESULT gateway llama.small.c32.tokgate.margin_p99 1340.390 ms
RESULT gateway llama.small.c32.tokgate.margin_p99_lo -378.980 ms
RESULT gateway llama.small.c32.tokgate.margin_p99_hi 1743.610 ms
RESULT gateway llama.small.c32.tokgate.margin_rps -39.600 req/s
RESULT gateway llama.small.c32.tokgate.margin_rps_lo -117.800 req/s
RESULT gateway llama.small.c32.tokgate.margin_rps_hi 42.200 req/s
RESULT gateway llama.small.c32.rounds 5 rounds
RESULT gateway llama.small.c32.coverage 93.8 %
######## gateway-llama: exit 0, 103 s
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
# llama-server, measured in rounds: judged by each margin's interval (lo >= 0 met, hi < 0 NOT met, else within noise)
expect '^2 gateway, upstream llama-server, 2 conns, added p50' 'within noise'  # margin [-13.020..6.680]
expect '^2 gateway, upstream llama-server, 2 conns, added p99' 'met'           # margin [4.905..23.460]
expect '^2 gateway, upstream llama-server, 2 conns, req/s' 'within noise'      # margin [-79.5..34.6]
expect '^2 gateway, upstream llama-server, 32 conns, added p50' 'within noise' # margin [-291.140..207.030]
expect '^2 gateway, upstream llama-server, 32 conns, req/s' 'within noise'     # margin [-117.8..42.2]
expect '^2 gateway, upstream llama-server, 32 conns, added p99' 'within noise' # margin [-378.980..1743.610]
printf '%s\n' "$out" | grep -q 'margin 23.4 \[-79.5..34.6\], 5 rounds' || { echo "FAIL: the margin and its interval are not shown"; fail=1; }
# nginx return 200, one run per path (a log from before the rounds): judged on the single figures
expect '^2 gateway, upstream nginx return 200, 2 conns, added p50' 'NOT met'  # 0.136 > 1.5 x 0.043
expect '^2 gateway, upstream nginx return 200, 2 conns, added p99' 'met'      # -8.690 <= 0
expect '^2 gateway, upstream nginx return 200, 32 conns, req/s' 'NOT met'     # 7115 < 11777
expect '^3 156 KB chat, count cache warm' 'NOT met'     # 1944.81 < 2000
expect '^3 156 KB chat, count cache cold' 'NOT met'     # 253.02 < 500
expect '^4 memory per loaded model' 'met'
expect '^4 memory per open stream' 'met'
expect '^5 make bench' 'met'                            # 6 parts, all rc 0
printf '%s\n' "$out" | grep -q '^12 met, 9 not met, 5 within noise, 0 not measured$' || { echo "FAIL: the totals"; fail=1; }

# The same log, figures changed: verdicts flip, a figure goes missing, a part fails.
sed -e 's/^RESULT encode qwen3.ratio 127.4 x/RESULT encode qwen3.ratio 99.9 x/' \
    -e 's/^RESULT encode qwen3.worst_slowdown [0-9.]* x/RESULT encode qwen3.worst_slowdown 5.00 x/' \
    -e '/^RESULT encode gemma3.ratio /d' \
    -e 's/^RESULT encode llama3.count_diffs 0 /RESULT encode llama3.count_diffs 2 /' \
    -e 's/^RESULT gateway llama.small.c2.tokgate.margin_p50_lo -13.020 /RESULT gateway llama.small.c2.tokgate.margin_p50_lo 0.000 /' \
    -e 's/^RESULT gateway llama.small.c32.tokgate.margin_rps_hi 42.200 /RESULT gateway llama.small.c32.tokgate.margin_rps_hi -0.100 /' \
    -e 's/^RESULT gateway llama.small.c2.coverage 93.8 /RESULT gateway llama.small.c2.coverage 75.0 /' \
    -e 's/^RESULT gateway static.small.c32.tokgate.rps 7115 /RESULT gateway static.small.c32.tokgate.rps 11777 /' \
    -e 's/^RESULT body warm.rps 1944.81 /RESULT body warm.rps 2000 /' \
    -e 's/^RESULT part sims 0 rc/RESULT part sims 3 rc/' "$work/log" >"$work/log2"
out=$(node "$here/bench/summary.js" "$work/log2")
expect '^1 encode qwen3 vs HF' 'NOT met'
expect '^1 encode gemma3 vs HF' 'not measured'
expect '^1 pathological qwen3' 'met'
expect '^1 exactness' 'NOT met'
expect '^2 gateway, upstream llama-server, 2 conns, added p50' 'within noise'  # lo 0.000 but 75% confidence (3 rounds)
expect '^2 gateway, upstream llama-server, 2 conns, added p99' 'within noise'  # [4.905..23.460], the same
expect '^2 gateway, upstream llama-server, 32 conns, req/s' 'NOT met'          # margin [-117.8..-0.1]
expect '^2 gateway, upstream nginx return 200, 32 conns, req/s' 'met'          # 11777 >= 11777
expect '^3 156 KB chat, count cache warm' 'met'
expect '^5 make bench' 'NOT met'
printf '%s\n' "$out" | grep -q 'failed: sims' || { echo "FAIL: the failed part is not named"; fail=1; }

# bench/gateway_rounds.js, the rounds' statistics, on made-up rounds whose
# medians and intervals are worked out by hand (5 rounds: the interval is
# min..max, 93.75% = 1 - 2/32 for the median):
#   direct  p50 10 every round, p99 20, 100 req/s
#   nginx   p50 11 12 10 13 11 -> added 1 2 0 3 1: median 1 [0..3]; p99 30 (adds 10); 100 req/s
#   tokgate p50 12 12 11 12 20 -> added 2 2 1 2 10: median 2 [1..10]; p99 40 (adds 20);
#           req/s 101..105 (listed out of order)
#   margin p50 per round 1.5 x max(nginx, 0) - tokgate: -0.5 1 -1 2.5 -8.5 -> -0.5 [-8.5..2.5]: within noise
#   margin p99: 15 - 20 = -5 every round: NOT met; margin req/s 1..5 -> 3 [1..5]: met
cat >"$work/rounds" <<'ROUNDS'
1 direct 100 10 20 0 3.9
1 nginx 100 11 30 0 4.0
1 tokgate 101 12 40 0 3.8
2 nginx 100 12 30 0 4.0
2 tokgate 104 12 40 0 3.8
2 direct 100 10 20 0 3.9
3 tokgate 102 11 40 0 3.8
3 direct 100 10 20 0 3.9
3 nginx 100 10 30 0 4.0
4 direct 100 10 20 0 3.9
4 nginx 100 13 30 0 4.0
4 tokgate 105 12 40 0 2.5
5 nginx 100 11 30 0 4.0
5 tokgate 103 20 40 0 3.8
5 direct 100 10 20 0 3.9
ROUNDS
rout=$(node "$here/bench/gateway_rounds.js" llama.small.c2 "$work/rounds")
printf '%s\n' "$rout"
has() { printf '%s\n' "$rout" | grep -qF -- "$1" || { echo "FAIL: gateway_rounds.js: no '$1'"; fail=1; }; }
has 'RESULT gateway llama.small.c2.nginx.added_p50 1.000 ms'
has 'RESULT gateway llama.small.c2.nginx.added_p50_lo 0.000 ms'
has 'RESULT gateway llama.small.c2.nginx.added_p50_hi 3.000 ms'
has 'RESULT gateway llama.small.c2.tokgate.added_p50 2.000 ms'
has 'RESULT gateway llama.small.c2.tokgate.added_p50_hi 10.000 ms'
has 'RESULT gateway llama.small.c2.tokgate.rps 103 req/s'
has 'RESULT gateway llama.small.c2.tokgate.margin_p50 -0.500 ms'
has 'RESULT gateway llama.small.c2.tokgate.margin_p50_lo -8.500 ms'
has 'RESULT gateway llama.small.c2.tokgate.margin_p50_hi 2.500 ms'
has 'RESULT gateway llama.small.c2.tokgate.margin_p99_hi -5.000 ms'
has 'RESULT gateway llama.small.c2.tokgate.margin_rps 3.000 req/s'
has 'RESULT gateway llama.small.c2.tokgate.margin_rps_lo 1.000 req/s'
has 'RESULT gateway llama.small.c2.tokgate.batch 3.800 slots/decode'
has 'RESULT gateway llama.small.c2.tokgate.batch_lo 2.500 slots/decode'
has 'RESULT gateway llama.small.c2.coverage 93.8 %'
has 'margin 1.5 x max(nginx, 0) - tokgate = -0.500 [-8.500..2.500] ms: within noise'
has 'margin = -5.000 [-5.000..-5.000] ms: NOT met'
has 'req/s: tokgate - nginx = 3.0 [1.0..5.0] (ratio 1.030 [1.010..1.050]): met'
# The same figures in 3 rounds: a 75% interval gives no verdict.
rout=$(grep -E '^[123] ' "$work/rounds" | node "$here/bench/gateway_rounds.js" llama.small.c2)
has 'RESULT gateway llama.small.c2.coverage 75.0 %'
has 'req/s: tokgate - nginx = 2.0 [1.0..4.0] (ratio 1.020 [1.010..1.040]): within noise (too few rounds for a verdict)'
[ $fail = 0 ] && echo "test_bench_summary: ok"
exit $fail
