#!/usr/bin/env bash
# bench/llama_count_bench.sh: counting a llama-server chat request locally
# (tokgate's rules, bench/llama_count_bench.c) against asking llama-server
# itself (/apply-template, then /tokenize of the prompt: the round trip the
# count cache would make once per new suffix), on tiny models made from
# llama.cpp's vocab GGUFs. For each vocabulary and request: the two counts
# (they must agree), tokgate's microseconds of CPU per count, and the wall
# microseconds of the two HTTP calls (median of 5, curl's time_total on
# loopback, the server idle and single-threaded); the last line, the ratio of the medians.
#
#   bench/llama_count_bench.sh [VOCAB...]     (default: gemma-4 command-r qwen2)
# Needs build-rel (cmake -B build-rel -DCMAKE_BUILD_TYPE=Release; the
# tokgate_static and gguf_test_tiny_writer targets) and scripts/llama-server.sh.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rel=${TG_BUILD_REL:-$src/build-rel}
models=${TG_FIXTURES:-$HOME/.cache/tokgate/fixtures}/llama.cpp/models
server=$("$src/scripts/llama-server.sh")/llama-server
source "$src/tests/lib/llama_server.sh"
work=$(mktemp -d)
trap 'ls_stop; rm -rf "$work"' EXIT
cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -I"$src/include" -I"$src/src" "$src/bench/llama_count_bench.c" \
  "$rel/libtokgate.a" $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lm -o "$work/bench"
reqs=("$src"/tests/template/conversations/*.json)
med() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
all_local=() all_rt=()
for v in ${@:-gemma-4 command-r qwen2}; do
  "$rel/gguf_test_tiny_writer" --write "$work/$v.gguf" "$models/ggml-vocab-$v.gguf" 42 >/dev/null
  port=$(ls_pick_port $((19700 + $$ % 200)))
  ls_start "$work/log-$v" "$port" "$server" -m "$work/$v.gguf" -c 4096 -t 1 -np 1 --jinja
  ls_wait_healthy 240 0.25 " ($v)" || exit 1
  "$work/bench" "$work/$v.gguf" 200 "${reqs[@]}" >"$work/local"
  printf '%-10s %-32s %7s %7s %9s %9s\n' vocab request tokgate server local_us http_us
  while IFS=$'\t' read -r name count us; do
    [ "$count" = refused ] && { echo "$v $name refused: $us"; continue; }
    f=$src/tests/template/conversations/$name
    rt() {
      curl -s "$ls_url/apply-template" --data-binary @"$f" | jq '{content: .prompt, add_special: true, parse_special: true}' |
        curl -s "$ls_url/tokenize" --data-binary @- | jq '.tokens | length'
    }
    theirs=$(rt)
    # the two requests' own time (curl's time_total), not the client processes'
    rt_us() {
      local a b
      a=$(curl -s -o "$work/p.json" -w '%{time_total}' "$ls_url/apply-template" --data-binary @"$f")
      jq '{content: .prompt, add_special: true, parse_special: true}' "$work/p.json" >"$work/t.json"
      b=$(curl -s -o /dev/null -w '%{time_total}' "$ls_url/tokenize" --data-binary @"$work/t.json")
      awk -v a="$a" -v b="$b" 'BEGIN {printf "%.0f\n", (a + b) * 1e6}'
    }
    t=$(for _ in 1 2 3 4 5; do rt_us; done | med)
    printf '%-10s %-32s %7s %7s %9s %9s\n' "$v" "$name" "$count" "$theirs" "$us" "$t"
    all_local+=("$us") all_rt+=("$t")
  done <"$work/local"
  ls_stop
done
l=$(printf '%s\n' "${all_local[@]}" | med) r=$(printf '%s\n' "${all_rt[@]}" | med)
echo "median: local ${l} us of CPU per count, llama-server round trip ${r} us wall; ratio $(awk -v a="$r" -v b="$l" 'BEGIN {printf "%.0f", a / b}')x"
