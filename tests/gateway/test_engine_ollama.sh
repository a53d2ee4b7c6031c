#!/usr/bin/env bash
# test_engine_ollama.sh: tokgate serve in front of two Ollama STAND-INs
# (standin_ollama.js: Ollama's endpoints field for field, read from
# ollama/ollama v0.33.0-rc2; Ollama itself cannot run here), one model each,
# and a third serving a name only the built-in catalogue knows. Issue 13's
# Ollama acceptance: /v1/models and /api.json show limits; an over-long
# /api/chat is refused before the upstream; a fitting one goes up with
# options.num_ctx set; /api/chat for a second model reaches that model's
# upstream; plus options.num_predict capped as max_tokens is, Ollama's
# errors in tokgate's shape, the routes passed through or refused.
# Issue 19: Ollama has no tokenize route (server/routes.go at fb30760 registers
# none), so its counts stay estimates, marked so (x-tokgate-count: estimated;
# source=estimate); its answers' own count (prompt_eval_count = cache_n +
# prompt_n, the whole prompt: llm/llama_server.go promptEvalCount; usage.
# prompt_tokens on the OpenAI face) is logged against the estimate as drift.
source "$(dirname "$0")/lib.sh"

start_ollama() { # start_ollama VAR NAME CONTEXT ARCH : sets VAR to its port
  node "$here/standin_ollama.js" "$work/$1.port" "$2" "$3" "$4" & pids+=($!)
  local i
  for i in $(seq 1 50); do [ -s "$work/$1.port" ] && break; sleep 0.1; done
  printf -v "$1" %s "$(cat "$work/$1.port")"
}
start_ollama PA tiny-a:latest 4096 llama
start_ollama PB tiny-b:latest 8192 qwen2
start_ollama PC qwen3:8b 0 none
start_ollama PD mystery:latest 0 none
tiny_model # $model: a GGUF whose qwen2.context_length is 4096 (src/gguf/tiny_model.c)
printf '{"discovery_interval":1,"models":[{"upstream":"http://127.0.0.1:%s"},{"upstream":"http://127.0.0.1:%s"},{"upstream":"http://127.0.0.1:%s"},{"upstream":"http://127.0.0.1:%s","model":"%s"}]}\n' \
  "$PA" "$PB" "$PC" "$PD" "$model" >"$work/ollama.json"
start_tokgate O --config "$work/ollama.json"
G=http://127.0.0.1:$PORT_O
for i in $(seq 1 50); do curl -s "$G/v1/limits" | grep -q '"kind":"ollama".*"kind":"ollama".*"kind":"ollama".*"kind":"ollama"' && break; sleep 0.1; done
stats() { curl -s "http://127.0.0.1:$1/standin/last"; }

# --- discovery: limits from Ollama's /api/show model_info ----------------------
# Expected: the stand-in's <arch>.context_length (4096, 8192); output = the
# 8192 reserve at most half the context (tokgate/limits.h), input the rest.
r=$(curl -s "$G/v1/models")
js_check "/v1/models shows each Ollama model's limits" "$r" \
  'j.data.length===4 && j.data.find(m=>m.id==="tiny-a:latest").limit.context===4096 && j.data.find(m=>m.id==="tiny-a:latest").limit.output===2048 && j.data.find(m=>m.id==="tiny-b:latest").limit.context===8192 && j.data.find(m=>m.id==="tiny-b:latest").context_length===8192'
r=$(curl -s "$G/api.json")
js_check "/api.json shows the same limits" "$r" \
  'j.tokgate.models["tiny-a:latest"].limit.context===4096 && j.tokgate.models["tiny-b:latest"].limit.input===4096'
r=$(curl -s "$G/v1/limits")
js_check "/v1/limits: engine ollama, limits from its model info, admission off" "$r" \
  'j.data.every(m=>m.upstream_info.kind==="ollama" && m.upstream_info.kv_capacity===null) && j.data.find(m=>m.model==="tiny-a:latest").source.includes("model info") && j.data.find(m=>m.model==="tiny-a:latest").upstream_info.n_ctx_train===4096'
# Item 5: no model_info context, but the catalogue knows qwen3:8b (131072,
# src/model/catalogue.c): budgeted, never limit null.
js_check "a model without model_info gets the catalogue's limits" "$r" \
  'j.data.find(m=>m.model==="qwen3:8b").limit.context===131072 && j.data.find(m=>m.model==="qwen3:8b").source.includes("catalogue")'
js_check "a model without model_info, a GGUF in its section: the file's limits" "$r" \
  'j.data.find(m=>m.model==="mystery:latest").limit.context===4096 && j.data.find(m=>m.model==="mystery:latest").source.includes("model file")'

# --- /api/chat: refused before the upstream when over-long -----------------------
big=$(head -c 30000 /dev/zero | tr '\0' 'a' | sed 's/aaaa/aaa /g')
code=$(curl -s -o "$work/big.out" -w '%{http_code}' "$G/api/chat" \
  -d "{\"model\":\"tiny-a:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"$big\"}],\"options\":{\"num_ctx\":999999}}")
