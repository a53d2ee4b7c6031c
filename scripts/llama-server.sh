#!/usr/bin/env bash
# scripts/llama-server.sh: builds a CPU-only llama-server and llama-tokenize from
# llama.cpp's source under $TG_FIXTURES/llama.cpp (installed by
# scripts/setup.sh --test) into $TG_CACHE/llama-build, and prints the directory
# holding the two binaries on stdout (the only line it prints there; progress
# goes to stderr and to $TG_CACHE/llama-build/build.log).
#
# The build is cached: when both binaries exist it does nothing but print the
# directory. It takes about 8-15 minutes on 2 cores. Flags as in
# ../shared/FIXTURES.md: no native CPU tuning (portable binary), no prebuilt
# web UI (the build would try to download one), static libraries.
#
#   bin=$(scripts/llama-server.sh) && "$bin/llama-server" -m tiny.gguf --port 18080
#
# Environment: TG_CACHE (default ~/.cache/tokgate), TG_FIXTURES (default
# $TG_CACHE/fixtures), JOBS (parallel compile jobs, default 2).
set -euo pipefail
cache=${TG_CACHE:-$HOME/.cache/tokgate}
fixtures=${TG_FIXTURES:-$cache/fixtures}
src=$fixtures/llama.cpp
out=$cache/llama-build
jobs=${JOBS:-2}
bin=$out/bin

if [ -x "$bin/llama-server" ] && [ -x "$bin/llama-tokenize" ]; then
  echo "$bin"
  exit 0
fi
if [ ! -f "$src/CMakeLists.txt" ]; then
  echo "llama-server.sh: no llama.cpp source at $src (run scripts/setup.sh --test)" >&2
  exit 1
fi
mkdir -p "$out"
# One build at a time: tests running in parallel may all ask for the server.
exec 9>"$cache/llama-build.lock"
flock 9
if [ -x "$bin/llama-server" ] && [ -x "$bin/llama-tokenize" ]; then
  echo "$bin"
  exit 0
fi
log=$out/build.log
echo "llama-server.sh: building llama-server and llama-tokenize in $out (log: $log)" >&2
start=$(date +%s)
if ! { cmake -S "$src" -B "$out" -DGGML_NATIVE=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
         -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release \
       && cmake --build "$out" --target llama-server llama-tokenize -j"$jobs"; } >"$log" 2>&1; then
  echo "llama-server.sh: build failed; last lines of $log:" >&2
  tail -30 "$log" >&2
  exit 1
fi
echo "llama-server.sh: built in $(( $(date +%s) - start ))s" >&2
if [ ! -x "$bin/llama-server" ] || [ ! -x "$bin/llama-tokenize" ]; then
  echo "llama-server.sh: build finished but $bin lacks llama-server or llama-tokenize" >&2
  exit 1
fi
echo "$bin"
