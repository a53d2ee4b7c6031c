#!/usr/bin/env bash
# test_gateway_observe.sh: what an operator watches, against tokgate in front
# of the stand-in upstream (standin_upstream.js): /readyz (503 naming the
# model and why while its upstream is down, 200 once discovered with limits),
# x-request-id (a valid client id echoed and sent upstream, an invalid one
# replaced, one generated otherwise), the access log (one line per request,
# refusals and admission 503s included, text and JSON, never prompt text),
# and the /status page rendered by headless Chromium.
source "$(dirname "$0")/lib.sh"

# --- /readyz -------------------------------------------------------------------
DOWN=$(free_port)
start_tokgate D --upstream "http://127.0.0.1:$DOWN" --served-name tiny --discovery-interval 1 --connect-timeout 1
r=$(curl -s -w '\n%{http_code}' "http://127.0.0.1:$PORT_D/readyz")
check_eq "readyz with the upstream down: 503" "$(tail -1 <<<"$r")" 503
js_check "readyz names the model and why" "$(head -1 <<<"$r")" \
  'j.status==="not_ready" && j.models[0].model==="tiny" && !j.models[0].ready && /not discovered/.test(j.models[0].reason)'
r=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_D/healthz"); check_eq "healthz stays liveness" "$r" 200
stop_tokgate D

start_standin
UP=http://127.0.0.1:$STANDIN_PORT
start_tokgate A --upstream "$UP" --discovery-interval 1 --admission-queue 0 --admission-capacity 20 \
  --first-byte-timeout 2 --api-key k1 --passthrough-path /echo-headers
G=http://127.0.0.1:$PORT_A
for i in $(seq 1 50); do curl -s -H 'Authorization: Bearer k1' "$G/v1/models" | grep -q '"ok"' && break; sleep 0.1; done
r=$(curl -s -w '\n%{http_code}' "$G/readyz")
check_eq "readyz once discovered, without a key: 200" "$(tail -1 <<<"$r")" 200
js_check "readyz lists every served model ready" "$(head -1 <<<"$r")" \
  'j.status==="ready" && j.models.length===10 && j.models.every(m=>m.ready)'

# --- x-request-id ---------------------------------------------------------------
K=(-H 'Authorization: Bearer k1')
r=$(curl -s "${K[@]}" -H 'x-request-id: trace-42/a.b' "$G/echo-headers")
js_check "a valid client x-request-id is sent upstream unchanged" "$r" 'j.headers["x-request-id"]==="trace-42/a.b"'
r=$(curl -s -D - -o /dev/null "${K[@]}" -H 'x-request-id: trace-42/a.b' "$G/v1/models" | tr -d '\r' | grep -i '^x-request-id:')
check_eq "the client's x-request-id echoed" "$r" "X-Request-Id: trace-42/a.b"
long=$(head -c 129 /dev/zero | tr '\0' a)
for bad in "has space" "$long"; do
  r=$(curl -s "${K[@]}" -H "x-request-id: $bad" "$G/echo-headers")
  js_check "an invalid x-request-id ('${bad:0:12}...') is replaced by a generated one, sent once" "$r" \
    '/^[0-9a-f]{32}$/.test(j.headers["x-request-id"])'
done
r=$(curl -s -D - -o /dev/null "${K[@]}" "$G/v1/models" | tr -d '\r' | sed -n 's/^X-Request-Id: //p')
check "a request without one gets a generated id" grep -qE '^[0-9a-f]{32}$' <<<"$r"
r2=$(curl -s -D - -o /dev/null "${K[@]}" "$G/v1/models" | tr -d '\r' | sed -n 's/^X-Request-Id: //p')
check "generated ids differ" test "$r" != "$r2"
r=$(curl -s -D - -o /dev/null -H 'x-request-id: unauth-1' "$G/v1/models" | tr -d '\r' | grep -ci '^x-request-id: unauth-1$')
check_eq "a 401 carries the id too" "$r" 1

