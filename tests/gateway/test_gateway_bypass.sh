#!/usr/bin/env bash
# test_gateway_bypass.sh: issue 16's budget bypasses, against a REAL
# llama-server (the tiny model) behind tokgate; each check failed on the main
# before the fix (measured there: 200s, 900 tokens generated, counters still).
#
#   - a request /v1/chat/completions refuses (max_tokens 1000000, above the
#     absolute cap) is refused identically on /chat/completions (llama-server
#     serves the same handler there), /v1/chat/%63ompletions, //v1/... and
#     /v1/x/../chat/... (sent byte for byte: curl --path-as-is); llama-server
#     itself generates for every one of those spellings;
#   - llama-server's native /completion and /completions with n_predict 900
#     are refused (403 route_not_budgeted naming /v1/completions) and the
#     server's own counter of predicted tokens (llamacpp:tokens_predicted_total)
#     does not move; /infill and /v1/messages likewise;
#   - a budgeted request on the alias moves the admission counter and the
#     usage counters as /v1/chat/completions does;
#   - pass-through is a list: GET /props is relayed as llama-server answers
#     it, an unknown path is 404 route_not_found naming it, POST /slots/0
#     ?action=erase and POST /props are 403 admin_route_disabled (unless
#     --allow-admin-routes), bad escapes, %2F, %00 and ".." above the root 400;
#   - a request sent right after start, before discovery: with no upstream
#     up it gets 503 model_not_ready + Retry-After within --discovery-wait;
#     with the upstream coming up inside the wait it is answered with a
#     budget (x-tokgate-max-tokens, completion tokens within it), never the
#     2027 unbudgeted tokens of the issue;
#   - "n" multiplies the KV reservation (the stand-in upstream's stalled
#     stream holds it while /metrics is read; llama-server refuses n > 1);
#   - a non-loopback --listen without --api-key is refused at start, and
#     allowed with --allow-unauthenticated or a key; a reload that drops the
#     keys of such a listener is refused.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model
start_llama L "$model" -np 1 --metrics
start_tokgate T --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
G=http://127.0.0.1:$PORT_T
for i in $(seq 1 50); do curl -s "$G/readyz" | grep -q '"status":"ready"' && break; sleep 0.1; done
predicted() { curl -s "$L/metrics" | awk '/^llamacpp:tokens_predicted_total/ {print $2}'; }
tgmetric() { curl -s "$G/metrics" | awk -v k="$1" 'index($0, k) == 1 {print $2}'; }
post() { curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$G$1" -d "$2"; }

# --- the same refusal on every spelling of the chat route ------------------------------
over='{"messages":[{"role":"user","content":"hi"}],"max_tokens":1000000}'
ref_status=$(post /v1/chat/completions "$over")
ref_body=$(cat "$work/body")
check_eq "reference: /v1/chat/completions refuses max_tokens 1000000" "$ref_status" 400
js_check "reference refusal is invalid_value on max_tokens" "$ref_body" 'j.error.code==="invalid_value" && j.error.param==="max_tokens"'
before=$(predicted)
for p in /chat/completions /v1/chat/%63ompletions /%76%31/chat/completions //v1/chat/completions \
         /v1//chat/completions /v1/x/../chat/completions /v1/./chat/completions /v1/x/%2e%2E/chat/completions; do
  st=$(post "$p" "$over")
  check_eq "$p refused like /v1/chat/completions (status)" "$st" "$ref_status"
  check_eq "$p refused like /v1/chat/completions (body)" "$(cat "$work/body")" "$ref_body"
done
check_eq "llama-server generated nothing for the refused spellings" "$(predicted)" "$before"

# --- llama-server's native generating routes --------------------------------------------
for p in /completion /completions; do
  st=$(post "$p" '{"prompt":"Once upon a time","n_predict":900}')
  check_eq "$p n_predict 900: refused" "$st" 403
  js_check "$p names the budgeted route" "$(cat "$work/body")" \
    'j.error.code==="route_not_budgeted" && j.error.message.includes("/v1/completions")'
done
st=$(post /infill '{"input_prefix":"a","input_suffix":"b","n_predict":900}')
check_eq "/infill refused" "$st" 403
st=$(post /v1/messages '{"model":"x","max_tokens":900,"messages":[{"role":"user","content":"hi"}]}')
check_eq "/v1/messages refused" "$st" 403
js_check "/v1/messages names /v1/chat/completions" "$(cat "$work/body")" 'j.error.message.includes("/v1/chat/completions")'
check_eq "llama-server generated no token for the native routes (tokens_predicted_total)" "$(predicted)" "$before"
# the budgeted way: /v1/completions with the same ask is capped by the budget
st=$(post /v1/completions '{"prompt":"Once upon a time","max_tokens":900}')
check_eq "/v1/completions max_tokens 900 answered" "$st" 200
js_check "/v1/completions stays within the budget" "$(cat "$work/body")" 'j.usage.completion_tokens <= 900'

# --- the alias is budgeted: admission and usage counters move ----------------------------
adm0=$(tgmetric tokgate_admission_admitted_total)
out0=$(tgmetric 'tokgate_tokens_total{direction="out"}')
hdr=$(curl -s -D - -o "$work/body" "$G/chat/completions" -d '{"messages":[{"role":"user","content":"hi"}],"max_tokens":7}')
check_contains "/chat/completions carries the budget headers" "$hdr" "x-tokgate-max-tokens: 7"
used=$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).usage.completion_tokens)' "$work/body")
check_eq "admission counted the alias" "$(tgmetric tokgate_admission_admitted_total)" "$((adm0 + 1))"
check_eq "usage recorded for the alias" "$(tgmetric 'tokgate_tokens_total{direction="out"}')" "$((out0 + used))"

