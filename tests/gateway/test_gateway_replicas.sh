#!/usr/bin/env bash
# test_gateway_replicas.sh: one model served by three REAL llama-servers
# (tiny random-weight qwen2, -np 2) behind one tokgate (issue 14, docs/gateway.md
# "Replicas"). Every figure checked comes from the engines themselves:
#   - config: "upstream" and "upstreams" together, or one URL twice, are refused;
#     a replica with a smaller context (-c 2048 -np 2: 1024 per slot, llama-server's
#     own n_ctx) bounds what /v1/models advertises for the model;
#   - spread: least_loaded sends twelve requests over all three (each server's own
#     llamacpp:prompt_tokens_total grows);
#   - affinity: every conversation's second turn finds its first turn in the
#     server's cache (llama-server's timings.cache_n > 0), because it went to the
#     same replica;
#   - failover: three streams in flight (one per replica), then kill -9 of one
#     replica: the nine requests sent after it all succeed (0 failures), each stream
#     ends with [DONE] and the full 200 completion tokens (continued elsewhere by
#     token ids) or with an SSE error event, and nothing runs past curl's 40 s;
#     restarted on its port, the replica is probed back into service.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model

# ---- config shapes (no server needed) ---------------------------------------
printf '{"models":[{"upstream":"http://127.0.0.1:1","upstreams":["http://127.0.0.1:2"]}]}' >"$work/both.json"
out=$("$TG_BIN" serve --config "$work/both.json" 2>&1); rc=$?
check_eq "upstream and upstreams together: exit status" "$rc" 2
check_contains "upstream and upstreams together: message" "$out" 'not both'
printf '{"models":[{"upstreams":["http://127.0.0.1:2","http://127.0.0.1:2/v1"]}]}' >"$work/twice.json"
out=$("$TG_BIN" serve --config "$work/twice.json" 2>&1); rc=$?
check_eq "one upstream twice: exit status" "$rc" 2
check_contains "one upstream twice: message" "$out" 'listed twice'
printf '{"models":[{"upstreams":[]}]}' >"$work/empty.json"
out=$("$TG_BIN" serve --config "$work/empty.json" 2>&1); rc=$?
check_contains "empty upstreams: message" "$out" 'non-empty array'

# ---- three replicas -----------------------------------------------------------
start_llama A "$model" -c 4096 -np 2 --metrics
start_llama B "$model" -c 4096 -np 2 --metrics
start_llama C "$model" -c 2048 -np 2 --metrics   # 1024 per slot: the smallest
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1==n {print $2+0}'; }

start_tokgate LL --upstream "$A" --upstream "$B" --upstream "$C" --routing least_loaded
printf '{"models":[{"upstreams":["%s","%s","%s"]}],"routing":{"policy":"affinity"}}' "$A" "$B" "$C" >"$work/aff.json"
start_tokgate AF --config "$work/aff.json"
for i in $(seq 1 50); do
  m=$(curl -s "http://127.0.0.1:$PORT_LL/v1/models")
  case "$m" in *'"in_service":3'*) break ;; esac
  sleep 0.2
done
js_check "/v1/models: three replicas in service" "$m" 'j.data[0].replicas.total===3 && j.data[0].replicas.in_service===3'
nctx_c=$(curl -s "$C/slots" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[0].n_ctx))')
js_check "/v1/models: the context of the smallest replica ($nctx_c)" "$m" "j.data[0].context_length===$nctx_c"
l=$(curl -s "http://127.0.0.1:$PORT_LL/v1/limits")
js_check "/v1/limits: each replica, the smallest binding" "$l" \
  "j.data[0].replicas.length===3 && j.data[0].replicas[2].binds_limits===true && j.data[0].routing==='least_loaded'"

chat() { # chat PORT BODY -> the answer
  curl -s --max-time 40 "http://127.0.0.1:$1/v1/chat/completions" -H 'Content-Type: application/json' -d "$2"
}

# ---- spread -----------------------------------------------------------------------
a0=$(metric "$A" llamacpp:prompt_tokens_total); b0=$(metric "$B" llamacpp:prompt_tokens_total)
c0=$(metric "$C" llamacpp:prompt_tokens_total)
bg=()
for i in $(seq 1 12); do
  chat "$PORT_LL" '{"messages":[{"role":"user","content":"spread '"$i"'"}],"max_tokens":4}' >"$work/spread.$i" &
  bg+=($!)
done
wait "${bg[@]}"   # (a bare wait would wait for the servers too)
a1=$(metric "$A" llamacpp:prompt_tokens_total); b1=$(metric "$B" llamacpp:prompt_tokens_total)
c1=$(metric "$C" llamacpp:prompt_tokens_total)
check "least_loaded: every replica served prompts ($a0->$a1, $b0->$b1, $c0->$c1)" \
  test "$a1" -gt "$a0" -a "$b1" -gt "$b0" -a "$c1" -gt "$c0"

