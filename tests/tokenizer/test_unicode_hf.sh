#!/usr/bin/env bash
# test_unicode_hf.sh: tokgate's Unicode class data equals HF tokenizers 0.23.2
# (npm `tokenizers`, the reference) for every code point: \p{L} \p{N} \p{M} \s
# \d \w \p{Lu} \p{Ll} \p{P} \p{S}, the fast paths' word classes, (?i)\p{Lu}.
# The observation method is in tests/tokenizer/unicode_hf.js.
set -euo pipefail
: "${TG_FIXTURES:?TG_FIXTURES must point at the test fixtures}"
src=${TG_SOURCE_DIR:-.}
if [ ! -d "$TG_FIXTURES/node_modules/tokenizers" ]; then
  echo "missing fixture: $TG_FIXTURES/node_modules/tokenizers (run scripts/setup.sh --test)" >&2
  exit 1
fi
NODE_PATH="$TG_FIXTURES/node_modules" node "$src/tests/tokenizer/unicode_hf.js" \
  "$src/src/tokenizer/unicode_class_table.c"
