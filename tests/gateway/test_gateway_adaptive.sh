#!/usr/bin/env bash
# test_gateway_adaptive.sh: thinking_mode adaptive (issue 18 item 2) against
# a REAL llama-server (CPU build) on a tiny random-weight qwen2 model whose
# template opens <think> in the prompt (llama.cpp's Qwen-QwQ-32B.jinja),
# served with llama-server's reasoning parser, as in
# test_gateway_continue.sh. Random weights never close the thinking block,
# so every answer's thinking is cut at its budget by tokgate: each one is a
# censored sample recorded as min(2 x budget, upper bound) (docs/policy.md).
#
# Model: --thinking-base 8, so the adaptive bounds are 8 x 0.25 = 2 and
# 8 x 2 = 16 and the catalogue budget (no reasoning_effort) is 8;
# --adaptive-min-samples 2, p90.
#   1. first two answers: header "source=catalogue", budget 8 (the
#      decision's x-tokgate-thinking-tokens 8), each cut at 8 (one thinking
#      cut counted per answer): two samples of min(16, 16) = 16;
#   2. third: p90 of {16, 16} = 16 (nearest rank), "source=samples;
#      samples=2"; /metrics has the class's samples and budget, and
#      promtool accepts the text;
#   3. SIGTERM saves the state file (format tokgate-adaptive, version 1,
#      the class's samples); a restart on it answers "source=samples" at once;
#   4. a corrupt file and a version-2 file are refused with an error log line
#      naming the file and what is wrong; the daemon serves, from the catalogue.
source "$(dirname "$0")/lib.sh"

find_llama_server
think_model "$work/think.gguf"
start_llama T "$work/think.gguf" --parallel 2

# Ready once discovery succeeded (/readyz) and named the model after
# llama-server's id (think.gguf), so its engine is known: before that the thinking is not cut by tokgate (no
# continuation) and the answers would be learned under another name.
ready() {
  local i
  for i in $(seq 1 100); do
    curl -sf "$1/readyz" >/dev/null && curl -s "$1/v1/models" | grep -q 'think.gguf' && return 0
    sleep 0.1
  done
  return 1
}
metric() { curl -s "$1/metrics" | awk -v n="$2" '$1==n {print $2}'; }
msgs='"messages":[{"role":"user","content":"Tell me about tokens."}],"temperature":0,"seed":1,"max_tokens":40'
state=$work/adaptive.json
flags=(--upstream "$T" --model "$work/think.gguf" --discovery-interval 1 --thinking-base 8 --min-answer-tokens 16
       --thinking-mode adaptive --adaptive-min-samples 2 --adaptive-state-file "$state")
ask() { # ask URL HEADERFILE [stream]
  if [ "${3:-}" = stream ]; then
    curl -sN -D "$2" "$1/v1/chat/completions" -d "{$msgs,\"stream\":true}" >/dev/null
  else
    curl -s -D "$2" "$1/v1/chat/completions" -d "{$msgs}" >/dev/null
  fi
}
hdr() { grep -i "^$2:" "$1" | tr -d '\r' | sed 's/^[^:]*: //'; }

# --- 1, 2: learning ----------------------------------------------------------------------
start_tokgate A "${flags[@]}"
G=http://127.0.0.1:$PORT_A
ready "$G" || fail "tokgate A never published limits"
check "no state file yet: said so" grep -q "does not exist yet; starting empty" "$work/A.log"
ask "$G" "$work/a1.h" stream
check_eq "answer 1: adaptive header (catalogue)" "$(hdr "$work/a1.h" x-tokgate-thinking-adaptive)" \
  "budget=8; class=lt1k/plain/none; source=catalogue; samples=0"
check_eq "answer 1: thinking budget 8" "$(hdr "$work/a1.h" x-tokgate-thinking-tokens)" 8
ask "$G" "$work/a2.h"
check_eq "answer 2 (not streamed): one sample so far" "$(hdr "$work/a2.h" x-tokgate-thinking-adaptive)" \
  "budget=8; class=lt1k/plain/none; source=catalogue; samples=1"