# --- pass-through is a list; admin routes closed ---------------------------------------
check_eq "GET /props relayed as llama-server answers it" "$(curl -s "$G/props" | head -c 40)" "$(curl -s "$L/props" | head -c 40)"
st=$(curl -s -o "$work/body" -w '%{http_code}' "$G/no/such/route")
check_eq "unknown path: 404" "$st" 404
js_check "404 names the path" "$(cat "$work/body")" 'j.error.code==="route_not_found" && j.error.message.includes("/no/such/route")'
st=$(post '/slots/0?action=erase' '{}')
check_eq "POST /slots/0?action=erase: 403" "$st" 403
js_check "admin route refusal names the setting" "$(cat "$work/body")" 'j.error.code==="admin_route_disabled" && j.error.message.includes("allow_admin_routes")'
check_eq "POST /props: 403" "$(post /props '{"n_parallel":4}')" 403
check_eq "POST /lora-adapters: 403" "$(post /lora-adapters '[]')" 403
for p in '/v1%2Fchat/completions' '/v1/chat/completions%00' '/v1/chat/%zzompletions' '/../v1/chat/completions'; do
  st=$(post "$p" "$over")
  check_eq "$p: 400" "$st" 400
  js_check "$p: invalid_path" "$(cat "$work/body")" 'j.error.code==="invalid_path"'
done
start_tokgate A --upstream "$L" --model "$model" --tokenizer "$tokjson" --allow-admin-routes
check_eq "--allow-admin-routes: POST /slots/0?action=erase answered as llama-server answers it" \
  "$(curl -s "http://127.0.0.1:$PORT_A/slots/0?action=erase" -d '{}')" "$(curl -s "$L/slots/0?action=erase" -d '{}')"
stop_tokgate A

# --- a request before discovery never goes out unbudgeted --------------------------------
lp=$(free_port)
start_tokgate W --upstream "http://127.0.0.1:$lp" --discovery-wait 1
t0=$(date +%s.%N)
hdr=$(curl -s -D - -o "$work/body" "http://127.0.0.1:$PORT_W/v1/chat/completions" -d '{"messages":[{"role":"user","content":"hi"}]}')
t1=$(date +%s.%N)
check_contains "no upstream yet: 503" "$hdr" "HTTP/1.1 503"
check_contains "503 says when to retry" "$hdr" "Retry-After:"
js_check "503 is model_not_ready" "$(cat "$work/body")" 'j.error.code==="model_not_ready"'
check "answered within the wait (1 s) plus slack" node -e "process.exit($t1 - $t0 < 4 ? 0 : 1)"
check_contains "/readyz not ready while limits are unknown" "$(curl -s "http://127.0.0.1:$PORT_W/readyz")" '"not_ready"'
stop_tokgate W
lp=$(free_port)
start_tokgate V --upstream "http://127.0.0.1:$lp" --discovery-wait 60 --discovery-interval 1
curl -s -D "$work/v.hdr" -o "$work/v.body" "http://127.0.0.1:$PORT_V/v1/chat/completions" \
  -d '{"messages":[{"role":"user","content":"Tell me a long story"}]}' & cpid=$!
