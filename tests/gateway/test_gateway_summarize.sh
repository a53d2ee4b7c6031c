#!/usr/bin/env bash
# test_gateway_summarize.sh: truncation mode summarize (docs/policy.md)
# against a REAL llama-server serving the tiny random-weight qwen2 model. The
# summary text is noise; the mechanics are what is checked:
#
#   - a conversation growing past the context: every request is answered 200
#     and what llama-server counted (usage.prompt_tokens) plus max_tokens fits
#     its n_ctx; a request over the context is summarized (x-tokgate-truncation:
#     summarize), one summary call per distinct prefix summarized; the next
#     requests reuse that summary while it frees enough (a hit), and
#     llama-server finds their compacted prefix in its prompt cache;
#   - the same request again takes the summary from the cache: no new summary
#     call (tokgate_summarize_calls_total, and llama-server's own request log),
#     and llama-server reuses its prompt cache for the compacted prefix
#     (timings.cache_n), which is byte-identical;
#   - tool-call pairs stay whole: every turn is user, assistant tool call, tool
#     result, assistant; the messages summarized are 4 per turn summarized;
#   - streamed answers are summarized the same way;
#   - a summary call that fails falls back to drop_oldest_turns and says so: an
#     old turn longer than the context makes llama-server refuse the summary
#     call (HTTP 400, exceeds the context); a summary.timeout shorter than any
#     generation times it out; a summary_max_tokens that leaves no room is a
#     fallback without any call;
#   - per request, "truncation": "summarize" on a model without the setting.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model
start_llama L "$model" -np 1 --metrics
MAXT=16
start_tokgate T --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --truncation summarize --summary-max-tokens 48
G=http://127.0.0.1:$PORT_T
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
nctx=$(curl -s "$L/props" | node -pe 'JSON.parse(require("fs").readFileSync(0)).default_generation_settings.n_ctx')

# chat K [WORDS] [HUGE]: a chat of K finished turns (user, assistant tool call,
# tool result, assistant), then a last short user message. WORDS per text
# (default 60); HUGE: the first user message is that many words instead.
chat() {
  node -e '
    const [k, words, huge] = [+process.argv[1], +(process.argv[2] || 60), +(process.argv[3] || 0)];
    const w = (n, s) => Array.from({length: n}, (_, i) => ["river", "stone", "lamp", "green", "seven", "cloud"][(i + s) % 6]).join(" ");
    const m = [{role: "system", content: "You are terse."}];
    for (let i = 0; i < k; i++) {
      m.push({role: "user", content: "turn " + i + ": " + w(i === 0 && huge ? huge : words, i)});
      m.push({role: "assistant", content: null, tool_calls: [{id: "call_" + i, type: "function",
              function: {name: "lookup", arguments: JSON.stringify({q: "item " + i})}}]});
      m.push({role: "tool", tool_call_id: "call_" + i, content: "result " + i + ": " + w(words / 2, i + 1)});
      m.push({role: "assistant", content: "noted " + i + ": " + w(words / 2, i + 2)});
    }
    m.push({role: "user", content: "and now?"});
    console.log(JSON.stringify({messages: m, max_tokens: '$MAXT', temperature: 0}));' "$@"
}

# post PORT BODY: the answer's head into $work/h, body into $work/b
post() {
  curl -s -D "$work/h" -o "$work/b" -H 'Content-Type: application/json' --data-binary @- \
    "http://127.0.0.1:$1/v1/chat/completions" <<<"$2"
}
hdr() { grep -i "^$1:" "$work/h" | head -1 | cut -d' ' -f2- | tr -d '\r'; }
status() { head -1 "$work/h" | cut -d' ' -f2; }
metric() { curl -s "$G/metrics" | grep -E "^$1 " | awk '{print $2}'; }
# llama-server's own count of generated tokens (its /metrics)
predicted() { curl -s "$L/metrics" | grep -E '^llamacpp:tokens_predicted_total ' | awk '{print $2}'; }

