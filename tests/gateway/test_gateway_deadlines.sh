#!/usr/bin/env bash
# test_gateway_deadlines.sh: issue 16's upstream-side reproducers, against
# the STAND-IN upstream (standin_upstream.js: a real server cannot be made
# to trickle or cut on demand):
#   - a response head trickled one byte every 250 ms with a first-byte
#     timeout of 2 s: 504 within the deadline (it used to reset per byte and
#     deliver the answer after the whole head came, ~17 s here, 69 s at 1 B/s);
#   - an SSE body trickled under the minimum rate: an SSE error event and
#     the end of the stream (it used to stream for ever);
#   - a non-stream body past timeouts.answer: the connection is cut (short body);
#   - a close-delimited SSE stream cut without data: [DONE] ends with an
#     error event (it used to end like a clean one); a complete one does not;
#   - the SIGTERM drain deadline ends a stream in flight with an SSE error
#     event (it used to close it silently);
#   - a host-name upstream (localhost) answers (resolved off the event loop);
#   - large bodies to an upstream that reads nothing: held once (RSS grows by
#     less than twice their sum; it grew ~4.9x), and past
#     limits.max_buffered_bytes a 503 with Retry-After naming the cap.
# Times are checked with generous slack only ("ended within N s"). The models
# run with continuation off: these are transport faults, not continuation legs.
source "$(dirname "$0")/lib.sh"

start_standin
UP=http://127.0.0.1:$STANDIN_PORT
models=
for m in trickle_head trickle_sse trickle_json close_cut close_ok stream_long ok; do
  models+="${models:+,}{\"name\":\"$m\",\"upstream\":\"$UP\",\"upstream_model\":\"$m\",\"engine\":\"vllm\",\"continuation\":\"off\",\"limits\":{\"context\":4096}}"
done
printf '{"models":[%s]}\n' "$models" > "$work/dl.json"
start_tokgate A --config "$work/dl.json" --first-byte-timeout 2 --idle-timeout 1 --answer-timeout 3 \
  --drain-timeout 2
G=http://127.0.0.1:$PORT_A
chat() { # chat MODEL STREAM(true|false)
  printf '{"model":"%s","stream":%s,"max_tokens":8,"messages":[{"role":"user","content":"hi"}]}' "$1" "$2"
}
elapsed() { node -e "console.log(((Date.now()-$1)/1000).toFixed(1))"; }
now_ms() { node -e 'console.log(Date.now())'; }

# --- a head trickled byte by byte: the first-byte deadline is absolute ---------------
t0=$(now_ms)
r=$(curl -s -m 30 -w ' %{http_code}' "$G/v1/chat/completions" -d "$(chat trickle_head false)")
dt=$(elapsed "$t0")
check_contains "trickled head: 504 first_byte_timeout" "$r" '"code":"first_byte_timeout"}} 504'
check "trickled head: answered within 6 s of a 2 s deadline (took ${dt}s)" node -e "process.exit($dt < 6 ? 0 : 1)"

# --- an SSE body under the minimum rate: an error event, then the end ------------------
t0=$(now_ms)
r=$(curl -s -N -m 30 "$G/v1/chat/completions" -d "$(chat trickle_sse true)"); rc=$?
dt=$(elapsed "$t0")
check_eq "trickled SSE body: the stream ends (curl exit)" "$rc" 0
check_contains "trickled SSE body: the event before the trickle arrives" "$r" "tok0 "
check_contains "trickled SSE body: SSE error event" "$r" '"code":"answer_too_slow"'
check "trickled SSE body: ended within 8 s (took ${dt}s)" node -e "process.exit($dt < 8 ? 0 : 1)"

# --- a non-stream body past timeouts.answer: cut, the client sees it short -------------
t0=$(now_ms)
out=$(curl -s -m 30 -w ' %{http_code} %{size_download}' "$G/v1/chat/completions" -d "$(chat trickle_json false)"); rc=$?
dt=$(elapsed "$t0")
check "trickled JSON body: cut (curl exit $rc, not 0)" test "$rc" -ne 0
check "trickled JSON body: cut within 10 s (took ${dt}s)" node -e "process.exit($dt < 10 ? 0 : 1)"

# --- a close-delimited SSE stream cut by the upstream -----------------------------------
r=$(curl -s -N -m 10 "$G/v1/chat/completions" -d "$(chat close_cut true)")
check_contains "close-delimited stream cut: the events before the cut" "$r" "tok1 "
check_contains "close-delimited stream cut: SSE error event" "$r" '"code":"reset"'
r=$(curl -s -N -m 10 "$G/v1/chat/completions" -d "$(chat close_ok true)")
check_contains "close-delimited stream complete: [DONE]" "$r" "data: [DONE]"
case "$r" in *'"error"'*) fail "close-delimited stream complete: no error event: $r" ;; *) ok ;; esac

# --- a host name as the upstream: resolved off the loop, answers -----------------------
start_tokgate H --upstream "http://localhost:$STANDIN_PORT" --served-name ok --upstream-model ok --engine vllm \
  --context 4096
r=$(curl -s -m 10 "http://127.0.0.1:$PORT_H/v1/chat/completions" -d "$(chat ok false)")
js_check "host-name upstream (localhost) answers" "$r" 'j.usage && j.usage.completion_tokens===8'
r=$(curl -s -m 10 "http://127.0.0.1:$PORT_H/healthz")
js_check "host-name upstream: the daemon serves" "$r" 'j.status==="ok"'
stop_tokgate H

