#!/usr/bin/env node
/*
 * bench/gateway_rounds.js: the statistics of bench/gateway_bench.sh. That
 * script measures each path (direct, nginx, tokgate, tokgate-base) in R
 * short interleaved rounds instead of one long run per path, because one run
 * per path cannot tell a proxy's cost from the upstream's own drift (a
 * llama-server's time per request moves by milliseconds between runs: nginx
 * once "added" -0.72 ms). This reads the rounds and prints, per path, the
 * median over the rounds of req/s, p50, p99 and the added p50/p99 (each
 * round's figure minus the same round's direct one: a paired difference),
 * with the range of an interval for the median; then issue 17's three checks
 * as per-round margins, and the verdict "met" / "NOT met" only when the
 * whole interval is on one side of zero and that interval has at least 90%
 * confidence (5 rounds or more), else "within noise".
 *
 * Input (file or stdin), one line per run: ROUND PATH RPS P50_MS P99_MS NON2XX [BATCH]
 * (BATCH: llama-server's busy slots per llama_decode() call during the run)
 *   node bench/gateway_rounds.js KEY [FILE]
 * KEY is the RESULT key prefix (e.g. llama.small.c32). Output: the table, the
 * check lines, and `RESULT gateway KEY.<path>.<metric> V unit` lines:
 *   <path>.rps|p50|p99|added_p50|added_p99   medians (the keys summary.js read before)
 *   <path>.rps_lo|_hi, added_p50_lo|_hi ...  the interval for that median
 *   <path>.batch (and _lo, _hi)              the engine's busy slots per decode
 *   tokgate.margin_p50|margin_p99|margin_rps (and _lo, _hi): per round,
 *     1.5 x max(nginx added, 0) - tokgate added (ms), tokgate req/s - nginx
 *     req/s; positive is the target met in that round
 *   rounds                                   R; coverage: the interval's
 *                                            confidence (%) for the median
 * The interval is [x(k), x(R+1-k)] of the R sorted values with the largest k
 * whose coverage for the median, 1 - 2 P(Binomial(R, 1/2) < k), is at least
 * 90% (distribution-free; R = 5: min..max, 93.8%); with R < 5 it is min..max
 * and its coverage (75% for 3) is printed as it is.
 */
'use strict';
const fs = require('fs');

const key = process.argv[2];
if (!key) {
  console.error('usage: gateway_rounds.js KEY [FILE]');
  process.exit(2);
}
const text = fs.readFileSync(process.argv[3] || 0, 'utf8');

// Per path, per round: {rps, p50, p99, bad}.
const runs = {};
const order = [];
for (const line of text.split('\n')) {
  const f = line.trim().split(/\s+/);
  if (f.length < 6) continue;
  const [round, path] = f;
  if (!runs[path]) {
    runs[path] = {};
    order.push(path);
  }
  runs[path][round] = { rps: +f[2], p50: +f[3], p99: +f[4], bad: +f[5], batch: f.length > 6 ? +f[6] : undefined };
}
if (!runs.direct) {
  console.error('gateway_rounds: no direct runs');
  process.exit(1);
}
const rounds = Object.keys(runs.direct).filter((r) => order.every((p) => runs[p][r]));
const R = rounds.length;

function binomCdf(n, k) { // P(Binomial(n, 1/2) <= k)
  let c = 1, s = 0;
  for (let i = 0; i <= k; i++) {
    s += c;
    c = (c * (n - i)) / (i + 1);
  }
  return s / 2 ** n;
}
// The largest k with coverage >= 0.9 (at least 1), and that coverage.
function interval(n) {
  let k = 1;
  while (k + 1 <= (n + 1) / 2 && 1 - 2 * binomCdf(n, k) >= 0.9) k++;
  return { k, coverage: 1 - 2 * binomCdf(n, k - 1) };
}
const iv = interval(R);
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  const med = n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  return { med, lo: s[iv.k - 1], hi: s[n - iv.k] };
}
const per = (path, f) => rounds.map((r) => f(runs[path][r], runs.direct[r], r));
const fx = (v, d) => (Math.abs(v) >= 1000 ? v.toFixed(0) : v.toFixed(d));
const cell = (st, d) => `${fx(st.med, d)} [${fx(st.lo, d)}..${fx(st.hi, d)}]`;

const results = [];
const res = (k, v, unit) => results.push(`RESULT gateway ${key}.${k} ${v} ${unit}`);
const digits = (st) => (Math.abs(st.med) < 1 ? 3 : 2);

