#!/usr/bin/env bash
# test_gateway_continue.sh: streams continued in place (issue 7: streaming
# escalation and enforced thinking budgets) against REAL llama-servers (CPU
# build) on tiny random-weight qwen2 models. Every expected text and count
# comes from llama-server itself, asked directly:
#
#   - streaming escalation: capped default 8, escalate to 32. The client's
#     one SSE stream carries exactly the text of llama-server's own answer
#     at max_tokens 32 (greedy), one finish chunk ("length"), one [DONE],
#     one id throughout (created never going back), no logprobs it did not ask for, and usage
#     completion_tokens 32 = what one request at 32 reports. With logprobs
#     asked for, they stay; without include_usage there is no usage chunk; a
#     client max_tokens is never escalated; `--continuation off`, and a full
#     KV capacity that frees no room within the wait, leave the capped
#     answer as llama-server sent it; with a longer wait the stream pauses
#     until room frees and then continues to the same 32-token answer.
#   - thinking budget: a model whose template opens <think> in the prompt
#     (llama.cpp's Qwen-QwQ-32B.jinja), served with llama-server's reasoning
#     parser, budget 10 of max_tokens 40 and no server-side budget (policy
#     dialect none): the client sees exactly the 10 reasoning tokens
#     llama-server streams at max_tokens 10, then as content exactly what
#     llama-server's /completion continues with from prompt + those 10 ids +
#     "\n</think>\n\n" (30 tokens), finish "length", completion_tokens 40.
#     With --reasoning-budget-message the model reads the message before the
#     marker, and the client sees it as reasoning.
# Random weights almost never emit EOS or a close tag, so "length" and a
# thinking block that never closes by itself are reliable.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model
think_model "$work/think.gguf"

start_llama L "$model" --parallel 2
start_llama T "$work/think.gguf" --parallel 2
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1==n {print $2}'; }
metric_up() { curl -s "$1/metrics" | awk -v n="$2" '$1 ~ "^"n"\\{" {print $2}'; }
# Ready: limits published AND the upstream discovered. With --model the GGUF
# gives limits at once, but continuation needs the engine's kind, which only
# discovery learns: a request sent before it is not escalated (a flake under
# load, seen in session 10).
ready() {
  local i
  for i in $(seq 1 300); do
    curl -s "$1/v1/models" | grep -q '"limit"' && curl -s "$1/v1/limits" | grep -Eq '"discovered": ?true' && return 0
    sleep 0.1
  done
  return 1
}

# Summarises an SSE stream (stdin) as JSON: text, reasoning, finish reasons
# in order, [DONE] count and position, distinct ids/created, logprobs seen,
# usage, and whether every data line parsed.
sse_sum='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
 const r={content:"",reasoning:"",finish:[],done:0,doneLast:false,ids:new Set(),createdUp:true,lastCreated:0,logprobs:0,usage:null,bad:0,events:0,afterFinish:0};
 const ev=s.split("\n\n").filter(e=>e.trim().length);
 ev.forEach((e,i)=>{ if(!e.startsWith("data: ")){r.bad++;return;} const d=e.slice(6).trim(); r.events++;
  if(d==="[DONE]"){r.done++; r.doneLast=(i===ev.length-1); return;}
  let j; try{j=JSON.parse(d);}catch(x){r.bad++;return;}
  r.ids.add(j.id); if(j.created<r.lastCreated) r.createdUp=false; r.lastCreated=j.created; if(j.usage) r.usage=j.usage;
  const c=(j.choices||[])[0]; if(!c) return;
  if(r.finish.length && ((c.delta||{}).content||(c.delta||{}).reasoning_content)) r.afterFinish++;
  if(c.delta&&c.delta.content) r.content+=c.delta.content;
  if(c.delta&&c.delta.reasoning_content) r.reasoning+=c.delta.reasoning_content;
  if(c.logprobs) r.logprobs++;
  if(c.finish_reason) r.finish.push(c.finish_reason); });
 r.ids=r.ids.size; console.log(JSON.stringify(r));});'
field() { printf %s "$1" | node -pe "const j=JSON.parse(require('fs').readFileSync(0)); $2"; }

