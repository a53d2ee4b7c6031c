#!/usr/bin/env bash
# test_openai_client.sh: tokgate's budget decisions as a real OpenAI client
# library (the npm `openai` package) sees them.
#
# 1. Refusals are understood. The error bodies come from $TG_BIN check (never
#    typed in); a tiny node HTTP server on 127.0.0.1 answers a chat completion
#    with that body and the decision's status, and the client must raise
#    BadRequestError with the fields intact:
#      prompt cap (no max_tokens) -> code context_length_exceeded, param
#                                    messages, type invalid_request_error,
#                                    n_prompt_tokens / n_ctx kept
#      GPUStack max_tokens refusal (--overflow reject) -> param max_tokens
# 2. Budgets agents survive (issue 15), through `tokgate serve` in front of a
#    REAL llama-server serving the tiny model (tests/gateway/lib.sh starts
#    both), the client calling tokgate as any agent would:
#      - a prompt above limit.input with a small max_tokens, prompt +
#        max_tokens near the 2048 context: answered (it was refused);
#      - max_tokens 32000 (opencode's openai-compatible provider) on a 4096
#        context: answered, x-tokgate-clamped: 1, max_tokens lowered to
#        min(safe maximum round(4096 x 0.8) = 3277, 4096 - prompt).
#    The reference for the prompt size is llama-server's usage.prompt_tokens.
set -uo pipefail  # no -e: lib.sh's cleanup stops processes that may be gone
: "${TG_BIN:?TG_BIN must point at the tokgate binary}"
: "${TG_FIXTURES:?TG_FIXTURES must point at the test fixtures}"
if [ ! -d "$TG_FIXTURES/node_modules/openai" ]; then
  echo "missing fixture: $TG_FIXTURES/node_modules/openai (run scripts/setup.sh --test)" >&2
  exit 1
fi
# $work, the cleanup of every process started, check/check_eq/finish, and the
# llama-server and tiny-model helpers.
source "$(dirname "$0")/../gateway/lib.sh"

# --- 1. refusals --------------------------------------------------------------------

# A chat whose estimated prompt (about 12500 tokens) is over the input budget
# of a 16384-token model with 8192 reserved for output.
node -e '
  const big = "lorem ipsum dolor sit amet ".repeat(1850);
  process.stdout.write(JSON.stringify({model: "m", messages: [
    {role: "system", content: "be brief"}, {role: "user", content: big}]}));
' > "$work/long.json"
"$TG_BIN" check --context 16384 --output-reserve 8192 < "$work/long.json" > "$work/cap.json"

# GPUStack's refusal is reject mode's; clamp mode (the default) lowers the value.
printf '%s' '{"model":"qwen3-235b-a22b","messages":[{"role":"user","content":"hi"}],"max_tokens":120000}' \
  > "$work/mt.json"
"$TG_BIN" check --context 131072 --overflow reject < "$work/mt.json" > "$work/mt_decision.json"

cat > "$work/client.js" <<'JS'
const http = require("http");
const fs = require("fs");
const OpenAI = require("openai");

function serve(decision) {
  return new Promise((resolve) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(decision.status, {"content-type": "application/json"});
        res.end(JSON.stringify(decision.error));
      });
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function expectRefusal(file, want) {
  const decision = JSON.parse(fs.readFileSync(file, "utf8"));
  if (decision.action !== "reject") throw new Error(`${file}: action ${decision.action}, want reject`);
  const server = await serve(decision);
  const client = new OpenAI({baseURL: `http://127.0.0.1:${server.address().port}/v1`,
                             apiKey: "test", maxRetries: 0});
  try {
    await client.chat.completions.create({model: "m", messages: [{role: "user", content: "x"}]});
    throw new Error(`${file}: the request succeeded`);
  } catch (e) {
    if (!(e instanceof OpenAI.BadRequestError))
      throw new Error(`${file}: got ${e && e.constructor && e.constructor.name}: ${e}`);
    for (const [k, v] of Object.entries(want))
      if (e[k] !== v) throw new Error(`${file}: ${k} = ${JSON.stringify(e[k])}, want ${JSON.stringify(v)}`);
    return e;
  } finally {
    server.close();
  }
}

