#!/usr/bin/env bash
# test_check_cli.sh: `tokgate check` as a command: exit 0 for every decision
# (a refusal included), 2 with the reason on stderr for unusable input or bad
# usage; TOKGATE_MAX_OUTPUT_TOKENS read by the CLI and reported as the "env"
# source (qwen-code's order: request > config > env > default); the flag
# aliases of issue 4; the estimator's prompt_tokens_exact false; issue 15's
# budgets (32000 clamped on a 4096 context, GPUStack's refusal in reject
# mode, a small max_tokens letting a prompt past limit.input, a refusal whose
# numbers agree with the decision).
set -euo pipefail
: "${TG_BIN:?TG_BIN must point at the tokgate binary}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
# field FILE EXPR: evaluates a JS expression over the parsed JSON as `d`.
field() { node -e 'const d=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8")); console.log(JSON.stringify(eval(process.argv[2])))' "$1" "$2"; }
expect() { # name got want
  if [ "$2" != "$3" ]; then echo "FAIL $1: got $2, want $3" >&2; fail=1; else echo "ok $1"; fi
}

chat='{"model":"m","messages":[{"role":"user","content":"hello"}]}'

# unusable input: exit 2, reason on stderr, nothing on stdout
for bad in 'not json' '{}' '{"messages":[]}' '{"prompt":[]}' '[1]'; do
  set +e
  printf '%s' "$bad" | "$TG_BIN" check --context 4096 >"$work/out" 2>"$work/err"
  rc=$?
  set -e
  expect "exit 2 for '$bad'" "$rc" 2
  expect "stdout empty for '$bad'" "$(wc -c <"$work/out")" 0
  grep -q "unusable request" "$work/err" || { echo "FAIL stderr for '$bad': $(cat "$work/err")" >&2; fail=1; }
done

# bad usage: exit 2
for args in "" "--context x" "--context 4096 --overflow maybe" "--context 4096 --bogus" \
            "--context 4096 --truncation sometimes" "--context 4096 --tp 2" \
            "--model-name Qwen/Qwen3-32B --prefill-tps 100" "--model /nonexistent/model"; do
  set +e
  printf '%s' "$chat" | "$TG_BIN" check $args >/dev/null 2>"$work/err"
  rc=$?
  set -e
  expect "exit 2 for args '$args'" "$rc" 2
done
set +e
printf '%s' "$chat" | TOKGATE_MAX_OUTPUT_TOKENS=lots "$TG_BIN" check --context 4096 >/dev/null 2>"$work/err"
rc=$?
set -e
expect "exit 2 for a bad TOKGATE_MAX_OUTPUT_TOKENS" "$rc" 2
grep -q TOKGATE_MAX_OUTPUT_TOKENS "$work/err" || { echo "FAIL env error not named" >&2; fail=1; }
"$TG_BIN" check --help >/dev/null
expect "--help exits 0" "$?" 0

# a refusal is a decision: exit 0
printf '%s' '{"messages":[{"role":"user","content":"hi"}],"max_tokens":999999}' |
  "$TG_BIN" check --context 4096 >"$work/d.json"
expect "reject exits 0" "$?" 0
expect "reject action" "$(field "$work/d.json" d.action)" '"reject"'
expect "reject status" "$(field "$work/d.json" d.status)" 400
expect "reject has no request" "$(field "$work/d.json" d.request)" null

# the env source, and the priority over it
printf '%s' "$chat" | TOKGATE_MAX_OUTPUT_TOKENS=2000 "$TG_BIN" check --context 131072 >"$work/d.json"
expect "env source" "$(field "$work/d.json" d.budget.max_tokens_source)" '"env"'
expect "env value" "$(field "$work/d.json" d.budget.max_tokens)" 2000
expect "env does not escalate" "$(field "$work/d.json" d.budget.escalate_to)" null
printf '%s' "$chat" | TOKGATE_MAX_OUTPUT_TOKENS=2000 "$TG_BIN" check --context 131072 \
  --max-output-tokens-default 3000 >"$work/d.json"