# --- a conversation growing past the context ------------------------------------
# A summary replaces the turns that must go plus a quarter of the room left, so
# the next requests of a growing conversation reuse it (a hit) until they
# outgrow it: one call per summarized prefix, and the compacted prefix the
# engine already holds.
summarized=0 misses=0 hits=0 prev=0
for k in 4 10 13 15 16 17 18 19 20 21; do
  post "$PORT_T" "$(chat $k)"
  check_eq "k=$k: answered" "$(status)" 200
  up=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.prompt_tokens' "$work/b")
  cached=$(node -pe 'const j=JSON.parse(require("fs").readFileSync(process.argv[1])); j.timings ? j.timings.cache_n : -1' "$work/b")
  check "k=$k: what llama-server counted ($up) + max_tokens fits n_ctx $nctx" [ $((up + MAXT)) -le "$nctx" ]
  check_eq "k=$k: x-tokgate-prompt-tokens is llama-server's count" "$(hdr x-tokgate-prompt-tokens)" "$up"
  tr=$(hdr x-tokgate-truncation) sum=$(hdr x-tokgate-summary)
  echo "k=$k: prompt $(hdr x-tokgate-prompt-tokens-before)->$up tokens (llama-server's cache_n $cached); truncation ${tr:-none};" \
    "summary $sum turns $(hdr x-tokgate-summarized-turns) messages $(hdr x-tokgate-summarized-messages) tokens $(hdr x-tokgate-summary-tokens)"
  if [ "$tr" = summarize ]; then
    summarized=$((summarized + 1))
    t=$(hdr x-tokgate-summarized-turns) n=$(hdr x-tokgate-summarized-messages)
    check "k=$k: whole turns summarized, tool calls with their results ($t turns, $n messages)" \
      [ "$t" -ge 1 ] && check_eq "k=$k: 4 messages per turn" "$n" $((4 * t))
    st=$(hdr x-tokgate-summary-tokens)
    # (the summary's text re-tokenized may take a few more tokens than the 48 the
    # model generated: the random model's output is not tokenized canonically)
    check "k=$k: the summary ($st) is shorter than what it replaced" \
      node -e 'const [b, a] = process.argv[1].split("->").map(Number); process.exit(a > 0 && b > a ? 0 : 1)' "$st"
    check_eq "k=$k: truncated" "$(hdr x-tokgate-truncated)" 1
    case $sum in
      miss) misses=$((misses + 1)) ;;
      hit) hits=$((hits + 1))
        # the compacted prompt before, less its last user message, is this one's prefix
        check "k=$k: a reused summary keeps llama-server's prompt cache warm (cache_n $cached of the previous $prev)" \
          [ "$cached" -ge $((prev - 16)) ] ;;
      *) fail "k=$k: x-tokgate-summary '$sum'" ;;
    esac
  else
    check_eq "k=$k: fits as it is" "$tr" ""
  fi
  prev=$up
done
check "some requests were summarized ($summarized), some from a summary made for an earlier one ($hits)" \
  [ "$summarized" -ge 4 ] && check "hits" [ "$hits" -ge 1 ]
check_eq "one summary call per summarized prefix" "$(metric tokgate_summarize_calls_total)" "$misses"
check_eq "summaries made" "$(metric 'tokgate_summaries_total\{result="made"\}')" "$misses"
check_eq "summaries from the cache" "$(metric 'tokgate_summaries_total\{result="hit"\}')" "$hits"

