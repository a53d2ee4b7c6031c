#!/usr/bin/env bash
# test_gateway_fleet.sh: several tokgate gateways behind HAProxy (Debian's
# haproxy, deploy/haproxy.cfg) in front of ONE real llama-server (tiny model,
# -np 2), issue 14 item 3: the gateways together never over-commit the
# engine's slots.
#
#   - deploy/haproxy.cfg is valid (`haproxy -c`), and a broken copy is not;
#   - control: two gateways that do not coordinate (admission.share 1, no
#     engine reading) with more clients than slots: llama-server itself
#     reports requests it had to defer (llamacpp:requests_deferred > 0), so
#     the watcher below does see an over-commit when there is one;
#   (the engine's state alone, admission.engine_poll_ms with share 1, does
#   not prevent over-commit: bench/fleet.sh measures how often it happens);
#   - share 1/2 and the engine reading (the documented setup for two
#     gateways): llama-server never defers a request (deferred 0 in every
#     sample of /metrics every 10 ms), its busy slots never pass n_slots,
#     each gateway ran at most its share of slots at once
#     (tokgate_admission_running_peak; the two peaks together <= n_slots),
#     and every request ends 200, or 503/429 with Retry-After: none lost;
#   - a gateway drained by SIGTERM mid-run: its answers finish, the requests
#     HAProxy then cannot connect to it with go to the other (retry-on
#     conn-failure): all 200, none lost, the engine still never defers.
#
# The reference is llama-server's own view (/slots is_processing,
# /metrics requests_deferred: tools/server/server-context.cpp,
# server-task.cpp), not tokgate's.
source "$(dirname "$0")/lib.sh"
src=$(cd "$here/../.." && pwd)

command -v haproxy >/dev/null || { echo "FAIL: haproxy missing (scripts/setup.sh --test installs it)"; exit 1; }

# --- the shipped config -----------------------------------------------------------
check "deploy/haproxy.cfg is valid (haproxy -c)" haproxy -q -c -f "$src/deploy/haproxy.cfg"
sed 's/balance leastconn/balance leastconnx/' "$src/deploy/haproxy.cfg" >"$work/broken.cfg"
check "a broken copy is refused by haproxy -c (the check can fail)" bash -c "! haproxy -q -c -f '$work/broken.cfg' 2>/dev/null"
cfg=$(cat "$src/deploy/haproxy.cfg")
check_contains "deploy/haproxy.cfg: leastconn" "$cfg" "balance leastconn"
check_contains "deploy/haproxy.cfg: /readyz health check" "$cfg" "uri /readyz"
check_contains "deploy/haproxy.cfg: retries on connection failures only" "$cfg" "retry-on conn-failure"