expect "config beats env" "$(field "$work/d.json" d.budget.max_tokens_source)" '"config"'
printf '%s' "$chat" | "$TG_BIN" check --context 131072 >"$work/d.json"
expect "capped default" "$(field "$work/d.json" d.budget.max_tokens)" 8000
expect "escalates to 64000" "$(field "$work/d.json" d.budget.escalate_to)" 64000
expect "estimated" "$(field "$work/d.json" d.budget.prompt_tokens_exact)" false
expect "forwarded max_tokens" "$(field "$work/d.json" d.request.max_tokens)" 8000

# reasoning model by name, dialect alias, thinking mode flag
printf '%s' "$chat" | "$TG_BIN" check --context 1048576 --model-name MiniMaxAI/MiniMax-M2.1 \
  --upstream-dialect llamacpp --thinking-mode conservative >"$work/d.json"
expect "thinking by catalogue" "$(field "$work/d.json" d.budget.thinking_tokens)" 16000
expect "llama.cpp field" "$(field "$work/d.json" d.request.thinking_budget_tokens)" 16000
expect "template kwarg" "$(field "$work/d.json" d.request.chat_template_kwargs.max_thinking_tokens)" 16000

# overflow alias: reject mode refuses prompt + max_tokens over the context
printf '%s' '{"messages":[{"role":"user","content":"hi"}],"max_tokens":3000}' |
  "$TG_BIN" check --context 4096 --output-reserve 100 --on-overflow reject \
  --abs-max-tokens 5000 --min-max-tokens 1 >"$work/d.json"
expect "fits, forwarded" "$(field "$work/d.json" d.action)" '"forward"'

# limits derived from a model agree with `tokgate limits` for the same flags
for margs in "--model-name Qwen/Qwen3-32B" \
             "--model-name Qwen/Qwen3-32B --free-vram-mib 20000 --kv-type q8_0 --output-reserve 4096" \
             "--model $TG_SOURCE_DIR/tests/data/configs/Qwen3.6-27B/config.json --free-vram-mib 9254,12000 --tp 2"; do
  printf '%s' "$chat" | "$TG_BIN" check $margs >"$work/d.json"
  "$TG_BIN" limits $margs --json >"$work/l.json"
  expect "context as limits ($margs)" "$(field "$work/d.json" d.budget.context)" "$(field "$work/l.json" d.context)"
  expect "input as limits ($margs)" "$(field "$work/d.json" d.budget.input)" "$(field "$work/l.json" d.input)"
done
# the reasoning catalogue by --model-name: Qwen3-8B thinks (32768; its 131072
# context holds that budget; Qwen3-32B by name has GPUStack's 32768 context)
printf '%s' "$chat" | "$TG_BIN" check --model-name Qwen/Qwen3-8B >"$work/d.json"
expect "Qwen3 thinking" "$(field "$work/d.json" d.budget.thinking_tokens)" 32768

# --flag=value works as in tokgate limits
printf '%s' "$chat" | "$TG_BIN" check --context=131072 --default-max-tokens=3000 >"$work/d.json"
expect "--flag=value" "$(field "$work/d.json" d.budget.max_tokens)" 3000

# the safe-maximum fractions are settings
printf '%s' "$chat" | "$TG_BIN" check --context 32768 --safe-fraction 0.5 >"$work/d.json"
expect "--safe-fraction" "$(field "$work/d.json" d.budget.safe_max)" 16384
printf '%s' "$chat" | "$TG_BIN" check --context 32768 --large-context-threshold 30000 \
  --safe-fraction-large 0.75 >"$work/d.json"
expect "--safe-fraction-large" "$(field "$work/d.json" d.budget.safe_max)" 24576