check_eq "over-long /api/chat refused" "$code" 400
js_check "over-long /api/chat: context_length_exceeded" "$(cat "$work/big.out")" 'j.error.code==="context_length_exceeded" && j.error.n_ctx===4096'
js_check "over-long /api/chat never reached the upstream" "$(stats "$PA")" '!j.requests["/api/chat"]'

# --- a fitting one goes up with options.num_ctx set ------------------------------
r=$(curl -s "$G/api/chat" -d '{"model":"tiny-a:latest","messages":[{"role":"user","content":"hi"}],"options":{"num_ctx":999999}}')
check_eq "streamed NDJSON relayed (4 lines, the last done)" "$(printf '%s\n' "$r" | grep -c '"done":')" 4
check_contains "the last line carries done_reason" "$r" '"done":true,"done_reason":"stop"'
js_check "/api/chat went up with options.num_ctx = the derived context" "$(stats "$PA")" \
  'j.requests["/api/chat"]===1 && j.last["/api/chat"].options.num_ctx===4096 && j.last["/api/chat"].options.num_predict>0 && j.last["/api/chat"].options.num_predict<=2048 && j.last["/api/chat"].truncate===false'

# --- /api/chat for the second model reaches that model's upstream ---------------
r=$(curl -s "$G/api/chat" -d '{"model":"tiny-b:latest","stream":false,"messages":[{"role":"user","content":"hi"}]}')
js_check "/api/chat stream:false answers one JSON object" "$r" 'j.done===true && j.message.content==="Hello!" && j.model==="tiny-b:latest"'
js_check "/api/chat for tiny-b reached tiny-b's upstream, num_ctx 8192" "$(stats "$PB")" \
  'j.requests["/api/chat"]===1 && j.last["/api/chat"].options.num_ctx===8192'
js_check "... and not tiny-a's" "$(stats "$PA")" 'j.requests["/api/chat"]===1'

# --- num_predict as max_tokens: capped; -1 (infinite) gets the budget's -------
hdr=$(curl -s -D - -o /dev/null "$G/api/chat" -d '{"model":"tiny-b:latest","messages":[{"role":"user","content":"hi"}],"options":{"num_predict":100000}}')
mt=$(printf '%s' "$hdr" | tr -d '\r' | sed -n 's/^x-tokgate-max-tokens: //p')
js_check "num_predict 100000 capped to the budget's max_tokens ($mt)" "$(stats "$PB")" \
  "j.last['/api/chat'].options.num_predict===Number('$mt') && Number('$mt')>0 && Number('$mt')<8192"
curl -s -o /dev/null "$G/api/generate" -d '{"model":"tiny-a:latest","prompt":"hi","options":{"num_predict":-1}}'
js_check "/api/generate num_predict -1 (infinite) gets a finite budget" "$(stats "$PA")" \
  'j.last["/api/generate"].options.num_predict===2048 && j.last["/api/generate"].options.num_ctx===4096'
r=$(curl -s "$G/api/generate" -d '{"model":"tiny-a:latest","prompt":"hi","stream":false}')
js_check "/api/generate stream:false" "$r" 'j.done===true && j.response==="Hello!" && j.prompt_eval_count===7'

# --- errors: Ollama's words in tokgate's shape ----------------------------------
r=$(curl -s "$G/api/chat" -d '{"model":"tiny-a:latest","messages":[{"role":"user","content":"standin:overflow"}]}')
js_check "Ollama's overflow answered as context_length_exceeded, its text kept" "$r" \
  'j.error.code==="context_length_exceeded" && j.error.message.includes("the input length exceeds the context length")'
r=$(curl -s "$G/v1/chat/completions" -d '{"model":"tiny-b:latest","messages":[{"role":"user","content":"standin:overflow"}]}')
js_check "the OpenAI face's overflow: the same shape" "$r" \
  'j.error.code==="context_length_exceeded" && j.error.message.includes("the input length exceeds the context length")'
r=$(curl -s "$G/api/chat" -d '{"model":"nope","messages":[{"role":"user","content":"hi"}]}')
js_check "/api/chat for an unknown model: tokgate's 404" "$r" 'j.error.code==="model_not_found"'
r=$(curl -s "$G/v1/chat/completions" -d '{"model":"tiny-b:latest","messages":[{"role":"user","content":"hi"}]}')
js_check "/v1/chat/completions resolved by model" "$r" 'j.choices[0].message.content==="Hello!"'
js_check "... on tiny-b's upstream" "$(stats "$PB")" 'j.requests["/v1/chat/completions"]===2'

