#!/usr/bin/env node
// bench/cg_functions.js: instructions per request by function, from the
// callgrind files bench/gateway_cost.sh keeps (KEEP=DIR): DIR/cg.WHO.N for
// two request counts N. Each function's count in the larger run minus the
// smaller, divided by the difference in requests, is its cost per request
// with start-up and warm-up taken out (as gateway_cost.sh's own totals).
//   node bench/cg_functions.js DIR [WHO=tokgate] [self|incl] [TOP=60]
// WHO is tokgate, base or nginx; self (default) is each function's own
// instructions, incl those of everything it calls too. Needs valgrind's
// callgrind_annotate.
'use strict';
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const [dir, who = 'tokgate', mode = 'self', topArg = '60'] = process.argv.slice(2);
if (!dir || !['self', 'incl'].includes(mode)) {
  console.error('usage: cg_functions.js DIR [tokgate|base|nginx] [self|incl] [TOP]');
  process.exit(2);
}
const runs = fs.readdirSync(dir)
  .map((f) => f.match(new RegExp(`^cg\\.${who}\\.(\\d+)$`)))
  .filter(Boolean)
  .map((m) => ({ n: +m[1], file: path.join(dir, m[0]) }))
  .sort((a, b) => a.n - b.n);
if (runs.length < 2) {
  console.error(`cg_functions: need two files cg.${who}.N in ${dir} (bench/gateway_cost.sh with KEEP=${dir})`);
  process.exit(1);
}

// function name -> instructions, from callgrind_annotate's function table
function table(file) {
  const out = execFileSync('callgrind_annotate',
    ['--auto=no', '--threshold=100', `--inclusive=${mode === 'incl' ? 'yes' : 'no'}`, file],
    { encoding: 'utf8', maxBuffer: 1 << 28 });
  const t = new Map();
  for (const line of out.split('\n')) {
    const m = line.match(/^\s*([\d,]+)\s+\([^)]*\)\s+(\S.*)$/);
    if (!m || line.includes('PROGRAM TOTALS')) continue;
    const name = m[2].replace(/ \[.*\]$/, '').split(':').pop();
    t.set(name, (t.get(name) || 0) + Number(m[1].replace(/,/g, '')));
  }
  return t;
}
const lo = runs[0], hi = runs[runs.length - 1];
const a = table(hi.file), b = table(lo.file);
const per = (hi.n - lo.n);
const rows = [...new Set([...a.keys(), ...b.keys()])]
  .map((k) => [((a.get(k) || 0) - (b.get(k) || 0)) / per, k])
  .filter(([v]) => Math.abs(v) >= 1)
  .sort((x, y) => y[0] - x[0]);
console.log(`${who}: instructions per request (${mode}), N = ${hi.n} minus N = ${lo.n}`);
for (const [v, k] of rows.slice(0, Number(topArg))) console.log(`${v.toFixed(0).padStart(9)}  ${k}`);
if (mode === 'self') console.log(`${rows.reduce((s, [v]) => s + v, 0).toFixed(0).padStart(9)}  (all functions)`);
