#!/usr/bin/env bash
# test_check_vs_serve.sh: `tokgate check` and `tokgate serve` take the same
# decision, because both call the one budget path (tg_budget_decide,
# docs/policy.md). A table of requests goes through `tokgate check` and
# through `tokgate serve` in front of a REAL llama-server (the tiny qwen2
# model of test_gateway_llama.sh), and for each the two must agree on
#
#   action (forward | truncate | reject), HTTP status, error code and param,
#   max_tokens forwarded, prompt tokens counted
#
# check gets the limits the gateway advertises (/v1/models: context, output)
# as --context/--output-reserve, the same tokenizer, the model file's chat
# template and llama-server's rendering (--dialect llamacpp), the same model
# name and policy flags. Each row also names the action its sources call for
# (so two equally broken sides still fail), and every forwarded request is
# checked against the reference, llama-server's own usage.prompt_tokens.
#
# Unusable input (bad JSON, no messages) is not a decision for check: it
# exits 2 and says "[status S, code C, param P]" on stderr, which must be what
# the gateway answers.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model

start_llama L "$model" -np 1
start_tokgate T --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
start_tokgate K --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 --truncation keep_recent
start_tokgate R --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 --overflow reject
for p in "$PORT_T" "$PORT_K" "$PORT_R"; do
  for i in $(seq 1 50); do curl -s "http://127.0.0.1:$p/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
done
r=$(curl -s "http://127.0.0.1:$PORT_T/v1/models")
id=$(printf %s "$r" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].id')
ctx=$(printf %s "$r" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].limit.context')
out=$(printf %s "$r" | node -pe 'JSON.parse(require("fs").readFileSync(0)).data[0].limit.output')
check "the gateway advertises limits ($ctx/$out)" test "$ctx" -gt 0 -a "$out" -gt 0

# gw PORT ENDPOINT BODY -> action/status/code/param/max_tokens/prompt_tokens; the
# answer is left in $work/gw.json, the prompt tokens llama-server used (its
# usage.prompt_tokens, "-" when it was not asked) in $work/up_pt
gw() {
  local code hdr
  code=$(curl -s -D "$work/gw.hdr" -o "$work/gw.json" -w '%{http_code}' "http://127.0.0.1:$1$2" -d "$3")
  hdr() { tr -d '\r' <"$work/gw.hdr" | awk -F': ' -v k="$1" 'tolower($1)==k{print $2}'; }
  local pt mt tr
  pt=$(hdr x-tokgate-prompt-tokens); mt=$(hdr x-tokgate-max-tokens); tr=$(hdr x-tokgate-truncated)
  echo - >"$work/up_pt"
  if [ "$code" = 200 ]; then
    node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/gw.json" >"$work/up_pt"
    printf '%s/200/-/-/%s/%s\n' "$([ "$tr" = 1 ] && echo truncate || echo forward)" "${mt:--}" "${pt:--}"
  else
    node -e 'const e=JSON.parse(require("fs").readFileSync(process.argv[1])).error;
      console.log(["reject",process.argv[2],e.code||"-",e.param||"-","-",process.argv[3]||"-"].join("/"))' \
      "$work/gw.json" "$code" "$pt"
  fi
}

# chk BODY [FLAGS...] -> the same tuple from tokgate check
chk() {
  local body=$1 rc=0
  shift
  printf '%s' "$body" | "$TG_BIN" check --context "$ctx" --output-reserve "$out" --model "$model" \
    --tokenizer "$tokjson" --dialect llamacpp "$@" >"$work/chk.json" 2>"$work/chk.err" || rc=$?
  if [ "$rc" = 2 ]; then
    sed -n 's/.*\[status \([0-9]*\), code \([^,]*\), param \([^]]*\)\].*/reject\/\1\/\2\/\3\/-\/-/p' "$work/chk.err" | head -1
  elif [ "$rc" = 0 ]; then
    node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1])); const e=d.error&&d.error.error;
      const rej=d.action==="reject";
      console.log([d.action,d.status,e&&e.code||"-",e&&e.param||"-",rej?"-":d.budget.max_tokens,d.budget.prompt_tokens].join("/"))' \
      "$work/chk.json"
  else
    echo "check failed ($rc): $(cat "$work/chk.err")"
  fi
}

long=$(python3 -c 'print(" ".join(["word"]*3000))')
mid=$(python3 -c 'print(" ".join(["word"]*1900))') # above input 1024, + max_tokens 4 within 2048
turns=$(node -e '
const m=[{role:"system",content:"You are terse."}];
for(let i=0;i<8;i++){m.push({role:"user",content:("Tell me about item "+i+". ").repeat(40)});m.push({role:"assistant",content:("Item "+i+" is fine. ").repeat(40)});}
m.push({role:"user",content:"And now?"});
console.log(JSON.stringify({model:process.argv[1],messages:m,max_tokens:4,truncation:"auto",temperature:0}));' "$id")

# name | port | endpoint | body | action the sources call for | check flags
# (T: the defaults, overflow clamp; K: truncation keep_recent; R: overflow reject)
rows=(
  "fits|$PORT_T|/v1/chat/completions|{\"model\":\"$id\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":8,\"temperature\":0}|forward"
  "max_tokens above the safe maximum: clamped (overflow clamp, issue 15)|$PORT_T|/v1/chat/completions|{\"model\":\"$id\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100000,\"temperature\":0}|forward"
  "max_tokens above the safe maximum (GPUStack, overflow reject)|$PORT_R|/v1/chat/completions|{\"model\":\"$id\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":100000}|reject|--overflow reject"
  "prompt above the input budget with a small max_tokens that fits (issue 15)|$PORT_T|/v1/completions|{\"model\":\"$id\",\"prompt\":\"$mid\",\"max_tokens\":4,\"temperature\":0}|forward"
  "prompt above the input budget (helexa #67)|$PORT_T|/v1/completions|{\"model\":\"$id\",\"prompt\":\"$long\",\"max_tokens\":4}|reject"
  "missing messages|$PORT_T|/v1/chat/completions|{\"model\":\"$id\"}|reject"
  "bad JSON|$PORT_T|/v1/chat/completions|{\"model\":\"$id\",\"messages\":[|reject"
  "no max_tokens (the capped default, qwen-code)|$PORT_T|/v1/chat/completions|{\"model\":\"$id\",\"messages\":[{\"role\":\"user\",\"content\":\"Say something.\"}],\"temperature\":0}|forward"
  "truncation auto: oldest turns dropped|$PORT_T|/v1/chat/completions|$turns|truncate"
  "truncation keep_recent (model setting)|$PORT_K|/v1/completions|{\"model\":\"$id\",\"prompt\":\"$long\",\"max_tokens\":4,\"temperature\":0}|truncate|--truncation keep_recent"
)
for row in "${rows[@]}"; do
  IFS='|' read -r name port ep body want flags <<<"$row"
  # shellcheck disable=SC2086
  c=$(chk "$body" $flags)
  g=$(gw "$port" "$ep" "$body")
  check_eq "$name: tokgate check and tokgate serve decide the same" "$c" "$g"
  check_eq "$name: action" "${g%%/*}" "$want"
  up_pt=$(cat "$work/up_pt")
  if [ "$up_pt" != - ]; then
    check_eq "$name: prompt tokens = llama-server's usage.prompt_tokens" "${g##*/}" "$up_pt"
  fi
  echo "  $name: check $c | serve $g"
done

stop_tokgate T
stop_tokgate K
stop_tokgate R
finish
