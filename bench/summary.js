#!/usr/bin/env node
/*
 * bench/summary.js: the SUMMARY block of `make bench` (bench/all.sh): reads
 * the whole run's output (a log file, or stdin) and prints each target of
 * issue 17 with the measured figure, the target and "met" / "NOT met" /
 * "within noise" / "not measured".
 *
 * It reads only the machine-readable lines every part prints, one figure each:
 *   RESULT <part> <key> <value> [unit]
 * bench/run.sh:            RESULT encode qwen3.ratio 49.1 x, ...worst_slowdown,
 *                          ...count_diffs; RESULT llama qwen2.ratio, .count_diff
 * bench/gateway_bench.sh:  RESULT gateway <up>.<body>.c<N>.<path>.<metric> V unit
 *                          up: static (nginx `return 200`) or llama (llama-server);
 *                          body: small or big; path: direct, nginx, tokgate;
 *                          metric: rps, p50, p99, added_p50, added_p99 (medians
 *                          over rounds), tokgate.margin_p50|p99|rps with _lo/_hi
 *                          (bench/gateway_rounds.js), <up>.<body>.c<N>.rounds
 *                          and .coverage (the intervals' confidence, %)
 * bench/body_bench.sh:     RESULT body warm.rps 2100 req/s (and cold, nginx_rps)
 * bench/memory.sh:         RESULT memory per_stream_standin 9216 bytes, ...
 * bench/all.sh:            RESULT part <name> <exit status> rc (per part)
 * Tables and other lines are for people; they are ignored here.
 *   node bench/summary.js [LOG]
 */
'use strict';
const fs = require('fs');

const text = fs.readFileSync(process.argv[2] || 0, 'utf8');
const R = {};
for (const line of text.split('\n')) {
  const f = line.trim().split(/\s+/);
  if (f[0] === 'RESULT' && f.length >= 4 && !Number.isNaN(Number(f[3]))) R[`${f[1]}.${f[2]}`] = { v: Number(f[3]), unit: f[4] || '' };
}

const get = (k) => (R[k] ? R[k].v : undefined);
const fmt = (v, d = 1) => (v === undefined || Number.isNaN(v) ? '-' : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(d));
const rows = [];
// row(target, figure, wanted, ok): ok true/false, 'noise' (the figure's own
// spread covers the target), or undefined when a figure is missing
const row = (target, figure, wanted, ok) =>
  rows.push([target, figure, wanted, ok === undefined ? 'not measured' : ok === 'noise' ? 'within noise' : ok ? 'met' : 'NOT met']);

// 1. Encode >= 100x HF; pathological within 5x of the corpus per byte; counts identical.
for (const m of ['qwen3', 'llama3', 'gemma3']) {
  const r = get(`encode.${m}.ratio`), mb = get(`encode.${m}.mbps`);
  row(`1 encode ${m} vs HF (corpus)`, r === undefined ? '-' : `${fmt(r)}x (${fmt(mb, 2)} MB/s)`, '>= 100x', r === undefined ? undefined : r >= 100);
}
for (const m of ['qwen3', 'llama3', 'gemma3']) {
  const w = get(`encode.${m}.worst_slowdown`);
  row(`1 pathological ${m} worst`, w === undefined ? '-' : `${fmt(w, 2)}x slower/byte`, '<= 5x', w === undefined ? undefined : w <= 5);
}
{
  const keys = Object.keys(R).filter((k) => /^encode\.[^.]+\.count_diffs$/.test(k) || /^llama\.[^.]+\.count_diff$/.test(k));
  const bad = keys.reduce((a, k) => a + (R[k].v !== 0 ? 1 : 0), 0);
  row('1 exactness (token counts vs HF, llama-tokenize)', keys.length ? `${bad} of ${keys.length} differ` : '-', '0 differ',
    keys.length ? bad === 0 : undefined);
}
for (const v of ['qwen2', 'llama-bpe']) {
  const r = get(`llama.${v}.ratio`);
  if (r !== undefined) row(`1 encode ${v} GGUF vs llama-tokenize`, `${fmt(r)}x`, '(reported)', true);
}

