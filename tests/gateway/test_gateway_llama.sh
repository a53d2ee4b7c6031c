#!/usr/bin/env bash
# test_gateway_llama.sh: tokgate serve in front of a REAL llama-server (CPU
# build of llama.cpp) serving the tiny random-weight qwen2 model, started and
# stopped here. The reference for every check is llama-server itself: the
# same request sent to it directly.
#
#   - discovery with only --upstream: the model id, n_ctx from /props and
#     meta.n_ctx_train reach /v1/models, /v1/limits, /api.json and /metrics
#     as the same limits;
#   - non-streaming and streaming answers (greedy, so deterministic) equal the
#     direct ones: same text, same finish_reason, same usage, chunks in order,
#     [DONE] last;
#   - the budget: tokgate's exact count of a raw prompt equals the server's
#     usage.prompt_tokens; an over-budget prompt is refused by tokgate with
#     context_length_exceeded and the server never sees it (its own
#     prompt-token counter does not move); an oversized max_tokens gets the
#     decision `tokgate check` takes for the same inputs (clamped, said by
#     x-tokgate-clamped);
#   - usage is recorded in /metrics (tokens in/out = the sums of usage);
#   - a client that disconnects mid-stream frees the server's slot.
#
# llama-server: $TG_LLAMA_SERVER_BIN (a binary), else $TG_LLAMA_SERVER (a
# binary or its directory), else scripts/llama-server.sh builds it once into
# $TG_CACHE/llama-build (8-15 minutes) and later runs reuse it. The model:
# $TG_TINY_MODEL, else written by the gguf layer's tiny-model writer
# ($TG_BUILD_DIR/gguf_test_tiny_writer) from llama.cpp's qwen2 vocab GGUF.
# A missing piece is a failure that says what to do, never a skip.
source "$(dirname "$0")/lib.sh"

find_llama_server

# The tiny model carries qwen2's vocabulary; Qwen3's tokenizer.json has the
# same BPE (tokgate's tokenizer does not read GGUF vocabularies yet).
tiny_model
start_llama L "$model" -np 1 --metrics
start_tokgate T --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
G=http://127.0.0.1:$PORT_T
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done