# --- streaming escalation -----------------------------------------------------------------
msgs='"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1'
ref32=$(curl -s "$L/v1/chat/completions" -d "{$msgs,\"max_tokens\":32}")
js_check "reference: llama-server at max_tokens 32 gives 32 tokens, length" "$ref32" \
  'j.usage.completion_tokens===32 && j.choices[0].finish_reason==="length"'
want_text=$(field "$ref32" 'j.choices[0].message.content')
want_prompt=$(field "$ref32" 'j.usage.prompt_tokens')

start_tokgate E --upstream "$L" --model "$model" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32
G=http://127.0.0.1:$PORT_E
ready "$G" || fail "tokgate E never published limits"
s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check_eq "escalated stream: text = llama-server's answer at 32" "$(field "$s" j.content)" "$want_text"
js_check "escalated stream: one finish chunk (length), nothing after it, one [DONE] at the end, all parsed" "$s" \
  'j.finish.length===1 && j.finish[0]==="length" && j.afterFinish===0 && j.done===1 && j.doneLast && j.bad===0'
js_check "escalated stream: one id throughout, created never going back (llama-server stamps each chunk)" "$s" 'j.ids===1 && j.createdUp'
js_check "escalated stream: no logprobs the client did not ask for" "$s" 'j.logprobs===0'
js_check "escalated stream: usage completion_tokens 32 = one request at 32; prompt_tokens as llama-server's" "$s" \
  "j.usage && j.usage.completion_tokens===32 && j.usage.prompt_tokens===$want_prompt && j.usage.total_tokens===32+$want_prompt"
check_eq "one stream escalation counted" "$(metric "$G" tokgate_escalations_continued_total)" 1
check_eq "reservation given back" "$(metric_up "$G" tokgate_admission_reserved_tokens)" 0

s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true}" | node -e "$sse_sum")
check_eq "without include_usage: same text" "$(field "$s" j.content)" "$want_text"
js_check "without include_usage: no usage chunk, one finish, one [DONE]" "$s" \
  'j.usage===null && j.finish.length===1 && j.done===1 && j.doneLast'

s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"logprobs\":true,\"top_logprobs\":1}" | node -e "$sse_sum")
check_eq "client asked for logprobs: same text" "$(field "$s" j.content)" "$want_text"
js_check "client asked for logprobs: the first leg's 8 tokens carry them" "$s" 'j.logprobs>=8'

s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"max_tokens\":8,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
js_check "client max_tokens 8: never escalated (8 tokens, length)" "$s" \
  'j.usage.completion_tokens===8 && j.finish.length===1 && j.finish[0]==="length" && j.done===1'
check_eq "three stream escalations, none for the client max_tokens" "$(metric "$G" tokgate_escalations_continued_total)" 3

# a non-streaming request on the same upstream: sent upstream as a stream, continued, assembled
v=$(curl -s -D "$work/ns.h" "$G/v1/chat/completions" -d "{$msgs}")
check_eq "non-streaming, escalated by continuation: content = llama-server's answer at 32" \
  "$(field "$v" 'j.choices[0].message.content')" "$want_text"
js_check "non-streaming: one chat.completion, finish length, usage 32 + llama-server's prompt tokens, same shape" "$v" \
  "j.object==='chat.completion' && j.choices.length===1 && j.choices[0].finish_reason==='length' && j.choices[0].message.role==='assistant' && j.usage.completion_tokens===32 && j.usage.prompt_tokens===$want_prompt && typeof j.id==='string' && typeof j.created==='number'"
check "non-streaming: x-tokgate-escalated: 8->32" grep -qi '^x-tokgate-escalated: 8->32' "$work/ns.h"
check "non-streaming: application/json" grep -qi '^content-type: application/json' "$work/ns.h"
check_eq "four escalations continued, none regenerated" "$(metric "$G" tokgate_escalations_continued_total)" 4
check_eq "every escalation was a continuation" "$(metric "$G" tokgate_escalations_total)" 4
stop_tokgate E

ref8=$(curl -s "$L/v1/chat/completions" -d "{$msgs,\"max_tokens\":8}")
start_tokgate N --upstream "$L" --model "$model" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32 --continuation off
G=http://127.0.0.1:$PORT_N
ready "$G" || fail "tokgate N never published limits"
s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check_eq "--continuation off: the capped stream as llama-server sent it" "$(field "$s" j.content)" \
  "$(field "$ref8" 'j.choices[0].message.content')"
