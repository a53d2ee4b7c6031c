#!/usr/bin/env bash
# bench/gateway_cache.sh: where one small chat's CPU time goes beyond its
# instruction count, tokgate serve next to nginx (issue 17, target 2).
#
# bench/gateway_cost.sh counts instructions and syscalls per request; when
# tokgate runs fewer of both than nginx and still uses more user time, the
# difference is in how fast they run: cache misses, branch mispredictions,
# or work outside the counted code (a precise vDSO clock read with
# kvm-clock costs ~25-30 ns of user time in ~20 counted instructions). This script runs the
# same load as gateway_cost.sh (the nginx `return 200` upstream of
# bench/lib.sh, 2 keep-alive connections x N/2 sequential small chats) with
# each proxy under `valgrind --tool=callgrind --cache-sim=yes
# --branch-sim=yes` for N = N1 and N = N2, and prints per request (the N2
# run minus the N1 run over N2 - N1 requests: start-up cancels out):
# instructions, I1/D1 misses, last-level misses, conditional and indirect
# branch mispredictions; the functions with the most misses (callgrind_annotate,
# per request); and the calls of clock_gettime/gettimeofday/time per request
# (clock_gettime counts every clock; tokgate splits into tg__now, precise,
# and tg__now_due, coarse).
# Simulated caches are valgrind's model of the host's, not the host's own
# counters (perf has none in this VM): compare the columns, not the units.
#
#   bench/gateway_cache.sh [TOKGATE_BIN]
#   env: N1=100 N2=1100 TG_ARGS='--access-log off' BASE_BIN= BASE_ARGS='--access-log off'
#        KEEP=DIR (copy the callgrind files there) TOP=12 (functions listed)
# The load and the proxies: bench/proxy_load.sh (shared with gateway_cost.sh).
# Needs: valgrind, nginx, node, curl, a built tokgate (Release).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-${TG_BIN:-$here/build/tokgate}}
n1=${N1:-100} n2=${N2:-1100} top=${TOP:-12}
. "$here/bench/lib.sh"
. "$here/bench/proxy_load.sh"
pl_init gateway_cache nginx valgrind callgrind_annotate node curl

echo "gateway_cache: 2 connections x N keep-alive small chats, N = $n2 minus N = $n1, per request; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
whos=(tokgate ${base_bin:+base} nginx)
for who in "${whos[@]}"; do
  for n in "$n1" "$n2"; do
    measure "$who" "$n" valgrind --tool=callgrind --cache-sim=yes --branch-sim=yes "--callgrind-out-file=$work/cg.$who.$n" -q
  done
done
[ -z "${KEEP:-}" ] || { mkdir -p "$KEEP" && cp "$work"/cg.* "$KEEP"/; }

# per request: totals and the top functions by each miss event
node -e '
const { execFileSync } = require("child_process");
const [work, n1, n2, top, ...whos] = process.argv.slice(1);
const d = n2 - n1;
const ev = ["Ir", "I1mr", "D1mr", "D1mw", "ILmr", "DLmr", "DLmw", "Bc", "Bcm", "Bi", "Bim"];
// function -> [events] (self), and the calls into the clock functions
function table(file) {
  const out = execFileSync("callgrind_annotate", ["--auto=no", "--threshold=100", "--show=" + ev.join(","), "--sort=Ir", file],
    { encoding: "utf8", maxBuffer: 1 << 28 });
  const t = new Map(); let total = null;
  for (const line of out.split("\n")) {
    const m = line.match(/^\s*((?:[\d,]+\s+(?:\([^)]*\)\s+)?){11})(\S.*)$/);
    if (!m) continue;
    const v = m[1].replace(/\([^)]*\)/g, "").trim().split(/\s+/).map((x) => Number(x.replace(/,/g, "")));
    if (v.length !== 11) continue;
    if (m[2].includes("PROGRAM TOTALS")) { total = v; continue; }
    const name = m[2].replace(/ \[.*\]$/, "").split(":").pop();
    const o = t.get(name) || ev.map(() => 0); v.forEach((x, i) => (o[i] += x)); t.set(name, o);
  }
  return { t, total };
}
// calls per file into the clock functions (the calls= lines; names compressed as (id))
function clockCalls(file) {
  const names = {}, n = {};
  let cfn = null;
  for (const line of require("fs").readFileSync(file, "utf8").split("\n")) {
    const m = line.match(/^c?fn=\((\d+)\)(?: (.*))?$/);
    if (m) { if (m[2]) names[m[1]] = m[2]; if (line[0] === "c") cfn = m[1]; continue; }
    if (line.startsWith("calls=") && cfn) {
      const name = names[cfn] || "";
      if (/^(clock_gettime|__clock_gettime|gettimeofday|__gettimeofday_syscall|time|time_syscall|tg__now|tg__now_due)\b/.test(name))
        n[name.replace(/@.*/, "")] = (n[name.replace(/@.*/, "")] || 0) + Number(line.slice(6).split(" ")[0]);
      cfn = null;
    }
  }
  return n;
}
const pad = (s, n) => String(s).padStart(n);
const col = {};
for (const w of whos) {
  const a = table(`${work}/cg.${w}.${n1}`), b = table(`${work}/cg.${w}.${n2}`);
  const per = {};
  for (const k of new Set([...a.t.keys(), ...b.t.keys()]))
    per[k] = ev.map((_, i) => ((b.t.get(k) || [])[i] || 0) / d - ((a.t.get(k) || [])[i] || 0) / d);
  col[w] = { total: ev.map((_, i) => (b.total[i] - a.total[i]) / d), per };
}
console.log("per request".padEnd(14) + whos.map((w) => pad(w, 12)).join(""));
ev.forEach((e, i) => console.log(e.padEnd(14) + whos.map((w) => pad(col[w].total[i].toFixed(1), 12)).join("")));
for (const w of whos) {
  for (const e of ["I1mr", "D1mr", "D1mw", "Bcm", "Bim"]) {
    const i = ev.indexOf(e);
    const rows = Object.entries(col[w].per).map(([k, v]) => [v[i], k]).filter(([v]) => v >= 0.5).sort((x, y) => y[0] - x[0]).slice(0, +top);
    console.log(`${w} ${e} per request by function (self): ` + rows.map(([v, k]) => `${k} ${v.toFixed(1)}`).join(", "));
  }
  const ca = clockCalls(`${work}/cg.${w}.${n1}`), cb = clockCalls(`${work}/cg.${w}.${n2}`);
  console.log(`${w} clock calls per request: ` + Object.keys(cb).map((k) => `${k} ${((cb[k] - (ca[k] || 0)) / d).toFixed(2)}`).join(", "));
}
for (const w of whos) for (const e of ["Ir", "I1mr", "D1mr", "D1mw", "Bcm", "Bim"])
  console.log(`RESULT gateway cache.${w}.${e} ${col[w].total[ev.indexOf(e)].toFixed(1)} per_request`);
' "$work" "$n1" "$n2" "$top" "${whos[@]}"
