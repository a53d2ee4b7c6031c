#!/usr/bin/env bash
# test_unicode_e2e.sh: `tokgate encode` equals HF tokenizers 0.23.2 on text
# whose characters PCRE2's own Unicode 14 tables classify differently from HF
# (Unicode 16, Oniguruma); see tests/tokenizer/unicode_e2e.js.
set -euo pipefail
: "${TG_BIN:?TG_BIN must name the tokgate binary}"
: "${TG_FIXTURES:?TG_FIXTURES must point at the test fixtures}"
src=${TG_SOURCE_DIR:-.}
if [ ! -d "$TG_FIXTURES/node_modules/tokenizers" ]; then
  echo "missing fixture: $TG_FIXTURES/node_modules/tokenizers (run scripts/setup.sh --test)" >&2
  exit 1
fi
NODE_PATH="$TG_FIXTURES/node_modules" node "$src/tests/tokenizer/unicode_e2e.js" "$TG_BIN"
