#!/usr/bin/env bash
# test_openai_client.sh: a refusal from `tokgate check` is understood by a real
# OpenAI client library. The error bodies come from $TG_BIN check (never typed
# in); a tiny node HTTP server on 127.0.0.1 (a free port picked by the OS)
# answers a chat completion with that body and the decision's status, and the
# npm `openai` client must raise BadRequestError with the fields intact:
#   prompt cap   -> code context_length_exceeded, param messages,
#                   type invalid_request_error, n_prompt_tokens / n_ctx kept
#   GPUStack max_tokens refusal -> BadRequestError, param max_tokens
set -euo pipefail
: "${TG_BIN:?TG_BIN must point at the tokgate binary}"
: "${TG_FIXTURES:?TG_FIXTURES must point at the test fixtures}"
if [ ! -d "$TG_FIXTURES/node_modules/openai" ]; then
  echo "missing fixture: $TG_FIXTURES/node_modules/openai (run scripts/setup.sh --test)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A chat whose estimated prompt (about 12500 tokens) is over the input budget
# of a 16384-token model with 8192 reserved for output.
node -e '
  const big = "lorem ipsum dolor sit amet ".repeat(1850);
  process.stdout.write(JSON.stringify({model: "m", messages: [
    {role: "system", content: "be brief"}, {role: "user", content: big}]}));
' > "$work/long.json"
"$TG_BIN" check --context 16384 --output-reserve 8192 < "$work/long.json" > "$work/cap.json"

printf '%s' '{"model":"qwen3-235b-a22b","messages":[{"role":"user","content":"hi"}],"max_tokens":120000}' \
  > "$work/mt.json"
"$TG_BIN" check --context 131072 < "$work/mt.json" > "$work/mt_decision.json"

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
NODE_PATH="$TG_FIXTURES/node_modules" node "$work/client.js" "$work/cap.json" "$work/mt_decision.json"
