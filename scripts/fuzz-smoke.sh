#!/usr/bin/env bash
# Builds every fuzz/fuzz_*.c as a libFuzzer target with ASan+UBSan (clang) and
# runs each for FUZZ_SECONDS (default 20) from its corpus in fuzz/corpus/<name>.
# A crash, leak or sanitizer report fails the run; the input is left in
# build-fuzz/ for turning into a regression file under fuzz/corpus/.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}
cd "$here"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DTG_FUZZ=ON -DTG_SANITIZE=ON >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
status=0
for src in fuzz/fuzz_*.c; do
  [ -e "$src" ] || continue
  name=$(basename "$src" .c)
  mkdir -p "build-fuzz/corpus-$name"
  seeds="fuzz/corpus/$name"
  dict=(); [ -f "fuzz/$name.dict" ] && dict=(-dict="../fuzz/$name.dict")
  echo "fuzz: $name for ${secs}s"
  if ! (cd build-fuzz && "./$name" -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
        -timeout=10 -print_final_stats=0 "${dict[@]+"${dict[@]}"}" "corpus-$name" "../$seeds" >"fuzz-$name.log" 2>&1); then
    echo "fuzz: $name FAILED; see build-fuzz/fuzz-$name.log"; tail -40 "build-fuzz/fuzz-$name.log"; status=1
  fi
done
exit $status