# ---- affinity: turn 2 of each conversation hits turn 1's cache ---------------------
for conv in 1 2 3 4 5 6; do
  t1='[{"role":"system","content":"agent"},{"role":"user","content":"task '"$conv"': list the files and say what each one does"}]'
  r1=$(chat "$PORT_AF" '{"messages":'"$t1"',"max_tokens":16}')
  txt=$(printf %s "$r1" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s).choices[0].message.content)))')
  t2="${t1%]},{\"role\":\"assistant\",\"content\":$txt},{\"role\":\"user\",\"content\":\"go on\"}]"
  r2=$(chat "$PORT_AF" '{"messages":'"$t2"',"max_tokens":4}')
  js_check "affinity: conversation $conv turn 2 reuses the cache" "$r2" 'j.timings && j.timings.cache_n > 0'
done

# ---- failover ---------------------------------------------------------------------
for i in 1 2 3; do
  curl -sN --max-time 40 "http://127.0.0.1:$PORT_LL/v1/chat/completions" -H 'Content-Type: application/json' \
    -d '{"messages":[{"role":"user","content":"stream '"$i"'"}],"max_tokens":200,"stream":true,"stream_options":{"include_usage":true}}' \
    >"$work/stream.$i" 2>/dev/null &
  spid[$i]=$!
done
for k in $(seq 1 100); do  # every stream under way
  [ -s "$work/stream.1" ] && [ -s "$work/stream.2" ] && [ -s "$work/stream.3" ] && break
  sleep 0.1
done
bport=${B##*:}
bpid=$(for p in "${pids[@]}"; do ps -o args= -p "$p" 2>/dev/null | grep -q -- "--port $bport " && echo "$p"; done)
kill -9 "$bpid"
bg=()
for i in $(seq 1 9); do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 40 "http://127.0.0.1:$PORT_LL/v1/chat/completions" \
    -H 'Content-Type: application/json' -d '{"messages":[{"role":"user","content":"after '"$i"'"}],"max_tokens":4}' \
    >"$work/after.$i" &
  bg+=($!)
done
wait "${spid[1]}"; r1=$?; wait "${spid[2]}"; r2=$?; wait "${spid[3]}"; r3=$?
wait "${bg[@]}"
codes=$(cat "$work"/after.* | sort | uniq -c | tr -s ' ' | tr '\n' ';')
check_eq "requests after the kill: all 200" "$codes" " 9 200;"
check_eq "streams: none ran past curl's 40 s (exit statuses)" "$r1 $r2 $r3" "0 0 0"
continued=0
for i in 1 2 3; do
  s=$(cat "$work/stream.$i")
  case "$s" in
    *'data: [DONE]'*)
      u=$(printf %s "$s" | grep '"usage":{' | tail -1 | sed 's/^data: //')
      js_check "stream $i: ended with [DONE] and all 200 tokens" "$u" 'j.usage.completion_tokens===200' ;;
    *'"error"'*) ok ;;
    *) fail "stream $i: neither [DONE] nor an error event: $(printf %s "$s" | tail -c 300)" ;;
  esac
done
grep -q "goes on at replica" "$work/LL.log" && continued=1
check_eq "a stream on the killed replica went on elsewhere by token ids" "$continued" 1
m=$(curl -s "http://127.0.0.1:$PORT_LL/v1/models")
js_check "/v1/models: two replicas in service" "$m" 'j.data[0].replicas.in_service===2'
mt=$(curl -s "http://127.0.0.1:$PORT_LL/metrics")
fo=$(printf %s "$mt" | awk '$1=="tokgate_replica_failovers_total" {print $2}')
check "metrics: tokgate_replica_failovers_total >= 1 (got '$fo')" test "${fo:-0}" -ge 1
check_contains "metrics: the killed replica out of service" "$mt" "tokgate_upstream_in_service{upstream=\"127.0.0.1:$bport\"} 0"

# the killed replica restarts on its port: the active probe brings it back
"$server" -m "$model" --host 127.0.0.1 --port "$bport" -c 4096 -t 1 -np 2 --metrics >"$work/llama.$bport.2.log" 2>&1 &
pids+=($!)
for k in $(seq 1 100); do
  m=$(curl -s "http://127.0.0.1:$PORT_LL/v1/models")
  # in service once its back-off ends; the log line comes with the probe
  # that answers, which may be a moment later: wait for both
  case "$m" in *'"in_service":3'*) grep -q "127.0.0.1:$bport back in service" "$work/LL.log" && break ;; esac
  sleep 0.2
done
js_check "/v1/models: the restarted replica back in service" "$m" 'j.data[0].replicas.in_service===3'
check "log: back in service" grep -q "127.0.0.1:$bport back in service" "$work/LL.log"

stop_tokgate LL
stop_tokgate AF
finish