# --- the per-upstream connection cap: requests beyond it wait, in order --------------
start_tokgate C --config "$work/dl.json" --upstream-max-conns 1 --first-byte-timeout 2
curl -s -N -m 4 "http://127.0.0.1:$PORT_C/v1/chat/completions" -d "$(chat stream_long true)" > /dev/null & hp=$!
sleep 0.5
r=$(curl -s -m 10 -w ' %{http_code}' "http://127.0.0.1:$PORT_C/v1/chat/completions" -d "$(chat ok false)")
check_contains "cap 1, the one connection busy: the next request waits, then 504" "$r" 'became free within 2s'
wait "$hp"
curl -s -N -m 1.5 "http://127.0.0.1:$PORT_C/v1/chat/completions" -d "$(chat stream_long true)" > /dev/null & hp=$!
sleep 0.5
r=$(curl -s -m 10 "http://127.0.0.1:$PORT_C/v1/chat/completions" -d "$(chat ok false)")
js_check "cap 1: a waiting request takes the connection once the stream before it ends" "$r" 'j.usage.completion_tokens===8'
wait "$hp"
stop_tokgate C

# --- bodies held once, and the global cap --------------------------------------------
hole=$(free_port)
node -e "require('net').createServer(s=>{s.pause();s.on('error',()=>{});setTimeout(()=>s.destroy(),6000)}).listen($hole,'127.0.0.1')" & pids+=($!)
wait_port "$hole"
head -c $((30 << 20)) /dev/zero | tr '\0' 'a' > "$work/body30"
rss_of() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
post_big() { # post_big PORT OUT : a 30 MB body to a pass-through route
  curl -s -m 30 -D "$2.h" -o "$2" -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$work/body30" \
    "http://127.0.0.1:$1/v1/embeddings" > "$2.code"
}
ASAN_OPTIONS="${ASAN_OPTIONS:-}:quarantine_size_mb=4" start_tokgate M --upstream "http://127.0.0.1:$hole" \
  --served-name m --engine vllm --context 4096 --first-byte-timeout 8 --max-body-bytes 40000000
before=$(rss_of "$PID_M"); peak=$before; bp=()
for i in 1 2 3 4 5 6; do post_big "$PORT_M" "$work/m$i" & bp+=($!); done
for _ in $(seq 1 40); do r=$(rss_of "$PID_M"); [ "$r" -gt "$peak" ] && peak=$r; sleep 0.2; done
wait "${bp[@]}"
grown=$(( (peak - before) / 1024 ))
check "6 x 30 MB bodies held once: RSS grew ${grown} MiB, under twice their 180 MiB" test "$grown" -lt 360
check_eq "the slow upstream's bodies: 502 (it closes at 6 s without an answer)" "$(cat "$work/m1.code")" 502
start_tokgate B --upstream "http://127.0.0.1:$hole" --served-name m --engine vllm --context 4096 \
  --first-byte-timeout 8 --max-body-bytes 40000000 --max-buffered 50000000
bp=()
for i in 1 2 3; do post_big "$PORT_B" "$work/b$i" & bp+=($!); done
wait "${bp[@]}"
codes=$(for f in "$work"/b?.code; do cat "$f"; echo; done | sort | tr '\n' ' ')
check_eq "three 30 MB bodies under a 50 MB cap: one held, two refused" "$codes" "502 503 503 "
f=$(grep -l 503 "$work"/b?.code | head -1); f=${f%.code}
js_check "the cap's 503 names it" "$(cat "$f")" \
  'j.error.code==="buffer_full" && j.error.message.includes("50000000") && j.error.message.includes("max_buffered_bytes")'
check_contains "the cap's 503 carries Retry-After" "$(cat "$f.h")" "Retry-After: 1"
r=$(curl -s -m 10 "http://127.0.0.1:$PORT_B/healthz")
js_check "after the cap's refusals the daemon serves" "$r" 'j.status==="ok"'
stop_tokgate B
stop_tokgate M

# --- the drain deadline ends a stream with an SSE error event --------------------------
# Its own daemon, with the default idle timeout: A's 1 s idle timeout could end
# the stream first (an idle_timeout event) when the stand-in is starved on a
# loaded machine.
stop_tokgate A
start_tokgate D --config "$work/dl.json" --drain-timeout 2
curl -s -N -m 30 "http://127.0.0.1:$PORT_D/v1/chat/completions" -d "$(chat stream_long true)" > "$work/drain.out" & cpid=$!
sleep 1
kill -TERM "$PID_D"
t0=$(now_ms)
wait "$cpid"; rc=$?
dt=$(elapsed "$t0")
r=$(cat "$work/drain.out")
check_contains "drain deadline: the stream's events before it" "$r" "tok3 "
check_contains "drain deadline: SSE error event" "$r" '"code":"shutting_down"'
case "$r" in *shutting_down*) ;; *) echo "the stream's last bytes: $(printf %s "$r" | tail -c 400)" >&2 ;; esac
check "drain deadline: the stream ended within 6 s of SIGTERM (took ${dt}s, drain 2 s)" node -e "process.exit($dt < 6 ? 0 : 1)"
rc=0; wait "$PID_D" || rc=$?
check_eq "tokgate exit status after the drain deadline" "$rc" 0
if grep -qE "Sanitizer|runtime error|leaked" "$work/D.log"; then
  fail "sanitizer report:"; grep -E -A20 "Sanitizer|runtime error" "$work/D.log" | head -60 >&2
else ok; fi

finish