# --- discovery and advertised limits ---------------------------------------------
dm=$(curl -s "$L/v1/models"); props=$(curl -s "$L/props")
id=$(printf %s "$dm" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
nctx=$(printf %s "$props" | node -pe 'JSON.parse(require("fs").readFileSync(0)).default_generation_settings.n_ctx')
train=$(printf %s "$dm" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].meta.n_ctx_train')
r=$(curl -s "$G/v1/models")
js_check "/v1/models: llama-server's model with its n_ctx ($nctx) as the context" "$r" \
  "j.data.length===1 && j.data[0].id===\"$id\" && j.data[0].limit.context===$nctx && j.data[0].context_length===$nctx && j.data[0].max_model_len===$nctx && j.data[0].meta.n_ctx_train===$train"
lim=$(printf %s "$r" | node -pe 'JSON.stringify(JSON.parse(require("fs").readFileSync(0)).data[0].limit)')
r=$(curl -s "$G/v1/limits")
js_check "/v1/limits: same limits, llama.cpp discovered" "$r" \
  "JSON.stringify(j.data[0].limit)===JSON.stringify($lim) && j.data[0].upstream_info.kind==='llama.cpp' && j.data[0].upstream_info.n_ctx===$nctx"
r=$(curl -s "$G/api.json")
js_check "/api.json: same limits" "$r" "JSON.stringify(j.tokgate.models[\"$id\"].limit)===JSON.stringify($lim)"
m=$(curl -s "$G/metrics")
ctx=$(printf %s "$lim" | node -pe 'JSON.parse(require("fs").readFileSync(0)).context')
check_contains "/metrics: same context" "$m" "tokgate_limit_tokens{model=\"$id\",kind=\"context\"} $ctx"

# --- answers equal llama-server's own ------------------------------------------------
strip='const j=JSON.parse(require("fs").readFileSync(0)); console.log(JSON.stringify({c:j.choices.map(c=>[c.message?c.message.content:c.text,c.finish_reason]),u:[j.usage.prompt_tokens,j.usage.completion_tokens]}))'
req='{"messages":[{"role":"user","content":"Hello, tiny model! Count: one two three."}],"max_tokens":12,"temperature":0,"seed":1}'
d=$(curl -s "$L/v1/chat/completions" -d "$req" | node -e "$strip")
v=$(curl -s "$G/v1/chat/completions" -d "$req" | node -e "$strip")
check_eq "non-streaming chat equals llama-server's" "$v" "$d"
creq='{"prompt":"The quick brown fox jumps over 13 lazy dogs: naïve café, 日本語のテキスト, x² + y² = z²!","max_tokens":9,"temperature":0}'
d=$(curl -s "$L/v1/completions" -d "$creq" | node -e "$strip")
v=$(curl -s "$G/v1/completions" -d "$creq" | node -e "$strip")
check_eq "non-streaming completion equals llama-server's" "$v" "$d"
sjoin='let s="";process.stdin.on("data",x=>s+=x).on("end",()=>{const ev=s.split("\n").filter(l=>l.startsWith("data: "));const last=ev[ev.length-1];let t="",u=null,f=null;for(const l of ev.slice(0,-1)){const j=JSON.parse(l.slice(6));for(const c of j.choices||[]){if(c.delta&&c.delta.content)t+=c.delta.content;if(c.finish_reason)f=c.finish_reason;}if(j.usage)u=[j.usage.prompt_tokens,j.usage.completion_tokens];}console.log(JSON.stringify({t,f,u,done:last==="data: [DONE]",n:ev.length}))})'
sreq='{"messages":[{"role":"user","content":"Stream me something."}],"max_tokens":40,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}'
d=$(curl -s -N "$L/v1/chat/completions" -d "$sreq" | node -e "$sjoin")
v=$(curl -s -N "$G/v1/chat/completions" -d "$sreq" | node -e "$sjoin")
check_eq "streamed chat equals llama-server's (text, finish, usage, [DONE] last, chunk count)" "$v" "$d"
js_check "streamed chat is complete" "$v" 'j.done && j.f==="length" && j.u && j.u[1]===40'

# --- the budget: exact count, refusal before the upstream, clamping -------------------------
hdr=$(curl -s -D - -o "$work/c.json" "$G/v1/completions" -d "$creq")
pt=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
ex=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-exact"{print $2}')
up=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/c.json")
check_eq "tokgate's exact prompt count equals llama-server's usage.prompt_tokens" "$pt/$ex" "$up/1"
# a chat: rendered with the model's own template (from the GGUF, as
# llama-server does) and counted exactly
hdr=$(curl -s -D - -o "$work/chat.json" "$G/v1/chat/completions" -d "$req")
pt=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
ex=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-exact"{print $2}')
cup=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/chat.json")
check_eq "tokgate's exact chat count equals llama-server's usage.prompt_tokens" "$pt/$ex" "$cup/1"
tools='{"messages":[{"role":"system","content":"You are terse."},{"role":"user","content":"Weather in Paris? Use the tool."},{"role":"assistant","content":"Checking."},{"role":"user","content":"ok — merci!"}],"max_tokens":3,"temperature":0}'
hdr=$(curl -s -D - -o "$work/chat2.json" "$G/v1/chat/completions" -d "$tools")
pt=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
cup=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/chat2.json")
check_eq "exact count of a multi-turn chat with a system message" "$pt" "$cup"
r=$(curl -s "$G/tokenize" -d "$tools")
js_check "/tokenize of a chat: the same exact count" "$r" "j.exact && j.count===$cup"
# an agent's conversation growing turn by turn (the gateway counts it through its
# per-thread count cache, taking over the resent history): every count equals
# llama-server's, including after a middle turn is edited. (No decomposed text
# here: this instance counts with Qwen's HF tokenizer.json, whose NFC
# normalizer llama.cpp does not apply; docs/gateway.md, `tokenizer`.)
grow=$(node -e '
const turns=["Hi there.","Tell me — in one line — what a token is.","And a byte?","Now compare them: é vs è, naïve café.","Thanks!","One more: 1234567 digits?"];
const out=[];let m=[{role:"system",content:"You are terse."}];
turns.forEach((t,i)=>{m.push({role:"user",content:t});out.push(JSON.stringify({messages:m.slice(),max_tokens:1,temperature:0}));m.push({role:"assistant",content:"Reply "+i+" — ok."});});
const e=m.slice(0,-1);e[3]={role:"user",content:"Tell me, edited, what a token is."};out.push(JSON.stringify({messages:e,max_tokens:1,temperature:0}));
console.log(out.join("\n"));')
gi=0
while IFS= read -r body; do
  gi=$((gi + 1))
  hdr=$(curl -s -D - -o "$work/g.json" "$G/v1/chat/completions" -d "$body")
  pt=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-prompt-tokens"{print $2}')
  gup=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/g.json")
  check_eq "growing conversation, request $gi: count = llama-server's" "$pt" "$gup"
done <<< "$grow"
# POST /tokenize: the same count, ids equal llama-server's own /tokenize, pieces rebuild the text
prompt=$(printf %s "$creq" | node -pe 'JSON.parse(require("fs").readFileSync(0)).prompt')
r=$(curl -s "$G/tokenize" -d "$(node -pe 'JSON.stringify({prompt:process.argv[1],with_pieces:true})' "$prompt")")
lt=$(curl -s "$L/tokenize" -d "$(node -pe 'JSON.stringify({content:process.argv[1],add_special:true})' "$prompt")")
js_check "/tokenize: exact count = usage.prompt_tokens ($up), ids = llama-server's /tokenize" "$r" \
  "j.exact && j.count===$up && JSON.stringify(j.tokens)===JSON.stringify($lt.tokens)"
seen() { curl -s "$L/metrics" | awk '/^llamacpp:prompt_tokens_total/{print $2}'; }
before=$(seen)
long=$(python3 -c 'print(" ".join(["word"]*5000))')
v=$(curl -s -w ' %{http_code}' "$G/v1/completions" -d "{\"prompt\":\"$long\",\"max_tokens\":4}")
check_contains "over-budget prompt refused by tokgate" "$v" '"code":"context_length_exceeded"'
check_contains "over-budget prompt: status 400" "$v" '} 400'
check_eq "over-budget prompt never reached llama-server (prompt tokens it processed)" "$(seen)" "$before"
m=$(curl -s "$G/metrics")
check_contains "refusal counted by reason" "$m" 'tokgate_refusals_total{reason="context_length_exceeded"} 1'
# max_tokens over the safe maximum, and under it: the gateway applies the
# decision `tokgate check` takes for the same limits, tokenizer and request
# (overflow clamp, the default: 100000 is lowered to the safe maximum
# round(2048 x 0.8) = 1638, x-tokgate-clamped: 1; issue 15).
big_out=0
for mt in 100000 1500; do
big="{\"prompt\":\"The quick brown fox\",\"max_tokens\":$mt,\"temperature\":0}"
want=$(printf %s "$big" | "$TG_BIN" check --context 2048 --output-reserve 1024 --tokenizer "$tokjson" | node -pe 'const d=JSON.parse(require("fs").readFileSync(0)); d.action+"/"+(d.budget.max_tokens||0)+"/"+d.status')
hdr=$(curl -s -D - -o "$work/b.json" -w '%{http_code}' "$G/v1/completions" -d "$big")
code=${hdr##*$'\n'}
got_mt=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-max-tokens"{print $2}')
if [ "${want%%/*}" = reject ]; then
  check_eq "max_tokens $mt refused as tokgate check decides" "reject/0/$code" "$want"
else
  check_eq "max_tokens $mt forwarded as tokgate check decides" "${want%%/*}/$got_mt/$code" "$want"
  ct=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.completion_tokens' "$work/b.json")
  check "llama-server generated within the forwarded max_tokens ($ct <= $got_mt)" test "$ct" -le "$got_mt"
  big_out=$((big_out + ct))
  clamped=$(printf %s "$hdr" | tr -d '\r' | awk -F': ' 'tolower($1)=="x-tokgate-clamped"{print $2}')
  check_eq "max_tokens $mt: x-tokgate-clamped" "$clamped" "$([ "$mt" -gt 1638 ] && echo 1 || echo 0)"
fi
done
r=$(curl -s "$G/v1/limits")
js_check "/v1/limits: derived from the model file, counted with the tokenizer" "$r" \
  'j.data[0].source.startsWith("derived from the model file") && j.data[0].counting==="tokenizer and chat template (exact)"'

# --- usage in metrics --------------------------------------------------------------------
m=$(curl -s "$G/metrics")
tin=$(printf '%s\n' "$m" | awk '/^tokgate_tokens_total\{direction="in"\}/{print $2}')
tout=$(printf '%s\n' "$m" | awk '/^tokgate_tokens_total\{direction="out"\}/{print $2}')
check "metrics: tokens out = 12 + 9 + 40 + 9 + 7 x 1 + 12 + 3 + $big_out (the two answers above) ($tout)" \
  test "$tout" = $((92 + big_out))
check "metrics: tokens in counted ($tin)" test "$tin" -gt 0

# --- client disconnect frees the slot -------------------------------------------------------
busy() { curl -s "$L/slots" | node -pe 'JSON.parse(require("fs").readFileSync(0)).some(s=>s.is_processing)'; }
timeout 0.7 curl -s -N "$G/v1/chat/completions" \
  -d '{"messages":[{"role":"user","content":"go on forever"}],"max_tokens":1000,"temperature":0,"stream":true}' >"$work/cut.out"
was=$(grep -c '^data: ' "$work/cut.out")
# 1000 tokens take over two seconds here, three times the 0.7 s the client
# stayed: a slot still busy 1 s after the cut would be generating for nobody.
for i in $(seq 1 10); do [ "$(busy)" = false ] && break; sleep 0.1; done
check "the stream was cut mid-answer ($was events of 1000)" test "$was" -gt 0 -a "$was" -lt 800
check_eq "client disconnect frees llama-server's slot" "$(busy)" false
r=$(curl -s -m 20 "$G/v1/chat/completions" -d "$req" | node -e "$strip")
check_eq "the next request is answered at once" "$r" "$(curl -s "$L/v1/chat/completions" -d "$req" | node -e "$strip")"

r=$(curl -s "$G/v1/limits")
js_check "prefill throughput measured from llama-server's timings (EMA)" "$r" \
  'j.data[0].upstream_info.prefill_samples>=1 && j.data[0].upstream_info.prefill_tps_ema>0'

stop_tokgate T
finish
