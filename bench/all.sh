#!/usr/bin/env bash
# bench/all.sh: everything issue 17 asks to measure, in one run (`make
# bench` runs it after building build/): each part prints its own tables
# and machine-readable `RESULT` lines, and bench/summary.js ends the run
# with the SUMMARY block (each target, the figure, met or not).
#   encode   bench/run.sh: tokgate against HF tokenizers and llama-tokenize,
#            mixed corpus and pathological inputs
#   gateway  bench/gateway_bench.sh twice, each at every count in GATEWAY_CONNS:
#            UPSTREAM=nginx (nginx `return 200`: the proxies alone, plus a 128 KB
#            chat and memory per stream) and UPSTREAM=llama (the real
#            llama-server with the tiny test model); direct, nginx, tokgate
#   body     bench/body_bench.sh: 156 KB chats, count cache warm and cold
#   memory   bench/memory.sh: RSS per loaded model and per open stream
#   sims     bench/run_sims.sh: KV admission and thinking-budget simulations
# Every part prints `RESULT <part> <key> <value> [unit]` lines beside its
# tables; a part that fails is reported (RESULT part NAME RC) and the run goes
# on. The whole output is also written to $BENCH_LOG (default build/bench.log).
#
# Time on this 2-core machine: about 10 minutes by default (594 s at load 9-10;
# the encode part, HF over the 24 MB corpus, is 363 s of it), about 5 with
# BENCH_QUICK=1 (291 s at load 6-10).
# Knobs (environment):
#   BENCH_QUICK=1                        quick run: SECS=3, GATEWAY_SECS=1, BENCH_CORPUS_BYTES=2000000,
#                                        STREAMS=200 (each can still be set on its own);
#                                        memory.sh keeps its 1000 streams (fewer fit in
#                                        memory the allocator already holds: ~0 bytes each)
#   BENCH_PARTS="encode gateway body memory sims"  the parts to run (or bench/all.sh PART...)
#   GATEWAY_UPSTREAMS="nginx llama"      the gateway_bench.sh runs (UPSTREAM=)
#   GATEWAY_CONNS="2 32"                 the connection counts (gateway_bench.sh's CONNS)
#   SECS=5                               wrk seconds per measurement (body)
#   GATEWAY_SECS=2 GATEWAY_ROUNDS=5      the gateway's wrk seconds per run and rounds
#                                        (gateway_bench.sh's SECS and ROUNDS: each path
#                                        runs ROUNDS times, interleaved)
#   STREAMS=2000                         SSE streams held open by gateway_bench.sh
#   BENCH_SKIP_HF=1 BENCH_SKIP_LLAMA=1   leave out HF tokenizers / llama.cpp (encode)
#   BENCH_CORPUS_BYTES=N                 encode only the corpus's first N bytes (run.sh)
#   MEM_STREAMS=1000 LLAMA_STREAMS=64    memory.sh's stand-in and llama-server streams
#   TG_BUILD_DIR=build                   the release build used throughout
#   bench/all.sh [PART...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$root/build}
export TG_BUILD_DIR=$build
log=${BENCH_LOG:-$build/bench.log}
parts=${*:-${BENCH_PARTS:-encode gateway body memory sims}}
mkdir -p "$(dirname "$log")"
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  : "${SECS:=3}" "${BENCH_CORPUS_BYTES:=2000000}" "${STREAMS:=200}" "${GATEWAY_SECS:=1}"
fi
gw_secs=${GATEWAY_SECS:-2}
export SECS=${SECS:-5} STREAMS=${STREAMS:-2000}
[ -z "${BENCH_CORPUS_BYTES:-}" ] || export BENCH_CORPUS_BYTES
[ -z "${LLAMA_STREAMS:-}" ] || export LLAMA_STREAMS

run_part() { # run_part NAME COMMAND...
  local name=$1 t0 rc
  shift
  echo
  echo "######## $name: $* ($(date -u +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
  t0=$(date +%s)
  "$@"
  rc=$?
  echo "######## $name: exit $rc, $(( $(date +%s) - t0 )) s"
  echo "RESULT part $name $rc rc"
}

{
  echo "make bench: tokgate $(git -C "$root" describe --always --dirty 2>/dev/null || echo '?'), $(nproc) cores," \
       "$(uname -m), $(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg)"
  start=$(date +%s)
  for p in $parts; do
    case $p in
      encode) run_part encode bash "$root/bench/run.sh" ;;
      gateway) # issue 17 target 2: nginx `return 200` and the real llama-server, at 2 and 32 connections
        for u in ${GATEWAY_UPSTREAMS:-nginx llama}; do
          run_part "gateway-$u" env UPSTREAM="$u" CONNS="${GATEWAY_CONNS:-2 32}" SECS="$gw_secs" ROUNDS="${GATEWAY_ROUNDS:-5}" \
            bash "$root/bench/gateway_bench.sh" "$build/tokgate"
        done ;;
      body) run_part body env -u CONNS bash "$root/bench/body_bench.sh" "$build/tokgate" ;;
      memory) run_part memory env STREAMS="${MEM_STREAMS:-1000}" bash "$root/bench/memory.sh" "$build/tokgate" ;;
      sims) run_part sims bash "$root/bench/run_sims.sh" ;;
      *) echo "bench/all.sh: unknown part $p (encode gateway body memory sims)"; exit 2 ;;
    esac
  done
  echo
  echo "make bench: $(( $(date +%s) - start )) s in all, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
} 2>&1 | tee "$log"
node "$root/bench/summary.js" "$log" | tee -a "$log"