const hasBatch = order.every((p) => rounds.every((r) => Number.isFinite(runs[p][r].batch)));
const cols = ['req/s', 'p50_ms', 'p99_ms', 'added_p50', 'added_p99', ...(hasBatch ? ['batch'] : [])];
const rows = [];
const S = {};
for (const path of order) {
  const m = {
    rps: stats(per(path, (x) => x.rps)),
    p50: stats(per(path, (x) => x.p50)),
    p99: stats(per(path, (x) => x.p99)),
  };
  if (hasBatch) m.batch = stats(per(path, (x) => x.batch));
  if (path !== 'direct') {
    m.added_p50 = stats(per(path, (x, d) => x.p50 - d.p50));
    m.added_p99 = stats(per(path, (x, d) => x.p99 - d.p99));
  }
  S[path] = m;
  rows.push([path, cell(m.rps, 0), cell(m.p50, digits(m.p50)), cell(m.p99, digits(m.p99)),
    m.added_p50 ? cell(m.added_p50, 3) : '-', m.added_p99 ? cell(m.added_p99, 3) : '-', ...(hasBatch ? [cell(m.batch, 2)] : [])]);
  for (const [name, st] of Object.entries(m)) {
    const unit = name === 'rps' ? 'req/s' : name === 'batch' ? 'slots/decode' : 'ms';
    const d = name === 'rps' ? 0 : 3;
    res(`${path}.${name}`, st.med.toFixed(d), unit);
    if (name === 'p50' || name === 'p99') continue; // the raw percentiles: the median alone
    res(`${path}.${name}_lo`, st.lo.toFixed(d), unit);
    res(`${path}.${name}_hi`, st.hi.toFixed(d), unit);
  }
  const bad = per(path, (x) => x.bad).reduce((a, b) => a + b, 0);
  if (bad) console.log(`warning: ${path} answered ${bad} non-2xx responses`);
}
const w = [13, ...cols.map(() => 24)];
console.log(['path', ...cols].map((c, i) => c.padEnd(w[i])).join(' ').trimEnd());
for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(w[i])).join(' ').trimEnd());
console.log(`(median over ${R} rounds [interval for the median: ${(100 * iv.coverage).toFixed(1)}% confidence, distribution-free]; ` +
  'added = the round\'s figure minus the same round\'s direct one' +
  (hasBatch ? '; batch = the engine\'s busy slots per llama_decode() call during the run' : '') + ')');

// Issue 17's checks, per round: positive margin = met in that round.
// A verdict needs an interval of at least 90% confidence (5 rounds or more).
const verdict = (st) => (iv.coverage < 0.9 ? 'within noise (too few rounds for a verdict)'
  : st.lo >= 0 ? 'met' : st.hi < 0 ? 'NOT met' : 'within noise');
function check(path, label, emit) {
  if (!runs.nginx || !runs[path]) return;
  const mq = (q) => stats(per(path, (x, d, r) => 1.5 * Math.max(runs.nginx[r][q] - d[q], 0) - (x[q] - d[q])));
  const m50 = mq('p50'), m99 = mq('p99');
  const mr = stats(per(path, (x, d, r) => x.rps - runs.nginx[r].rps));
  const ratio = stats(per(path, (x, d, r) => x.rps / runs.nginx[r].rps));
  console.log(`${label} vs nginx (per-round margins, positive = target met; median [interval]):`);
  console.log(`  added p50: ${cell(S[path].added_p50, 3)} ms vs nginx ${cell(S.nginx.added_p50, 3)} ms; ` +
    `margin 1.5 x max(nginx, 0) - ${label} = ${cell(m50, 3)} ms: ${verdict(m50)}`);
  console.log(`  added p99: ${cell(S[path].added_p99, 3)} ms vs nginx ${cell(S.nginx.added_p99, 3)} ms; ` +
    `margin = ${cell(m99, 3)} ms: ${verdict(m99)}`);
  console.log(`  req/s: ${label} - nginx = ${cell(mr, 1)} (ratio ${cell(ratio, 3)}): ${verdict(mr)}`);
  if (!emit) return;
  for (const [n, st, unit] of [['margin_p50', m50, 'ms'], ['margin_p99', m99, 'ms'], ['margin_rps', mr, 'req/s']]) {
    res(`${path}.${n}`, st.med.toFixed(3), unit);
    res(`${path}.${n}_lo`, st.lo.toFixed(3), unit);
    res(`${path}.${n}_hi`, st.hi.toFixed(3), unit);
  }
}
check('tokgate', 'tokgate', true);
check('tokgate-base', 'tokgate-base', false);
if (runs['tokgate-base'] && runs.tokgate) { // before/after in one run, paired per round
  const d = (q) => stats(rounds.map((r) => runs.tokgate[r][q] - runs['tokgate-base'][r][q]));
  console.log(`tokgate - tokgate-base (paired per round): req/s ${cell(d('rps'), 1)}, p50 ${cell(d('p50'), 3)} ms, ` +
    `p99 ${cell(d('p99'), 3)} ms`);
}
res('rounds', R, 'rounds');
res('coverage', (100 * iv.coverage).toFixed(1), '%');
console.log(results.join('\n'));
