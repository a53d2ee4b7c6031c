#!/usr/bin/env node
/*
 * make-runs.js: writes the "runs" docset of the tokenizer exactness tests
 * (tests/tokenizer/hf_prepare.sh, test_hf_corpus_runs.c): one document per
 * run of one repeated character or pair, every length 1..2000 (1..400 for
 * the less common ones), and a few longer ones (up to 20000). A run reaches
 * BPE as one long pre-token; bpe.c merges such runs in a compressed form (a
 * token and its count) and long words in rank buckets, so these documents
 * pin every length against HF. Then random words of 1023..30011 letters of
 * a few alphabets (ASCII letters, "ab", Latin, Cyrillic): one long pre-token
 * without repetition, which goes through the rank buckets.
 *
 *   node scripts/make-runs.js --out FILE
 *
 * Docset format: tests/tokenizer/tgdocs.js. Deterministic.
 */
'use strict';
const path = require('path');
const { writeDocs } = require(path.join(__dirname, '..', 'tests', 'tokenizer', 'tgdocs.js'));

/* Single chars (byte-level: one symbol each for ASCII; é, U+00A0 and 中 are
 * 2-3 bytes, so periodic symbol runs), then two-char units and two runs in a
 * row. */
const UNITS = [
  ['space', ' ', 2000], ['newline', '\n', 2000], ['tab', '\t', 2000], ['dot', '.', 2000], ['a', 'a', 2000],
  ['e-acute', 'é', 2000], ['dash', '-', 400], ['eq', '=', 400], ['star', '*', 400], ['nbsp', '\u00a0', 400],
  ['cjk', '中', 400], ['crlf', '\r\n', 400], ['ab', 'ab', 400],
];
const LONG = [2047, 2048, 2049, 4095, 4096, 4097, 10007, 20000];

function main() {
  const args = process.argv.slice(2);
  const i = args.indexOf('--out');
  if (i < 0 || i + 1 >= args.length) {
    process.stderr.write('usage: make-runs.js --out FILE\n');
    process.exit(2);
  }
  const docs = [];
  for (const [name, u, max] of UNITS) {
    for (let k = 1; k <= max; k++) docs.push({ name: `run-${name}-${k}`, text: u.repeat(k) });
    for (const k of LONG) docs.push({ name: `run-${name}-${k}`, text: u.repeat(k) });
  }
  for (const k of [1, 2, 3, 7, 64, 999, 1500, 3001]) {
    docs.push({ name: `run-space-newline-${k}`, text: ' '.repeat(k) + '\n'.repeat(k) });
    docs.push({ name: `run-a-b-${k}`, text: 'a'.repeat(k) + 'b'.repeat(k + 1) });
    docs.push({ name: `run-x-dots-${k}`, text: `x${'.'.repeat(k)}` });
    docs.push({ name: `run-tab-space-${k}`, text: '\t'.repeat(k) + ' '.repeat(3) + '\t'.repeat(k + 2) });
  }
  // Random words (one long pre-token, no repetition: the rank buckets and the
  // merge core's pair filter, not the run forms): letters drawn from an
  // alphabet by a fixed-seed generator, lengths past the buckets' 1024
  // symbols.
  let seed = 12345;
  const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
  const ALPHA = [
    ['letters', 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'], ['lower', 'abcdefghijklmnopqrstuvwxyz'],
    ['ab', 'ab'], ['latin', 'aeiouéüßñøçàèõstrnl'], ['cyrillic', 'абвгдежзийклмнопрстуфхцчшщыьэюя'],
  ];
  for (const [name, alpha] of ALPHA) {
    const chars = Array.from(alpha);
    for (const n of [1023, 1024, 2047, 4097, 10007, 30011]) {
      let w = '';
      for (let k = 0; k < n; k++) w += chars[Math.floor(rnd() * chars.length)];
      docs.push({ name: `word-${name}-${n}`, text: w });
    }
  }
  writeDocs(args[i + 1], docs);
}

main();
