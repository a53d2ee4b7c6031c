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
#   - a host-name upstream (localhost) answers (resolved off the event loop).
# Times are checked with generous slack only ("ended within N s").
source "$(dirname "$0")/lib.sh"

start_standin
UP=http://127.0.0.1:$STANDIN_PORT
models=
for m in trickle_head trickle_sse trickle_json close_cut close_ok stream_long ok; do
  models+="${models:+,}{\"name\":\"$m\",\"upstream\":\"$UP\",\"upstream_model\":\"$m\",\"engine\":\"vllm\",\"limits\":{\"context\":4096}}"
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

# --- the drain deadline ends a stream with an SSE error event --------------------------
curl -s -N -m 30 "$G/v1/chat/completions" -d "$(chat stream_long true)" > "$work/drain.out" & cpid=$!
sleep 1
kill -TERM "$PID_A"
t0=$(now_ms)
wait "$cpid"; rc=$?
dt=$(elapsed "$t0")
r=$(cat "$work/drain.out")
check_contains "drain deadline: the stream's events before it" "$r" "tok3 "
check_contains "drain deadline: SSE error event" "$r" '"code":"shutting_down"'
check "drain deadline: the stream ended within 6 s of SIGTERM (took ${dt}s, drain 2 s)" node -e "process.exit($dt < 6 ? 0 : 1)"
rc=0; wait "$PID_A" || rc=$?
check_eq "tokgate exit status after the drain deadline" "$rc" 0
if grep -qE "Sanitizer|runtime error|leaked" "$work/A.log"; then
  fail "sanitizer report:"; grep -E -A20 "Sanitizer|runtime error" "$work/A.log" | head -60 >&2
else ok; fi

finish