# --- access log (text) ------------------------------------------------------------
SECRET="SECRET-PROMPT-TEXT-$$"
req='{"model":"ok","messages":[{"role":"user","content":"'$SECRET'"}],"max_tokens":4}'
curl -s "${K[@]}" -H 'x-request-id: fwd-1' "$G/v1/chat/completions" -d "$req" >/dev/null
curl -s "${K[@]}" -H 'x-request-id: big-1' "$G/v1/chat/completions" \
  -d '{"model":"ok","messages":[{"role":"user","content":"'$SECRET'"}],"max_tokens":1000000}' >/dev/null
curl -s "${K[@]}" -H 'x-request-id: nf-1' "$G/v1/chat/completions" -d '{"model":"nope","messages":[{"role":"user","content":"x"}]}' >/dev/null
# Admission: one request holds the upstream (model "slow" answers after 30 s;
# the first-byte timeout ends it after 2 s), the next finds no room and no queue.
curl -s "${K[@]}" -H 'x-request-id: slow-1' "$G/v1/chat/completions" \
  -d '{"model":"slow","messages":[{"role":"user","content":"hi"}],"max_tokens":4}' >/dev/null & pids+=($!)
for i in $(seq 1 50); do
  curl -s "${K[@]}" "$G/metrics" | grep -q '^tokgate_admission_reserved_tokens{.*} [1-9]' && break; sleep 0.1
done
r=$(curl -s -w '%{http_code}' -o /dev/null "${K[@]}" -H 'x-request-id: full-1' "$G/v1/chat/completions" -d "$req")
check_eq "a second request with no KV room and no queue: 503" "$r" 503
wait "${pids[-1]}" 2>/dev/null
line() { grep " tokgate access: id=$1 " "$work/A.log"; }
check_eq "one access line per request id" "$(grep -c ' tokgate access: id=fwd-1 ' "$work/A.log")" 1
check_contains "forwarded: model, upstream, counts, decision, status, times" "$(line fwd-1)" \
  "method=POST path=/v1/chat/completions model=ok upstream=127.0.0.1:$STANDIN_PORT prompt_tokens="
check "forwarded line fields" grep -qE " prompt_exact=(true|false) count_source=[a-z_]+ max_tokens=4 max_tokens_source=request decision=forward status=200 error=- upstream_s=[0-9.]+ total_s=[0-9.]+ end=ok$" <<<"$(line fwd-1)"
check "a budget refusal leaves a line (reject, 400, its code, what was asked)" grep -qE \
  "max_tokens=1000000 max_tokens_source=request decision=reject status=400 error=invalid_value upstream_s=- " <<<"$(line big-1)"
check_contains "an unknown model leaves a line" "$(line nf-1)" "model=nope"
check_contains "an unknown model: 404 model_not_found" "$(line nf-1)" "status=404 error=model_not_found"
check_contains "an admission 503 leaves a line" "$(line full-1)" "decision=forward status=503 error=admission_queue_full"
check_contains "the upstream timeout leaves a line" "$(line slow-1)" "status=504"
check_contains "a 401 leaves a line" "$(line unauth-1)" "status=401 error=invalid_api_key"
check "no log line carries prompt text" bash -c "! grep -q '$SECRET' '$work/A.log'"

# --- access log (JSON) ------------------------------------------------------------
start_tokgate B --upstream "$UP" --discovery-interval 1 --log-format json
GB=http://127.0.0.1:$PORT_B
for i in $(seq 1 50); do curl -s "$GB/v1/models" | grep -q '"ok"' && break; sleep 0.1; done
curl -s -H 'x-request-id: json-1' "$GB/v1/chat/completions" -d "$req" >/dev/null
curl -s -H 'x-request-id: json-2' "$GB/v1/chat/completions" \
  -d '{"model":"ok","messages":[{"role":"user","content":"'$SECRET'"}],"max_tokens":1000000}' >/dev/null