// 2. Gateway: added latency <= 1.5x nginx's at p50 and p99, throughput >= nginx's.
// gateway_bench.sh measures in interleaved rounds and prints each check's
// per-round margin (positive: met) with an interval for its median: "met" or
// "NOT met" only when the whole interval is on one side of zero and has at
// least 90% confidence, else "within noise". A log without the margins (one
// run per path, before issue 17's method) is judged on the single figures.
const ups = [...new Set(Object.keys(R).map((k) => k.match(/^gateway\.([^.]+)\.small\.c\d+\./)).filter(Boolean).map((m) => m[1]))].sort();
for (const up of ups.length ? ups : ['llama', 'static']) {
  for (const c of ['c2', 'c32']) {
    const g = (p, n) => get(`gateway.${up}.small.${c}.${p}.${n}`);
    const label = `2 gateway, upstream ${up === 'llama' ? 'llama-server' : 'nginx return 200'}, ${c.slice(1)} conns,`;
    const cov = get(`gateway.${up}.small.${c}.coverage`), rounds = get(`gateway.${up}.small.${c}.rounds`);
    // by the margin's interval: true, false, or 'noise'; undefined without margins
    const byMargin = (m) => {
      const lo = g('tokgate', `${m}_lo`), hi = g('tokgate', `${m}_hi`);
      if (lo === undefined || hi === undefined) return undefined;
      if (cov !== undefined && cov < 90) return 'noise';
      return lo >= 0 ? true : hi < 0 ? false : 'noise';
    };
    const spread = (m, d) => {
      const v = g('tokgate', m), lo = g('tokgate', `${m}_lo`), hi = g('tokgate', `${m}_hi`);
      return v === undefined || lo === undefined ? '' : `; margin ${fmt(v, d)} [${fmt(lo, d)}..${fmt(hi, d)}], ${rounds} rounds`;
    };
    for (const q of ['p50', 'p99']) {
      const t = g('tokgate', `added_${q}`), n = g('nginx', `added_${q}`);
      const m = byMargin(`margin_${q}`);
      const ok = m !== undefined ? m : t === undefined || n === undefined ? undefined : t <= 1.5 * Math.max(n, 0);
      row(`${label} added ${q}`, t === undefined ? '-' : `${fmt(t, 3)} ms vs nginx ${fmt(n, 3)} ms${spread(`margin_${q}`, 3)}`, '<= 1.5x nginx', ok);
    }
    const t = g('tokgate', 'rps'), n = g('nginx', 'rps');
    const m = byMargin('margin_rps');
    row(`${label} req/s`, t === undefined ? '-' : `${fmt(t, 0)} vs nginx ${fmt(n, 0)}${spread('margin_rps', 1)}`, '>= nginx',
      m !== undefined ? m : t === undefined || n === undefined ? undefined : t >= n);
  }
}

// 3. Long bodies: a 156 KB chat, count cache warm >= 2000 req/s, cold >= 500.
for (const [k, want] of [['warm', 2000], ['cold', 500]]) {
  const v = get(`body.${k}.rps`);
  row(`3 156 KB chat, count cache ${k}`, v === undefined ? '-' : `${fmt(v, 0)} req/s`, `>= ${want} req/s`, v === undefined ? undefined : v >= want);
}

// 4. Memory: reported.
{
  const pm = get('memory.per_model_3'), q = get('memory.model_qwen3'), ps = get('memory.per_stream_standin');
  const pl = get('memory.per_stream_llama');
  row('4 memory per loaded model (Qwen3; mean of 3)', pm === undefined ? '-' : `${fmt(q / 1024)} MiB; ${fmt(pm / 1024)} MiB`, 'reported', pm === undefined ? undefined : true);
  row('4 memory per open stream (stand-in; llama-server)', ps === undefined ? '-' : `${fmt(ps / 1024)} KiB; ${pl === undefined ? '-' : fmt(pl / 1024) + ' KiB'}`,
    'reported', ps === undefined ? undefined : true);
}

// 5. make bench ran every part.
{
  const parts = Object.keys(R).filter((k) => k.startsWith('part.'));
  const failed = parts.filter((k) => R[k].v !== 0).map((k) => k.slice(5));
  row('5 make bench: every part ran', parts.length ? (failed.length ? `failed: ${failed.join(', ')}` : `${parts.length} parts`) : '-',
    'all in one run', parts.length ? failed.length === 0 : undefined);
}

const w = [0, 0, 0, 0];
for (const r of rows) r.forEach((c, i) => { w[i] = Math.max(w[i], String(c).length); });
console.log('\n==================== SUMMARY (issue 17) ====================');
console.log([['target', 'measured', 'wanted', 'status'].map((c, i) => c.padEnd(w[i])).join('  ')].join(''));
for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join('  ').trimEnd());
const met = rows.filter((r) => r[3] === 'met').length, not = rows.filter((r) => r[3] === 'NOT met').length;
const noise = rows.filter((r) => r[3] === 'within noise').length;
console.log(`${met} met, ${not} not met, ${noise} within noise, ${rows.length - met - not - noise} not measured`);