check_eq "two thinking cuts counted" "$(metric "$G" tokgate_thinking_cuts_total)" 2
check_eq "two cut answers learned" "$(metric "$G" 'tokgate_adaptive_answers_total{outcome="cut"}')" 2
ask "$G" "$work/a3.h" stream
check_eq "answer 3: p90 of {16, 16} from samples" "$(hdr "$work/a3.h" x-tokgate-thinking-adaptive)" \
  "budget=16; class=lt1k/plain/none; source=samples; samples=2"
check_eq "answer 3: thinking budget 16" "$(hdr "$work/a3.h" x-tokgate-thinking-tokens)" 16
# effort "high" is another class: the catalogue's aggressive budget, 16
curl -s -D "$work/a4.h" "$G/v1/chat/completions" -d "{$msgs,\"reasoning_effort\":\"high\"}" >/dev/null
check_eq "reasoning_effort high: its own class, catalogue x 2" "$(hdr "$work/a4.h" x-tokgate-thinking-adaptive)" \
  "budget=16; class=lt1k/plain/high; source=catalogue; samples=0"
curl -s "$G/metrics" > "$work/m.txt"
check "metrics: the class's samples (3 after answer 3)" \
  grep -qE '^tokgate_adaptive_samples\{model="[^"]+",band="lt1k",code="plain",effort="none"\} 3$' "$work/m.txt"
check "metrics: the class's learned budget" \
  grep -qE '^tokgate_adaptive_budget_tokens\{model="[^"]+",band="lt1k",code="plain",effort="none"\} 16$' "$work/m.txt"
if command -v promtool >/dev/null; then
  check "promtool accepts /metrics with adaptive samples" sh -c "promtool check metrics < '$work/m.txt' >/dev/null 2>&1"
else fail "promtool missing (scripts/setup.sh --test installs prometheus)"; fi
stop_tokgate A

# --- 3: the state survives a restart --------------------------------------------------------
check "saved at exit" grep -q "adaptive budgets saved to $state (exit)" "$work/A.log"
js_check "state file: format, version, the class's 4 samples (3 + effort high's 1)" "$(cat "$state")" \
  'j.format==="tokgate-adaptive" && j.version===1 && Object.values(j.models)[0]["lt1k/plain/none"].length===3 && Object.values(j.models)[0]["lt1k/plain/high"].length===1'
check "no temporary file left" test ! -e "$state.tmp"
start_tokgate B "${flags[@]}"
G=http://127.0.0.1:$PORT_B
ready "$G" || fail "tokgate B never published limits"
check "loaded at start" grep -q "adaptive budgets loaded from $state" "$work/B.log"
ask "$G" "$work/b1.h"
check_eq "after the restart: from samples at once" "$(hdr "$work/b1.h" x-tokgate-thinking-adaptive)" \
  "budget=16; class=lt1k/plain/none; source=samples; samples=3"
stop_tokgate B

# --- 4: corrupt and wrong-version files are refused, the daemon serves ------------------------
printf '{"format":"tokgate-adaptive","version":1,"models":{"m":{"lt1k/plain/none":[1,2' > "$state"
start_tokgate C "${flags[@]}"
G=http://127.0.0.1:$PORT_C
ready "$G" || fail "tokgate C never published limits"
check "corrupt file: an error line naming the file and why" \
  grep -qE "tokgate error: adaptive state $state refused: not JSON" "$work/C.log"
ask "$G" "$work/c1.h"
check_eq "corrupt file: serving from the catalogue" "$(hdr "$work/c1.h" x-tokgate-thinking-adaptive)" \
  "budget=8; class=lt1k/plain/none; source=catalogue; samples=0"
stop_tokgate C
printf '{"format":"tokgate-adaptive","version":2,"models":{}}' > "$state"
start_tokgate D "${flags[@]}"
G=http://127.0.0.1:$PORT_D
ready "$G" || fail "tokgate D never published limits"
check "version 2: an error line naming the file and the versions" \
  grep -qE "tokgate error: adaptive state $state refused: version 2, this tokgate reads version 1" "$work/D.log"
stop_tokgate D
finish