stop_tokgate B
r=$(node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter(l => l && !/Sanitizer|^==/.test(l));
const objs = lines.map(l => JSON.parse(l));            // throws on a line that is not JSON
console.log(JSON.stringify({n: objs.length, info: objs.filter(o => o.level === "info").length,
  a: objs.find(o => o.level === "access" && o.id === "json-1"), b: objs.find(o => o.level === "access" && o.id === "json-2")}));
' "$work/B.log" 2>&1)
js_check "--log-format json: every line a JSON object, info lines included" "$r" 'j.n>=4 && j.info>=1'
js_check "JSON access line: typed fields" "$r" \
  'j.a.model==="ok" && j.a.status===200 && j.a.decision==="forward" && typeof j.a.prompt_tokens==="number" && typeof j.a.prompt_exact==="boolean" && j.a.max_tokens===4 && j.a.max_tokens_source==="request" && j.a.upstream_s>=0 && j.a.total_s>=j.a.upstream_s && j.a.error===null && j.a.end==="ok" && j.a.path==="/v1/chat/completions"'
js_check "JSON access line of a refusal" "$r" 'j.b.decision==="reject" && j.b.status===400 && j.b.error==="invalid_value" && j.b.upstream_s===null && j.b.upstream===null'
check "JSON log carries no prompt text" bash -c "! grep -q '$SECRET' '$work/B.log'"

# --- /status in headless Chromium -------------------------------------------------
chrome() { # chrome URL: the DOM after the page's script ran (its fetches included)
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$work/chrome.XXXXXX")" --virtual-time-budget=5000 --dump-dom "$1" 2>/dev/null
}
if ! command -v chromium >/dev/null; then
  fail "chromium is not installed (scripts/setup.sh --test installs it)"
else
  start_tokgate C --upstream "$UP" --discovery-interval 1 --admission-capacity 50 --first-byte-timeout 8
  GC=http://127.0.0.1:$PORT_C
  for i in $(seq 1 50); do curl -s "$GC/v1/models" | grep -q '"ok"' && break; sleep 0.1; done
  page=$(curl -s -D "$work/status.h" "$GC/status")
  check_contains "/status is HTML" "$(cat "$work/status.h")" "Content-Type: text/html"
  check "/status loads nothing from elsewhere (no src/href/url(), no absolute URL)" \
    bash -c '! grep -qiE "(src|href)=|url\(|https?://|@import" <<<"$1"' _ "$page"
  # one request holds a reservation while the page loads ("slow" answers after 30 s; cut at 8 s)
  curl -s "$GC/v1/chat/completions" -d '{"model":"slow","messages":[{"role":"user","content":"hi"}],"max_tokens":7}' >/dev/null & pids+=($!)
  for i in $(seq 1 50); do
    curl -s "$GC/metrics" | grep -q '^tokgate_admission_reserved_tokens{.*} [1-9]' && break; sleep 0.1
  done
  curl -s "$GC/v1/chat/completions" -d '{"model":"ok","messages":[{"role":"user","content":"hi"}],"max_tokens":1000000}' >/dev/null
  curl -s "$GC/v1/limits" >"$work/limits.json"
  curl -s "$GC/metrics" >"$work/metrics.txt"
  chrome "$GC/status" >"$work/dom.html"
  if node "$here/status_dom_check.js" "$work/dom.html" "$work/limits.json" "$work/metrics.txt" ok invalid_value; then ok
  else fail "/status as Chromium rendered it: $(head -c 600 "$work/dom.html")"; fi
  # with API keys on, the page is opened as /status#key=KEY
  chrome "$G/status#key=k1" >"$work/dom_key.html"
  check "/status#key=KEY on a keyed gateway shows the models" grep -q '<tr data-model="ok">' "$work/dom_key.html"
  chrome "$G/status" >"$work/dom_nokey.html"
  check "/status without the key on a keyed gateway says 401" grep -q 'HTTP 401' "$work/dom_nokey.html"
  stop_tokgate C
fi

stop_tokgate A
finish