# --context is split by the gateway's rule (tg_limits_from_context, docs/limits.md):
# output = min(reserve 8192, 8192 / 2) = 4096, input = 4096, so `hi` is forwarded
# (issue 12 measured "input": 0 and a refusal here)
printf '%s' '{"model":"m","messages":[{"role":"user","content":"hi"}]}' | "$TG_BIN" check --context 8192 >"$work/d.json"
expect "--context 8192 forwards hi" "$(field "$work/d.json" d.action)" '"forward"'
expect "--context 8192 input" "$(field "$work/d.json" d.budget.input)" 4096

# unusable input names what the gateway answers: status, code, param
set +e
printf '%s' '{"model":"m"}' | "$TG_BIN" check --context 4096 >/dev/null 2>"$work/err"
set -e
grep -q "status 400, code missing_required_parameter, param messages" "$work/err" ||
  { echo "FAIL structured error on stderr: $(cat "$work/err")" >&2; fail=1; }

# issue 15, budgets agents survive. --context 4096: output min(8192, 2048) =
# 2048, input 2048, safe maximum round(4096 x 0.8) = 3277 (GPUStack's rule).
# opencode's max_tokens 32000 is clamped (the default overflow mode) to the
# safe maximum, and refused with GPUStack's message only with --overflow reject.
oc='{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":32000}'
printf '%s' "$oc" | "$TG_BIN" check --context 4096 >"$work/d.json"
expect "32000 on 4096: forwarded" "$(field "$work/d.json" d.action)" '"forward"'
expect "32000 on 4096: the safe maximum" "$(field "$work/d.json" d.request.max_tokens)" 3277
expect "32000 on 4096: clamped" "$(field "$work/d.json" d.budget.clamped)" true
expect "32000 on 4096: requested kept" "$(field "$work/d.json" d.budget.requested_max_tokens)" 32000
printf '%s' "$oc" | "$TG_BIN" check --context 4096 --overflow reject >"$work/d.json"
expect "32000 on 4096, reject mode: refused" "$(field "$work/d.json" d.action)" '"reject"'
expect "32000 on 4096, reject mode: GPUStack's message" "$(field "$work/d.json" d.error.error.message)" \
  '"max_tokens (32000) exceeds safe limit for model m. Context window: 4096, Safe maximum: 3277"'
# A prompt above limit.input (1024 on a 2048 context) with max_tokens 100 is
# forwarded when prompt + 100 fits; without max_tokens it is refused, and the
# message's numbers agree with the decision's.
big=$(node -e 'process.stdout.write(JSON.stringify({model:"m",messages:[{role:"user",content:"abcd".repeat(1500)}]}))')
printf '%s' "${big%\}},\"max_tokens\":100}" | "$TG_BIN" check --context 2048 >"$work/d.json"
pt=$(field "$work/d.json" d.budget.prompt_tokens)
check_range() { [ "$pt" -gt 1024 ] && [ $((pt + 100)) -le 2048 ]; }
check_range || { echo "FAIL prompt of $pt tokens is not in (1024, 1948]" >&2; fail=1; }
expect "prompt above input, max_tokens 100: forwarded" "$(field "$work/d.json" d.action)" '"forward"'
expect "prompt above input, max_tokens 100: as asked" "$(field "$work/d.json" d.request.max_tokens)" 100
printf '%s' "$big" | "$TG_BIN" check --context 2048 >"$work/d.json"
expect "prompt above input, no max_tokens: refused" "$(field "$work/d.json" d.error.error.code)" '"context_length_exceeded"'
msg=$(field "$work/d.json" d.error.error.message)
case "$msg" in
  *"maximum context length is 2048 tokens. However, your messages resulted in an estimated $pt tokens, above the input limit of 1024 tokens"*"set max_tokens to at most $((2048 - pt)) (2048 - $pt)."*)
    echo "ok the refusal's numbers agree" ;;
  *) echo "FAIL refusal message: $msg" >&2; fail=1 ;;
esac

# truncation alias off = none
printf '%s' "$chat" | "$TG_BIN" check --context 4096 --truncation off >/dev/null
expect "--truncation off accepted" "$?" 0

exit $fail
