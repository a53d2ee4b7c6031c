#!/usr/bin/env bash
# test_gateway_pool.sh: the upstream pool's default cap in front of the real
# llama-server (issue 17): twice its slots, so one full batch waits inside the
# engine (a freed slot never waits for tokgate) and everything beyond waits in
# tokgate's own FIFO. llama-server runs with 2 slots (-np 2) and --metrics;
# 8 long requests (max_tokens 120, ignore_eos) go through tokgate at once,
# and llama-server's own gauges (requests_processing + requests_deferred,
# sampled while they run) say how many it held at once: 4 with the default
# cap, 3 with --upstream-max-conns 3 (the count the check relies on works).
# All 8 must end 200 either way.
source "$(dirname "$0")/lib.sh"
find_llama_server
tiny_model
start_llama LL "$model" -np 2 --metrics
mid=$(curl -s "$LL/v1/models" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
body='{"model":"'$mid'","messages":[{"role":"user","content":"Count."}],"max_tokens":120,"ignore_eos":true}'

# held NAME: fires 8 requests through tokgate NAME at once, samples the
# engine's gauges until they end; prints "MAX_HELD CODES".
held() {
  local port_var=PORT_$1 i max=0 n codes
  for i in $(seq 1 8); do
    curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:${!port_var}/v1/chat/completions" -d "$body" >"$work/code.$1.$i" &
  done
  for _ in $(seq 1 600); do
    n=$(curl -s "$LL/metrics" | awk '/^llamacpp:requests_processing /{p=$2} /^llamacpp:requests_deferred /{d=$2} END{print p + d}')
    [ "$n" -gt "$max" ] && max=$n
    [ "$(cat "$work"/code."$1".* 2>/dev/null | wc -l)" -eq 8 ] && break
    sleep 0.05
  done
  wait
  codes=$(sort "$work"/code."$1".* | uniq -c | tr -s ' ' | tr '\n' ' ')
  echo "$max $codes"
}
wait_models() { # wait_models NAME: until tokgate NAME lists the model (discovery done)
  local port_var=PORT_$1
  for _ in $(seq 1 100); do curl -s "http://127.0.0.1:${!port_var}/v1/models" | grep -q "$mid" && return 0; sleep 0.1; done
}

start_tokgate D --upstream "$LL" --quiet
wait_models D
read -r max codes < <(held D)
check_eq "default cap: llama-server (2 slots) holds twice its slots at once" "$max" 4
check_eq "default cap: all 8 answered 200" "$codes" "8 200"
stop_tokgate D

start_tokgate C --upstream "$LL" --quiet --upstream-max-conns 3
wait_models C
read -r max codes < <(held C)
check_eq "--upstream-max-conns 3: llama-server holds 3 at once" "$max" 3
check_eq "--upstream-max-conns 3: all 8 answered 200" "$codes" "8 200"
stop_tokgate C
finish