js_check "--continuation off: 8 tokens, length" "$s" 'j.usage.completion_tokens===8 && j.finish[0]==="length" && j.done===1'
check_eq "--continuation off: no stream escalation" "$(metric "$G" tokgate_escalations_continued_total)" 0
stop_tokgate N

# no KV room to grow (a long answer runs beside it and the capacity is exactly
# both reservations) within the 300 ms wait: the held ending goes out as it was
long='{"messages":[{"role":"user","content":"Write a long story."}],"max_tokens":800,"temperature":0}'
lpt=$(curl -s "$L/apply-template" -d "$long" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>fetch(process.argv[1]+"/tokenize",{method:"POST",body:JSON.stringify({content:JSON.parse(s).prompt,add_special:true,parse_special:true})}).then(r=>r.json()).then(j=>console.log(j.tokens.length)))' "$L")
start_tokgate F --upstream "$L" --model "$model" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32 --admission-capacity $((lpt + 800 + want_prompt + 8)) \
  --admission-wait-ms 300
G=http://127.0.0.1:$PORT_F
ready "$G" || fail "tokgate F never published limits"
curl -s "$G/v1/chat/completions" -d "$long" >/dev/null & plong=$!
for i in $(seq 1 300); do [ "$(metric_up "$G" tokgate_admission_reserved_tokens)" = $((lpt + 800)) ] && break; sleep 0.1; done
check_eq "the long answer reserves its prompt + 800" "$(metric_up "$G" tokgate_admission_reserved_tokens)" $((lpt + 800))
s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check_eq "no KV room: the capped stream as it was" "$(field "$s" j.content)" "$(field "$ref8" 'j.choices[0].message.content')"
js_check "no KV room: llama-server's own ending (length, usage 8, [DONE] last)" "$s" \
  'j.usage.completion_tokens===8 && j.finish.length===1 && j.finish[0]==="length" && j.done===1 && j.doneLast && j.logprobs===0'
check_eq "no KV room: escalation skipped" "$(metric "$G" tokgate_escalations_skipped_total)" 1
wait $plong
stop_tokgate F

# the same with a long wait: the stream pauses until the long answer ends, then continues
start_tokgate W --upstream "$L" --model "$model" --discovery-interval 1 \
  --capped-default 8 --escalated-output-tokens 32 --admission-capacity $((lpt + 800 + want_prompt + 8)) \
  --admission-wait-ms 120000
G=http://127.0.0.1:$PORT_W
ready "$G" || fail "tokgate W never published limits"
curl -s "$G/v1/chat/completions" -d "$long" >"$work/w_long" & plong=$!
for i in $(seq 1 300); do [ "$(metric_up "$G" tokgate_admission_reserved_tokens)" = $((lpt + 800)) ] && break; sleep 0.1; done
s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check "the paused stream went on only after the long answer ended" test -s "$work/w_long"
check_eq "paused, then continued: text = llama-server's answer at 32" "$(field "$s" j.content)" "$want_text"
js_check "paused, then continued: usage 32, one finish, one [DONE]" "$s" \
  'j.usage.completion_tokens===32 && j.finish.length===1 && j.done===1 && j.doneLast'
wait $plong
check_eq "reservation given back" "$(metric_up "$G" tokgate_admission_reserved_tokens)" 0
stop_tokgate W