# --- admission.share: a fraction or K/N, above 0 and at most 1 -------------------------
out=$("$TG_BIN" serve --upstream http://127.0.0.1:1 --admission-share 3/2 2>&1); rc=$?
check "--admission-share 3/2 refused" test "$rc" -ne 0
check_contains "--admission-share 3/2: the limit named" "$out" "above 0 and at most 1 (0.5, or 1/N for N gateways), got \"3/2\""
printf '{"admission": {"share": 0}, "models": [{"upstream": "http://127.0.0.1:1"}]}' >"$work/bad.json"
out=$("$TG_BIN" serve --config "$work/bad.json" 2>&1); rc=$?
check "config admission.share 0 refused" test "$rc" -ne 0
check_contains "config admission.share 0: the key named" "$out" "admission.share: want a fraction"

find_llama_server
tiny_model
start_llama L "$model" -np 2 --metrics

HA_PID=
start_haproxy() { # start_haproxy PORT_A PORT_B ; sets FRONT
  local fp; fp=$(free_port)
  sed -e "s/bind 127.0.0.1:8000/bind 127.0.0.1:$fp/" -e "s/127.0.0.1:8001/127.0.0.1:$1/" \
      -e "s/127.0.0.1:8002/127.0.0.1:$2/" "$src/deploy/haproxy.cfg" >"$work/haproxy.cfg"
  haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 & HA_PID=$!
  pids+=($HA_PID)
  wait_port "$fp" || { echo "FAIL: haproxy did not start"; cat "$work/haproxy.log"; exit 1; }
  FRONT=http://127.0.0.1:$fp
}
stop_haproxy() { kill "$HA_PID" 2>/dev/null; wait "$HA_PID" 2>/dev/null; }

wait_ready() { # wait_ready PORT
  local i
  for i in $(seq 1 100); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$1/readyz")" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# run_phase NAME CLIENTS REQUESTS MAX_TOKENS tokgate-args... : two gateways with
# these args behind HAProxy; the summary in $work/NAME.json, the gateways'
# /metrics in $work/NAME.A.metrics and NAME.B.metrics.
run_phase() {
  local name=$1 clients=$2 reqs=$3 mt=$4; shift 4
  start_tokgate A --upstream "$L" --discovery-interval 1 "$@"
  start_tokgate B --upstream "$L" --discovery-interval 1 "$@"
  check "$name: gateway A ready" wait_ready "$PORT_A"
  check "$name: gateway B ready" wait_ready "$PORT_B"
  start_haproxy "$PORT_A" "$PORT_B"
  node "$here/fleet_load.js" "$L" "$FRONT" "$clients" "$reqs" "$mt" "$work/$name.json"
  sleep 0.5 # a reading of the idle engine (engine_poll_ms 50-100) before the gauges are read
  curl -s "http://127.0.0.1:$PORT_A/metrics" >"$work/$name.A.metrics"
  curl -s "http://127.0.0.1:$PORT_B/metrics" >"$work/$name.B.metrics"
  stop_haproxy
  stop_tokgate A
  stop_tokgate B
  echo "$name: $(cat "$work/$name.json")"
}

metric() { # metric FILE NAME : the value of NAME{...} (first sample)
  awk -v n="$2" '$1 ~ "^"n"[{ ]" || $1 == n {print $2; exit}' "$1"
}

# --- control: no coordination, the engine is over-committed --------------------------
run_phase control 8 1 96
r=$(cat "$work/control.json")
js_check "control (share 1, no reading): llama-server deferred requests (the watcher sees over-commit)" "$r" \
  "j.maxDeferred > 0 && j.lost === 0"

# --- share 1/2 and the engine reading: never over-committed ----------------------------
run_phase share 8 2 96 --admission-share 1/2 --admission-engine-poll-ms 100
r=$(cat "$work/share.json")
js_check "share 1/2: llama-server never deferred a request tokgate forwarded" "$r" "j.maxDeferred === 0 && j.samples > 20"
js_check "share 1/2: busy slots never above n_slots (2)" "$r" "j.nSlots === 2 && j.maxBusy <= j.nSlots && j.maxBusy >= 1"
js_check "share 1/2: every request 200 or a 503/429 with Retry-After, none lost" "$r" \
  "j.lost === 0 && j.refusedWithoutRetryAfter === 0 && Object.keys(j.status).every(s => s==='200' || s==='503' || s==='429') && j.requests === 16"
js_check "share 1/2: most requests answered" "$r" "(j.status['200']||0) >= 14"
pa=$(metric "$work/share.A.metrics" tokgate_admission_running_peak)
pb=$(metric "$work/share.B.metrics" tokgate_admission_running_peak)
check_eq "share 1/2: gateway A ran at most one slot at once" "$pa" 1
check_eq "share 1/2: gateway B ran at most one slot at once" "$pb" 1
sa=$(metric "$work/share.A.metrics" tokgate_admission_slots)
check_eq "share 1/2: gateway A's slots (floor(2 x 1/2))" "$sa" 1
fa=$(metric "$work/share.A.metrics" tokgate_admission_engine_free)
check_eq "share 1/2: gateway A read the idle engine's /slots (2 free)" "$fa" 2

# --- a gateway drains (SIGTERM) mid-run: its answers finish, new requests go to the other --
# tokgate closes its listener and its idle connections at once; HAProxy's
# connection to it then fails, and retry-on conn-failure with redispatch
# sends the request, which never reached a gateway, to the other one.
start_tokgate A --upstream "$L" --discovery-interval 1 --admission-share 1/2 --admission-engine-poll-ms 100
start_tokgate B --upstream "$L" --discovery-interval 1 --admission-share 1/2 --admission-engine-poll-ms 100
check "drain: gateway A ready" wait_ready "$PORT_A"
check "drain: gateway B ready" wait_ready "$PORT_B"
start_haproxy "$PORT_A" "$PORT_B"
node "$here/fleet_load.js" "$L" "$FRONT" 6 2 64 "$work/drain.json" & load=$!
sleep 1.5
stop_tokgate B
wait "$load"
stop_haproxy
stop_tokgate A
r=$(cat "$work/drain.json")
echo "drain: $r"
js_check "drain: every request answered 200 (in flight at B: drained; later: sent to A), none lost" "$r" \
  "j.lost === 0 && j.requests === 12 && j.status['200'] === 12 && j.maxDeferred === 0"

finish
