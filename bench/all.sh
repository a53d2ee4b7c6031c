#!/usr/bin/env bash
# bench/all.sh: everything issue 17 asks to measure, in one run (`make
# bench` runs it after building build/): each part prints its own tables
# and machine-readable `RESULT` lines, and bench/summary.js ends the run
# with the SUMMARY block (each target, the figure, met or not).
#   encode   bench/run.sh: tokgate against HF tokenizers and llama-tokenize,
#            mixed corpus and pathological inputs
#   gateway  bench/gateway_bench.sh: direct, nginx, tokgate (wrk), at 2 and
#            at 32 connections
#   body     bench/body_bench.sh: 156 KB chats, count cache warm and cold
#            (skipped when the script is not there)
#   memory   bench/memory.sh: RSS per loaded model and per open stream
#   sims     bench/run_sims.sh: KV admission and thinking-budget simulations
# A part that fails is reported (RESULT part NAME RC) and the run goes on.
# The whole output is also written to $BENCH_LOG (default build/bench.log).
# About 10-15 minutes on 2 cores. Knobs (environment), passed to the parts:
#   BENCH_PARTS="encode gateway body memory sims"  the parts to run
#   BENCH_SKIP_HF=1 BENCH_SKIP_LLAMA=1   leave out HF tokenizers / llama.cpp
#   BENCH_CORPUS_BYTES=N                 encode only the corpus's first N bytes (run.sh)
#   SECS=10 STREAMS=2000                 gateway_bench.sh (wrk seconds, streams held)
#   GATEWAY_CONNS="2 32"                 one gateway_bench.sh run per connection count (CONNS)
#   STREAMS=1000 LLAMA_STREAMS=64        memory.sh (memory.sh takes MEM_STREAMS first)
#   TG_BUILD_DIR=build                   the release build used throughout
#   bench/all.sh [PART...]
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$root/build}
export TG_BUILD_DIR=$build
log=${BENCH_LOG:-$build/bench.log}
parts=${*:-${BENCH_PARTS:-encode gateway body memory sims}}
mkdir -p "$(dirname "$log")"

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
      gateway) # issue 17 asks for 2 and 32 connections: one gateway_bench.sh run per count
        for c in ${GATEWAY_CONNS:-2 32}; do run_part "gateway-c$c" env CONNS="$c" bash "$root/bench/gateway_bench.sh" "$build/tokgate"; done ;;
      body)
        if [ -f "$root/bench/body_bench.sh" ]; then run_part body bash "$root/bench/body_bench.sh" "$build/tokgate"
        else echo; echo "######## body: bench/body_bench.sh not there: skipped"; fi ;;
      memory) run_part memory env STREAMS="${MEM_STREAMS:-1000}" bash "$root/bench/memory.sh" "$build/tokgate" ;;
      sims) run_part sims bash "$root/bench/run_sims.sh" ;;
      *) echo "bench/all.sh: unknown part $p (encode gateway body memory sims)"; exit 2 ;;
    esac
  done
  echo
  echo "make bench: $(( $(date +%s) - start )) s in all, load $(cut -d' ' -f1-3 /proc/loadavg) at the end"
} 2>&1 | tee "$log"
node "$root/bench/summary.js" "$log" | tee -a "$log"
