#!/usr/bin/env bash
# bench/run_sims.sh: the simulations, each built against the library's own
# code and run on its deterministic trace (make bench runs this):
#   admission_sim  KV admission under three output-budget strategies
#                  (src/gateway/admission.c compiled in)
#   thinking_sim   thinking budgets, fixed modes against adaptive
#                  (the library's tg_adaptive table, from libtokgate.a)
# Environment: TG_BUILD_DIR (default build).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${TG_BUILD_DIR:-$root/build}
[ -f "$build/libtokgate.a" ] || { echo "run_sims: $build/libtokgate.a missing: run make first" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -I"$root/src" -I"$root/include" "$root/bench/admission_sim.c" "$root/src/gateway/admission.c" \
   -lm -o "$out/admission_sim"
cc -O2 -std=c11 -I"$root/include" -I"$root/src" "$root/bench/thinking_sim.c" "$build/libtokgate.a" \
   $(pkg-config --libs jansson libpcre2-8 libutf8proc) -lpthread -lm -o "$out/thinking_sim"
"$out/admission_sim"
echo
"$out/thinking_sim"