# --- thinking budget ------------------------------------------------------------------------
tmsgs='"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1'
ref=$(T=$T node -e '
const post=(p,b)=>fetch(process.env.T+p,{method:"POST",body:JSON.stringify(b)});
(async()=>{
 const base={messages:[{role:"user",content:"Tell me about tokens."}],temperature:0,seed:1};
 const s=await (await post("/v1/chat/completions",{...base,max_tokens:10,stream:true,logprobs:true,top_logprobs:1})).text();
 let ids=[],reasoning="",content="";
 for(const e of s.split("\n\n")){ if(!e.startsWith("data: {"))continue; const c=JSON.parse(e.slice(6)).choices[0]; if(!c)continue;
  if(c.delta&&c.delta.reasoning_content)reasoning+=c.delta.reasoning_content; if(c.delta&&c.delta.content)content+=c.delta.content;
  if(c.logprobs&&c.logprobs.content)for(const t of c.logprobs.content)ids.push(t.id);}
 const prompt=(await (await post("/apply-template",base)).json()).prompt;
 const cont=async(marker)=>{const r=await (await post("/completion",{prompt:[prompt,...ids,marker],n_predict:30,temperature:0,seed:1,return_tokens:true})).json();
  return {text:r.content,n:r.tokens_predicted};};
 const plain=await cont("\n</think>\n\n"), msg=await cont("\nBudget spent.\n</think>\n\n");
 console.log(JSON.stringify({ids:ids.length,reasoning,content,prompt,plain,msg}));})();')
js_check "reference: llama-server streams 10 reasoning tokens at max_tokens 10, no content; the prompt opens <think>" "$ref" \
  'j.ids===10 && j.reasoning.length>0 && j.content==="" && j.prompt.endsWith("<think>\n")'
js_check "reference: /completion continues 30 tokens after the marker" "$ref" 'j.plain.n===30 && j.msg.n===30'

start_tokgate K --upstream "$T" --model "$work/think.gguf" --discovery-interval 1 \
  --thinking-base 1000 --min-answer-tokens 16
G=http://127.0.0.1:$PORT_K
ready "$G" || fail "tokgate K never published limits"
s=$(curl -sN -D "$work/k.h" "$G/v1/chat/completions" \
  -d "{$tmsgs,\"stream\":true,\"max_tokens\":40,\"max_thinking_tokens\":10,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check "the budget is 10 thinking tokens" grep -qi '^x-tokgate-thinking-tokens: 10' "$work/k.h"
check_eq "thinking cut at 10: the reasoning = llama-server's 10 reasoning tokens" "$(field "$s" j.reasoning)" "$(field "$ref" j.reasoning)"
check_eq "then the answer = llama-server's continuation after the marker" "$(field "$s" j.content)" \
  "$(field "$ref" 'j.plain.text.replace(/^\s+/,"")')"
js_check "one finish (length), one [DONE] last, usage 40 = 10 thought + 30 answered, no logprobs" "$s" \
  'j.finish.length===1 && j.finish[0]==="length" && j.done===1 && j.doneLast && j.usage.completion_tokens===40 && j.logprobs===0 && j.ids===1'
check_eq "one thinking cut counted" "$(metric "$G" tokgate_thinking_cuts_total)" 1
v=$(curl -s "$G/v1/chat/completions" -d "{$tmsgs,\"max_tokens\":40,\"max_thinking_tokens\":10}")
check_eq "non-streaming, thinking cut at 10: reasoning_content = llama-server's 10 reasoning tokens" \
  "$(field "$v" 'j.choices[0].message.reasoning_content')" "$(field "$ref" j.reasoning)"
check_eq "non-streaming: content = llama-server's continuation after the marker" "$(field "$v" 'j.choices[0].message.content')" \
  "$(field "$ref" 'j.plain.text.replace(/^\s+/,"")')"
js_check "non-streaming: finish length, usage 40" "$v" 'j.choices[0].finish_reason==="length" && j.usage.completion_tokens===40'
check_eq "two thinking cuts counted" "$(metric "$G" tokgate_thinking_cuts_total)" 2
check_eq "reservation given back" "$(metric_up "$G" tokgate_admission_reserved_tokens)" 0
stop_tokgate K

start_tokgate M --upstream "$T" --model "$work/think.gguf" --discovery-interval 1 \
  --thinking-base 1000 --min-answer-tokens 16 --reasoning-budget-message "Budget spent."
G=http://127.0.0.1:$PORT_M
ready "$G" || fail "tokgate M never published limits"
s=$(curl -sN "$G/v1/chat/completions" \
  -d "{$tmsgs,\"stream\":true,\"max_tokens\":40,\"max_thinking_tokens\":10}" | node -e "$sse_sum")
check_eq "with a budget message: the reasoning ends with it" "$(field "$s" j.reasoning)" "$(field "$ref" 'j.reasoning+"Budget spent."')"
check_eq "with a budget message: the answer = llama-server's continuation after message + marker" "$(field "$s" j.content)" \
  "$(field "$ref" 'j.msg.text.replace(/^\s+/,"")')"
stop_tokgate M
finish
