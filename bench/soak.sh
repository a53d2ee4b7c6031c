#!/usr/bin/env bash
# bench/soak.sh: a bounded soak of tokgate in front of the REAL llama-server
# (CPU build, tiny random-weight qwen2 model, as tests/gateway/lib.sh starts
# them). SOAK_CLIENTS (default 6) concurrent node clients
# (bench/soak_client.js) send for SOAK_SECONDS (default 600) a mix of
# streaming and non-streaming chats, completions, client cuts mid-stream and
# mid-request, and bad requests; tokgate runs with a small capped default
# (8) and escalation to 32, so answers stopped at "length" are continued
# (streams in place, others re-sent). Every second tokgate's RSS
# (/proc/PID/status VmRSS) and open fds (/proc/PID/fd) are sampled.
#
# At the end it prints requests, errors, cuts, continuations, RSS and fds
# (start, max, end) and fails when:
#   - any answer was not what its case expects (soak_client.js lists them);
#   - after warm-up (the first SOAK_WARMUP seconds, default a fifth of the
#     run, at least 5), RSS grew more than SOAK_RSS_GROWTH_KB (default
#     max(16 MB, half the warm-up peak)) above the warm-up peak, or fds more
#     than SOAK_FD_GROWTH (default 2 * SOAK_CLIENTS + 8) above theirs, or,
#     once the clients stopped and the pool settled, more than 4 fds are
#     open beyond the warm-up peak;
#   - tokgate's stderr holds a sanitizer report, or it does not exit 0 on
#     SIGTERM (an ASan build checks for leaks at that exit).
# Environment: TG_BIN (default build/tokgate), TG_BUILD_DIR, TG_FIXTURES,
# TG_LLAMA_SERVER_BIN / TG_LLAMA_SERVER (else scripts/llama-server.sh), as for
# the gateway tests. tests/gateway/test_soak_short.sh runs 30 s of it in CI.
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
export TG_BIN=${TG_BIN:-$src/build/tokgate}
export TG_BUILD_DIR=${TG_BUILD_DIR:-$(dirname "$TG_BIN")}
export TG_FIXTURES=${TG_FIXTURES:-${TG_CACHE:-$HOME/.cache/tokgate}/fixtures}
export TG_SOURCE_DIR=${TG_SOURCE_DIR:-$src}
source "$src/tests/gateway/lib.sh"

secs=${SOAK_SECONDS:-600}
clients=${SOAK_CLIENTS:-6}
warm=${SOAK_WARMUP:-$(( secs / 5 > 5 ? secs / 5 : 5 ))}
fd_growth=${SOAK_FD_GROWTH:-$(( 2 * clients + 8 ))}
# A sanitizer build holds freed memory in quarantine: keep it small so that
# RSS shows growth, not the quarantine filling.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16

find_llama_server
tiny_model
start_llama L "$model" --parallel 4
start_tokgate S --upstream "$L" --model "$model" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32
pid=$PID_S
for i in $(seq 1 100); do curl -s "http://127.0.0.1:$PORT_S/v1/models" | grep -q '"limit"' && break; sleep 0.1; done

sample() { # prints "RSS_KB FDS"
  local rss fds
  rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
  fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
  echo "${rss:-0} $fds"
}
samples=$work/samples
( t=0; while kill -0 "$pid" 2>/dev/null; do echo "$t $(sample)"; sleep 1; t=$((t + 1)); done ) >"$samples" &
sampler=$!
pids+=($sampler)

echo "soak: ${secs}s, $clients clients, tokgate pid $pid on :$PORT_S, llama-server $L"
node "$src/bench/soak_client.js" "http://127.0.0.1:$PORT_S" "$secs" "$clients" >"$work/client.json"
client_rc=$?
sleep 3 # the pool and the cut requests settle
read -r rss_end fds_end <<<"$(sample)"
kill "$sampler" 2>/dev/null
wait "$sampler" 2>/dev/null

metric() { curl -s "http://127.0.0.1:$PORT_S/metrics" | awk -v n="$1" '$1==n {print $2}'; }
continued=$(metric tokgate_escalations_continued_total)
escalated=$(metric tokgate_escalations_total)
disconnects=$(metric tokgate_client_disconnects_total)

summary=$(node -e '
const fs = require("fs");
const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
const rows = fs.readFileSync(process.argv[2], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
const warm = Number(process.argv[3]);
const before = rows.filter((r) => r[0] < warm), after = rows.filter((r) => r[0] >= warm);
const max = (a, i) => a.reduce((m, r) => Math.max(m, r[i]), 0);
const out = { requests: c.requests, errors: c.errors, cuts: c.cuts, streams: c.streams, bad: c.bad,
  continuations_client: c.continuations, rss_start_kb: rows[0][1], rss_warm_kb: max(before, 1),
  rss_max_kb: max(rows, 1), rss_after_max_kb: max(after, 1), fds_start: rows[0][2], fds_warm: max(before, 2),
  fds_max: max(rows, 2), fds_after_max: max(after, 2), by_case: c.by_case, error_samples: c.error_samples };
console.log(JSON.stringify(out));' "$work/client.json" "$samples" "$warm")
val() { node -e 'const j=JSON.parse(process.argv[1]); console.log(j[process.argv[2]])' "$summary" "$1"; }

rss_warm=$(val rss_warm_kb); rss_after=$(val rss_after_max_kb)
fds_warm=$(val fds_warm); fds_after=$(val fds_after_max)
rss_growth=${SOAK_RSS_GROWTH_KB:-$(( rss_warm / 2 > 16384 ? rss_warm / 2 : 16384 ))}

echo "soak: requests $(val requests), errors $(val errors), cuts $(val cuts) (tokgate saw $disconnects client disconnects)," \
     "streams $(val streams), bad requests $(val bad)"
echo "soak: continuations $continued in place, $escalated escalations in all ($(val continuations_client) non-streaming answers marked x-tokgate-escalated)"
echo "soak: RSS start $(val rss_start_kb) kB, warm-up peak $rss_warm kB, max $(val rss_max_kb) kB, max after warm-up $rss_after kB, end $rss_end kB"
echo "soak: fds start $(val fds_start), warm-up peak $fds_warm, max $(val fds_max), max after warm-up $fds_after, end $fds_end"
echo "soak: by case $(node -e 'console.log(JSON.stringify(JSON.parse(process.argv[1]).by_case))' "$summary")"

check_eq "soak client ran" "$client_rc" 0
check_eq "no unexpected answers ($(val error_samples))" "$(val errors)" 0
check "requests were made" [ "$(val requests)" -gt 0 ]
check "continuations happened" [ "${continued:-0}" -gt 0 ]
check "RSS after warm-up ($rss_after kB) within $rss_growth kB of the warm-up peak ($rss_warm kB)" \
  [ "$rss_after" -le $(( rss_warm + rss_growth )) ]
check "fds after warm-up ($fds_after) within $fd_growth of the warm-up peak ($fds_warm)" \
  [ "$fds_after" -le $(( fds_warm + fd_growth )) ]
check "fds at the end ($fds_end) within 4 of the warm-up peak ($fds_warm)" [ "$fds_end" -le $(( fds_warm + 4 )) ]
stop_tokgate S
finish