sleep 0.5
"$server" -m "$model" --host 127.0.0.1 --port "$lp" -c 2048 -t 1 -np 1 >"$work/llama.$lp.log" 2>&1 & pids+=($!)
wait "$cpid"
check_contains "request sent before discovery: answered once limits are known" "$(cat "$work/v.hdr")" "HTTP/1.1 200"
budget=$(awk 'tolower($1)=="x-tokgate-max-tokens:" {print $2+0}' "$work/v.hdr")
check "it carries a budget (x-tokgate-max-tokens)" test -n "$budget"
js_check "completion tokens within the budget ($budget), not to the end of the context" "$(cat "$work/v.body")" \
  "j.usage.completion_tokens <= ${budget:-0} && j.usage.completion_tokens < 2027"
stop_tokgate V

# --- n multiplies the KV reservation (stand-in: a stream that stalls holds it) ------------
start_standin
start_tokgate S --upstream "http://127.0.0.1:$STANDIN_PORT" --admission-capacity 1000000 --idle-timeout 5
S=http://127.0.0.1:$PORT_S
for i in $(seq 1 50); do curl -s "$S/readyz" | grep -q '"status":"ready"' && break; sleep 0.1; done
reserved() { curl -s "$S/metrics" | awk '/^tokgate_admission_reserved_tokens/ {print $2}'; }
held() { # held N : the reservation while a stalled stream with n=N is open
  curl -s -N --max-time 2 "$S/v1/chat/completions" \
    -d "{\"model\":\"stall\",\"stream\":true,\"n\":$1,\"max_tokens\":100,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}" >/dev/null & local p=$!
  local r=0 i
  for i in $(seq 1 30); do sleep 0.05; r=$(reserved); [ "${r:-0}" != 0 ] && break; done
  echo "$r"
  wait "$p"
}
r1=$(held 1)
r3=$(held 3)
check "a stream reserves KV (n=1: $r1)" test "${r1:-0}" -gt 0
check_eq "n=3 reserves 3x the tokens of n=1" "$r3" "$((r1 * 3))"
stop_tokgate S

# --- a non-loopback listen needs keys or a flag said on purpose ---------------------------
np=$(free_port)
"$TG_BIN" serve --listen "0.0.0.0:$np" --upstream "$L" >"$work/open.log" 2>&1 & opid=$!
pids+=($opid)
rc=0
timeout 10 tail --pid="$opid" -f /dev/null || true
wait "$opid" || rc=$?
check "0.0.0.0 without --api-key: refused at start (exit $rc)" test "$rc" -ne 0
check_contains "the refusal says why and what to set" "$(cat "$work/open.log")" "--allow-unauthenticated"
for flag in --allow-unauthenticated "--api-key sk-x"; do
  np=$(free_port)
  # shellcheck disable=SC2086
  "$TG_BIN" serve --listen "0.0.0.0:$np" --upstream "$L" $flag >"$work/open2.log" 2>&1 & opid=$!
  pids+=($opid)
  if wait_port "$np" 10; then ok; else fail "0.0.0.0 with $flag did not start: $(cat "$work/open2.log")"; fi
  kill -TERM "$opid"; wait "$opid" 2>/dev/null
done
check "loopback without keys still starts" grep -q "listening on" "$work/T.log"
# a reload cannot drop the keys of a non-loopback listener
np=$(free_port)
printf '{"listen":"0.0.0.0:%s","api_keys":["sk-x"],"models":[{"upstream":"%s"}]}' "$np" "$L" >"$work/pub.json"
"$TG_BIN" serve --config "$work/pub.json" >"$work/pub.log" 2>&1 & opid=$!
pids+=($opid)
wait_port "$np" 10 || fail "0.0.0.0 with a key in the file did not start: $(cat "$work/pub.log")"
printf '{"listen":"0.0.0.0:%s","models":[{"upstream":"%s"}]}' "$np" "$L" >"$work/pub.json"
kill -HUP "$opid"
for i in $(seq 1 30); do grep -q "reload refused" "$work/pub.log" && break; sleep 0.1; done
check_contains "a reload without keys on 0.0.0.0 is refused" "$(cat "$work/pub.log")" "reload refused"
check_eq "the key is still required" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$np/v1/models")" 401
kill -TERM "$opid"; wait "$opid" 2>/dev/null

stop_tokgate T
finish
