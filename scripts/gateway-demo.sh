#!/usr/bin/env bash
# scripts/gateway-demo.sh: the gateway's main job on a fresh machine, end to
# end. Installs what is needed (scripts/setup.sh --test: build deps, reference
# tokenizers, llama.cpp's source), builds tokgate, builds (or reuses) a CPU
# llama-server (scripts/llama-server.sh, cached in $TG_CACHE/llama-build),
# writes a tiny random-weight qwen2 model, starts llama-server and tokgate in
# front of it, and shows: the advertised limits, an exact count, a refused
# over-long prompt, an answer, and a stream that stops at the capped default
# and continues in place. Everything it starts is stopped on exit.
# This is `make demo`, the README's first quick-start command.
set -euo pipefail
cd "$(dirname "$0")/.."
cache=${TG_CACHE:-$HOME/.cache/tokgate}
fx=${TG_FIXTURES:-$cache/fixtures}
bash scripts/setup.sh --test
make -s build >/dev/null
bin=$(bash scripts/llama-server.sh)
work=$(mktemp -d /tmp/tokgate-demo.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
./build/gguf_test_tiny_writer --write "$work/tiny.gguf" "$fx/llama.cpp/models/ggml-vocab-qwen2.gguf" 42 >/dev/null
port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'; }
lp=$(port); gp=$(port)
"$bin/llama-server" -m "$work/tiny.gguf" --host 127.0.0.1 --port "$lp" -c 2048 -np 1 -t 2 >"$work/llama.log" 2>&1 & pids+=($!)
for _ in $(seq 1 120); do curl -sf "http://127.0.0.1:$lp/health" >/dev/null 2>&1 && break; sleep 0.5; done
./build/tokgate serve --listen "127.0.0.1:$gp" --upstream "http://127.0.0.1:$lp" --served-name tiny \
  --model "$work/tiny.gguf" --capped-default 16 --escalated-output-tokens 48 \
  2>"$work/tokgate.log" & pids+=($!)
G=http://127.0.0.1:$gp
for _ in $(seq 1 50); do curl -s "$G/v1/models" 2>/dev/null | grep -q limit && break; sleep 0.1; done
pretty() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.stringify(JSON.parse(s),null,2)))'; }

echo "== tokgate serve in front of llama-server (tiny random-weight qwen2, -c 2048) on $G"
echo; echo "== GET /v1/models: the limits clients see"
curl -s "$G/v1/models" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0)).data[0]; JSON.stringify({id:j.id, limit:j.limit, context_length:j.context_length, max_model_len:j.max_model_len})'
echo; echo "== GET /v1/limits: where they come from"
curl -s "$G/v1/limits" | pretty
echo; echo "== POST /tokenize: an exact count"
curl -s "$G/tokenize" -d '{"messages":[{"role":"user","content":"How many tokens is this, exactly?"}]}'; echo
echo; echo "== an over-long prompt: refused by tokgate before llama-server sees it"
long=$(python3 -c 'print(" ".join(["word"]*3000))')
curl -s -w '   (HTTP %{http_code})\n' "$G/v1/chat/completions" -d "{\"model\":\"tiny\",\"messages\":[{\"role\":\"user\",\"content\":\"$long\"}]}"
echo; echo "== an answer (random weights: the text is noise), with what tokgate counted"
curl -s -D "$work/h" "$G/v1/chat/completions" \
  -d '{"model":"tiny","messages":[{"role":"user","content":"Hello!"}],"max_tokens":12}' |
  node -pe 'const j=JSON.parse(require("fs").readFileSync(0)); JSON.stringify({content:j.choices[0].message.content, finish_reason:j.choices[0].finish_reason, usage:j.usage})'
grep -i '^x-tokgate' "$work/h"
echo; echo "== a stream without max_tokens: capped at the default (16 here), it stops on length and"
echo "   tokgate continues it in place to the escalated limit (48): one stream, one finish, one [DONE]"
curl -sN "$G/v1/chat/completions" \
  -d '{"model":"tiny","messages":[{"role":"user","content":"Tell me a story."}],"stream":true,"stream_options":{"include_usage":true}}' |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let n=0,f=[],u=null,d=0;
    for(const e of s.split("\n\n")){if(e==="data: [DONE]"){d++;continue;} if(!e.startsWith("data: {"))continue; const j=JSON.parse(e.slice(6)); n++;
      if(j.usage)u=j.usage; const c=(j.choices||[])[0]; if(c&&c.finish_reason)f.push(c.finish_reason);}
    console.log(JSON.stringify({chunks:n,finish_reasons:f,done_events:d,usage:u}));})'
curl -s "$G/metrics" | grep -E '^tokgate_escalations_(total|continued_total)'
