#!/usr/bin/env bash
# bench/gateway_cost.sh: what one small chat costs tokgate serve and nginx,
# in deterministic counts (issue 17, target 2: the proxies' own cost).
#
# Wall clock on a shared machine moves by tens of percent between runs;
# instruction and syscall counts do not. This script puts the bench's nginx
# `return 200` stand-in upstream (bench/lib.sh) behind each proxy in turn:
#   tokgate serve --access-log off       (the build given, all its threads)
#   nginx reverse proxy, one process     (-g 'daemon off; master_process off;',
#                                         worker_processes 1, access_log off,
#                                         upstream keep-alive: gateway_bench.sh's)
# and drives 2 keep-alive connections x N/2 sequential small chats
# (max_tokens 1, the gateway bench's body) with a small node client that
# counts every answer (exactly N, each a 200). Each proxy runs once under
# `valgrind --tool=callgrind` and once under `strace -c -f` for N = 100 and
# N = 1100; the per-request figures are (N1100 - N100) / 1000, so start-up,
# model discovery and shutdown cancel out. Prints one table: instructions
# and syscalls by name per request, tokgate next to nginx, and RESULT lines
# (bench/summary.js).
#
#   bench/gateway_cost.sh [TOKGATE_BIN]
#   env: N1=100 N2=1100 TG_ARGS='--access-log off' (`tokgate serve` flags)
#        BASE_BIN= (a second tokgate build: its column too, before/after)
#        BASE_ARGS='--access-log off' (its flags)
#        KEEP=DIR: copy the callgrind and strace outputs there (callgrind_annotate;
#        per request by function: node bench/cg_functions.js DIR tokgate self)
# The load and the proxies run as bench/proxy_load.sh says (shared with
# bench/gateway_cache.sh).
# Needs: valgrind, strace, nginx, node, a built tokgate (Release).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
n1=${N1:-100} n2=${N2:-1100}
. "$here/bench/lib.sh"
. "$here/bench/proxy_load.sh"
pl_init gateway_cost nginx valgrind strace node curl

echo "gateway_cost: 2 connections x N keep-alive small chats ($(wc -c <"$work/small.json") bytes), N = $n2 minus N = $n1, per request; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
whos=(tokgate ${base_bin:+base} nginx)
for who in "${whos[@]}"; do
  for n in "$n1" "$n2"; do
    measure "$who" "$n" valgrind --tool=callgrind "--callgrind-out-file=$work/cg.$who.$n" -q
    measure "$who" "$n" strace -c -f -o "$work/st.$who.$n"
  done
done

d=$((n2 - n1))
[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$work"/cg.* "$work"/st.* "$KEEP"/; }
node -e '
const fs = require("fs");
const [work, n1, n2, d, ...whos] = process.argv.slice(1);
const sys = (f) => { const m = {}; for (const l of fs.readFileSync(f, "utf8").split("\n")) {
  const t = l.trim().split(/\s+/); if (t.length < 5 || !/^[\d.]+$/.test(t[0])) continue;
  const name = t[t.length - 1], calls = +t[3]; if (name !== "total") m[name] = calls; } return m; };
const ir = (f) => +fs.readFileSync(f, "utf8").match(/^(?:summary|totals): (\d+)/m)[1];
const col = {};
for (const w of whos) {
  const a = sys(`${work}/st.${w}.${n1}`), b = sys(`${work}/st.${w}.${n2}`);
  const per = {}; let tot = 0;
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const v = ((b[k] || 0) - (a[k] || 0)) / d; if (Math.abs(v) >= 0.005) { per[k] = v; tot += v; } }
  col[w] = { ir: (ir(`${work}/cg.${w}.${n2}`) - ir(`${work}/cg.${w}.${n1}`)) / d, sys: per, tot };
}
const names = [...new Set(whos.flatMap((w) => Object.keys(col[w].sys)))]
  .sort((x, y) => Math.max(...whos.map((w) => col[w].sys[y] || 0)) - Math.max(...whos.map((w) => col[w].sys[x] || 0)));
const pad = (s, n) => String(s).padStart(n);
console.log("per request".padEnd(24) + whos.map((w) => pad(w, 12)).join(""));
console.log("instructions".padEnd(24) + whos.map((w) => pad(Math.round(col[w].ir), 12)).join(""));
console.log("syscalls".padEnd(24) + whos.map((w) => pad(col[w].tot.toFixed(2), 12)).join(""));
for (const k of names) console.log(("  " + k).padEnd(24) + whos.map((w) => pad((col[w].sys[k] || 0).toFixed(2), 12)).join(""));
if (col.nginx) for (const w of whos.filter((w) => w !== "nginx"))
  console.log(`${w} vs nginx: instructions ${(col[w].ir / col.nginx.ir).toFixed(2)}x, syscalls ${(col[w].tot / col.nginx.tot).toFixed(2)}x`);
for (const w of whos) {
  console.log(`RESULT gateway cost.${w}.instructions ${Math.round(col[w].ir)} per_request`);
  console.log(`RESULT gateway cost.${w}.syscalls ${col[w].tot.toFixed(2)} per_request`);
}' "$work" "$n1" "$n2" "$d" "${whos[@]}"