(async () => {
  const cap = await expectRefusal(process.argv[2], {status: 400, code: "context_length_exceeded",
                                                   param: "messages", type: "invalid_request_error"});
  if (!/^This model's maximum context length is 16384 tokens\./.test(cap.error.message))
    throw new Error(`message: ${cap.error.message}`);
  if (cap.error.n_ctx !== 16384 || !(cap.error.n_prompt_tokens > 8192))
    throw new Error(`n_ctx/n_prompt_tokens: ${JSON.stringify(cap.error)}`);
  const mt = await expectRefusal(process.argv[3], {status: 400, param: "max_tokens",
                                                  type: "invalid_request_error"});
  if (!mt.message.includes("Safe maximum: 117965"))
    throw new Error(`message: ${mt.message}`);
  console.log("openai client: BadRequestError with context_length_exceeded and max_tokens refusals");
})().catch((e) => { console.error(e.message || e); process.exit(1); });
JS
check "the OpenAI client raises BadRequestError for tokgate's refusals" \
  env NODE_PATH="$TG_FIXTURES/node_modules" node "$work/client.js" "$work/cap.json" "$work/mt_decision.json"

# --- 2. through tokgate serve, in front of a real llama-server ----------------------------

find_llama_server
tiny_model
start_llama L2 "$model" -np 1                 # start_llama's -c 2048
start_llama L4 "$model" -np 1 -c 4096         # the last -c wins
start_tokgate T2 --upstream "$L2" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
start_tokgate T4 --upstream "$L4" --model "$model" --tokenizer "$tokjson" --discovery-interval 1
for p in "$PORT_T2" "$PORT_T4"; do
  for i in $(seq 1 50); do curl -s "http://127.0.0.1:$p/v1/models" | grep -q '"limit"' && break; sleep 0.1; done
done

cat > "$work/agent.js" <<'JS'
// node agent.js PORT WORDS MAX_TOKENS: one chat completion through tokgate with
// the OpenAI SDK; prints {limit, usage, finish, headers} or the error.
const OpenAI = require("openai");
const [port, words, maxTokens] = process.argv.slice(2);
(async () => {
  const baseURL = `http://127.0.0.1:${port}/v1`;
  const client = new OpenAI({baseURL, apiKey: "test", maxRetries: 0, timeout: 120000});
  const models = await client.models.list();
  const m = models.data[0];
  const content = "Repeat after me: " + Array(Number(words)).fill("word").join(" ");
  try {
    const {data, response} = await client.chat.completions.create({
      model: m.id, messages: [{role: "user", content}], max_tokens: Number(maxTokens),
      temperature: 0}).withResponse();
    const h = (k) => response.headers.get(k);
    console.log(JSON.stringify({ok: true, status: response.status, limit: m.limit, usage: data.usage,
      finish: data.choices[0].finish_reason, clamped: h("x-tokgate-clamped"),
      max_tokens: Number(h("x-tokgate-max-tokens")), prompt_tokens: Number(h("x-tokgate-prompt-tokens"))}));
  } catch (e) {
    console.log(JSON.stringify({ok: false, status: e.status, code: e.code, message: e.message, limit: m.limit}));
  }
})().catch((e) => { console.log(JSON.stringify({ok: false, fatal: String(e)})); });
JS
agent() { NODE_PATH="$TG_FIXTURES/node_modules" node "$work/agent.js" "$@"; }

# A 2048 context (limit.input 1024, limit.output 1024): a prompt of about 1900
# tokens with max_tokens 100 fits (prompt + 100 <= 2048) and is answered.
r=$(agent "$PORT_T2" 1880 100)
echo "  near the context: $r"
js_check "2048 context: prompt above limit.input with max_tokens 100 is answered (200)" "$r" \
  'j.ok && j.status===200 && j.limit.context===2048'
js_check "... the prompt is above limit.input and prompt + max_tokens fits (llama-server's usage)" "$r" \
  'j.ok && j.usage.prompt_tokens > j.limit.input && j.usage.prompt_tokens + 100 <= j.limit.context'
js_check "... forwarded as asked: max_tokens 100, not clamped, same prompt count as llama-server" "$r" \
  'j.ok && j.max_tokens===100 && j.clamped==="0" && j.prompt_tokens===j.usage.prompt_tokens && j.usage.completion_tokens<=100'

# A 4096 context (limit.input 2048, limit.output 2048, safe maximum 3277):
# opencode's max_tokens 32000 beside a prompt within limit.input is clamped to
# what the prompt leaves.
r=$(agent "$PORT_T4" 1950 32000)
echo "  32000 on 4096: $r"
js_check "4096 context: max_tokens 32000 is answered (200), not refused" "$r" \
  'j.ok && j.status===200 && j.limit.context===4096'
js_check "... x-tokgate-clamped: 1, max_tokens = min(3277, 4096 - llama-server's prompt_tokens)" "$r" \
  'j.ok && j.clamped==="1" && j.max_tokens===Math.min(3277, 4096 - j.usage.prompt_tokens) && j.usage.prompt_tokens <= j.limit.input'
js_check "... llama-server generated within it" "$r" 'j.ok && j.usage.completion_tokens <= j.max_tokens'

stop_tokgate T2
stop_tokgate T4
finish