# --- the other routes -------------------------------------------------------------
r=$(curl -s "$G/api/tags"); js_check "/api/tags passed through" "$r" 'Array.isArray(j.models)'
r=$(curl -s "$G/api/version"); js_check "/api/version passed through" "$r" 'j.version==="0.33.0-rc2"'
r=$(curl -s "$G/api/show" -d '{"model":"tiny-a:latest"}'); js_check "/api/show passed through" "$r" 'j.model_info["llama.context_length"]===4096'
check_eq "POST /api/pull refused (admin)" "$(curl -s -o /dev/null -w '%{http_code}' "$G/api/pull" -d '{}')" 403
check_eq "DELETE /api/delete refused (admin)" "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "$G/api/delete" -d '{}')" 403

stop_tokgate O

# --- Ollama behind a second section, another engine first -----------------------
# The default model's engine (the vLLM-like stand-in) has no /api/chat: the
# route is still found in the Ollama model's table and resolved by the body.
start_standin
printf '{"discovery_interval":1,"models":[{"upstream":"http://127.0.0.1:%s"},{"upstream":"http://127.0.0.1:%s"}]}\n' \
  "$STANDIN_PORT" "$PA" >"$work/mixed.json"
start_tokgate M --config "$work/mixed.json"
G=http://127.0.0.1:$PORT_M
for i in $(seq 1 50); do curl -s "$G/v1/limits" | grep -q '"kind":"ollama"' && break; sleep 0.1; done
curl -s -o /dev/null "$G/api/chat" -d '{"model":"tiny-a:latest","messages":[{"role":"user","content":"mixed"}]}'
js_check "/api/chat behind the second section reached the Ollama upstream" "$(stats "$PA")" \
  'j.last["/api/chat"].messages[0].content==="mixed" && j.last["/api/chat"].options.num_ctx===4096'
r=$(curl -s "$G/api/chat" -d '{"model":"ok","messages":[{"role":"user","content":"hi"}]}')
js_check "/api/chat naming the other engine's model: 404 naming the route to use" "$r" \
  'j.error.code==="route_not_found" && j.error.message.includes("/v1/chat/completions")'
stop_tokgate M

# --- past tokgate's own check: a stale limit (the model replaced by one with
# a 1024 context after discovery; the next discovery is a day away) -------------
start_ollama PE tiny-e:latest 4096 llama
printf '{"discovery_interval":86400,"models":[{"upstream":"http://127.0.0.1:%s"}]}\n' "$PE" >"$work/stale.json"
start_tokgate S --config "$work/stale.json"
G=http://127.0.0.1:$PORT_S
for i in $(seq 1 50); do curl -s "$G/v1/limits" | grep -q '"context":4096' && break; sleep 0.1; done
curl -s -o /dev/null "http://127.0.0.1:$PE/standin/context" -d '{"context":1024}'
mid=$(head -c 6000 /dev/zero | tr '\0' 'a' | sed 's/aaaa/aaa /g')
r=$(curl -s "$G/api/chat" -d "{\"model\":\"tiny-e:latest\",\"messages\":[{\"role\":\"user\",\"content\":\"$mid\"}]}")
js_check "past a stale limit: Ollama's overflow (truncate:false) as context_length_exceeded" "$r" \
  'j.error.code==="context_length_exceeded" && j.error.message.includes("the input length exceeds the context length")'
js_check "... the request went up and was never truncated silently" "$(stats "$PE")" \
  'j.requests["/api/chat"]===1 && !j.last.truncated_silently'
stop_tokgate S
# --- issue 19: the estimate checked against the answer's prompt_eval_count -----------
# The stand-in's answers carry prompt_eval_count 7 (standin_ollama.js metrics).
start_tokgate P --config "$work/ollama.json"
G=http://127.0.0.1:$PORT_P
for i in $(seq 1 50); do curl -s "$G/v1/limits" | grep -q '"kind":"ollama".*"kind":"ollama".*"kind":"ollama".*"kind":"ollama"' && break; sleep 0.1; done
n=0
for body in '"stream":false' '"stream":true'; do
  n=$((n + 1))
  curl -s -D "$work/p$n.h" -o /dev/null "$G/api/chat" -d "{\"model\":\"tiny-a:latest\",$body,\"messages\":[{\"role\":\"user\",\"content\":\"drift check $n please\"}]}"
done
n=$((n + 1))
curl -s -D "$work/p$n.h" -o /dev/null "$G/v1/chat/completions" -d '{"model":"tiny-a:latest","messages":[{"role":"user","content":"drift check 3 please"}]}'
for i in 1 2 3; do
  check "Ollama ($i): the count is marked estimated, source estimate" grep -qi '^x-tokgate-count: estimated; source=estimate'$'\r' "$work/p$i.h"
  est=$(grep -i '^x-tokgate-prompt-tokens:' "$work/p$i.h" | tr -dc 0-9)
  check "Ollama ($i): drift logged: the engine's 7 against tokgate's estimate ${est:-?}" \
    grep -q "count drift: upstream 127.0.0.1:$PA counted 7 prompt tokens, tokgate estimated ${est:-x} " "$work/P.log"
done
stop_tokgate P
finish