# --- the same history again: the cache, and llama-server's prompt cache -------------
body=$(chat 21)
calls=$(metric tokgate_summarize_calls_total); gen=$(predicted)
post "$PORT_T" "$body"
check_eq "again: answered" "$(status)" 200
check_eq "again: summarized from the cache" "$(hdr x-tokgate-summary)" hit
check_eq "again: no new summary call (tokgate)" "$(metric tokgate_summarize_calls_total)" "$calls"
out=$(node -pe 'JSON.parse(require("fs").readFileSync(process.argv[1])).usage.completion_tokens' "$work/b")
check_eq "again: llama-server generated only the answer's $out tokens (no summary)" "$(predicted)" $((gen + out))
check_eq "cache hits" "$(metric 'tokgate_summaries_total\{result="hit"\}')" $((hits + 1))
p1=$(hdr x-tokgate-prompt-tokens)
post "$PORT_T" "$body"
js_check "a third time: llama-server reuses its prompt cache for the byte-identical compacted prompt" "$(cat "$work/b")" \
  "j.timings && j.timings.cache_n >= $p1 - 2 && j.usage.prompt_tokens === $p1"

# --- streamed: the same, the summary from the cache, the answer an SSE stream -----
post "$PORT_T" "$(printf %s "$body" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0));j.stream=true;JSON.stringify(j)')"
check_eq "stream: answered" "$(status)" 200
check_eq "stream: summarized from the cache" "$(hdr x-tokgate-summary)" hit
check "stream: an SSE stream that ends with [DONE]" grep -q '^data: \[DONE\]' "$work/b"

# --- a failing summary call falls back to drop_oldest_turns -----------------------
calls=$(metric tokgate_summarize_calls_total)
post "$PORT_T" "$(chat 3 60 $((nctx * 2)))"
check_eq "failed call: still answered" "$(status)" 200
check_eq "failed call: the fallback is said" "$(hdr x-tokgate-summary)" fallback
check_eq "failed call: drop_oldest_turns" "$(hdr x-tokgate-truncation)" drop_oldest_turns
check_contains "failed call: llama-server's refusal named" "$(hdr x-tokgate-summary-fallback)" "HTTP 400"
check_eq "failed call: one call made" "$(metric tokgate_summarize_calls_total)" $((calls + 1))
check_eq "failed: counted" "$(metric 'tokgate_summaries_total\{result="failed"\}')" 1
check "failed call: logged" grep -q "fell back to drop_oldest_turns" "$work/T.log"

# --- a summary call past summary.timeout: the same fallback ----------------------
start_tokgate W --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --truncation summarize --summary-max-tokens 48 --summary-timeout 0.001
for i in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT_W/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
post "$PORT_W" "$(chat 21)"
check_eq "timeout: answered" "$(status)" 200
check_eq "timeout: drop_oldest_turns" "$(hdr x-tokgate-truncation)" drop_oldest_turns
check_contains "timeout: says so" "$(hdr x-tokgate-summary-fallback)" "timeout"

# --- no room for a summary: the fallback, no call --------------------------------
start_tokgate U --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1 \
  --truncation summarize --summary-max-tokens "$nctx"
for i in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT_U/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
post "$PORT_U" "$(chat 21)"
check_eq "no room: answered" "$(status)" 200
check_eq "no room: drop_oldest_turns" "$(hdr x-tokgate-truncation)" drop_oldest_turns
check_contains "no room: says why" "$(hdr x-tokgate-summary-fallback)" "no room for a summary"
check_eq "no room: no call" "$(curl -s "http://127.0.0.1:$PORT_U/metrics" | grep -E '^tokgate_summarize_calls_total ' | awk '{print $2}')" 0

# --- per request: "truncation": "summarize" on a model without the setting -------
start_tokgate V --upstream "$L" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
for i in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT_V/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
post "$PORT_V" "$(chat 21 | node -pe 'const j=JSON.parse(require("fs").readFileSync(0));j.truncation="summarize";JSON.stringify(j)')"
check_eq "per request: answered" "$(status)" 200
check_eq "per request: summarized" "$(hdr x-tokgate-truncation)" summarize
post "$PORT_V" "$(chat 21)"
check_eq "without it: refused as before (truncation off)" "$(status)" 400

stop_tokgate T
stop_tokgate U
stop_tokgate V
stop_tokgate W
finish
