// unicode_hf.js: tokgate's Unicode class data (src/tokenizer/unicode_class_table.c,
// read as committed) against what HF tokenizers 0.23.2 (npm `tokenizers`, the
// reference; Oniguruma) observably does, for every code point but surrogates.
//
// Observation: a tokenizer whose pre-tokenizer is Split(Regex X, Removed) drops
// exactly the code points X matches; pre_tokenize_str over strings of all
// code points shows which ones (X matches one code point, so neighbours do not
// interact). Sets checked: \p{L}, \p{N}, \p{M}, \s, \d, \w, \p{Lu}, \p{Ll},
// \p{P}, \p{S}, [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}] and [\p{Ll}\p{Lm}\p{Lo}\p{M}]
// (the fast paths' flags), (?i)\p{Lu} (properties ignore case folding), and
// (?i:x) for the contraction letters (case folding).
// Prints one line per set and exits 1 on any difference.
//   NODE_PATH=$TG_FIXTURES/node_modules node tests/tokenizer/unicode_hf.js [table.c]
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

const src = fs.readFileSync(process.argv[2] ||
  path.join(__dirname, '..', '..', 'src', 'tokenizer', 'unicode_class_table.c'), 'utf8');
function array(name) {
  const m = src.match(new RegExp(name + '\\[\\d*\\] = \\{([^}]*)\\}'));
  if (!m) throw new Error('table ' + name + ' not found');
  return m[1].replace(/\/\*[^*]*\*\//g, '').split(',').map((x) => x.trim()).filter(Boolean).map(Number);
}
const names = src.match(/tg__uc_gc_names\[TG_GC_COUNT\]\[3\] = \{([^}]*)\}/)[1].match(/"(..)"/g).map((s) => s[1] + s[2]);
const stage1 = array('tg__uc_stage1'), stage2 = array('tg__uc_stage2');
const runs = array('tg__uc_gc_runs'), word = array('tg__uc_word'), ws = array('tg__uc_white_space');
const flags = (c) => stage2[(stage1[c >> 8] << 8) | (c & 255)];
const gcOf = new Array(0x110000);
for (let i = 0; i < runs.length; i++) {
  const lo = Math.floor(runs[i] / 32), hi = i + 1 < runs.length ? Math.floor(runs[i + 1] / 32) : 0x110000;
  for (let c = lo; c < hi; c++) gcOf[c] = names[runs[i] % 32];
}
const inList = (list) => { const s = new Uint8Array(0x110000); for (let i = 0; i < list.length; i += 2) s.fill(1, list[i], list[i + 1] + 1); return s; };
const WS = inList(ws), WORD = inList(word);

const all = [];
for (let c = 0; c <= 0x10FFFF; c++) if (c < 0xD800 || c > 0xDFFF) all.push(c);
const chunks = [];
for (let i = 0; i < all.length; i += 8192) chunks.push(String.fromCodePoint(...all.slice(i, i + 8192)));

function hfMembers(pat) {
  const tok = Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: pat }, behavior: 'Removed', invert: false },
    post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } }));
  const pt = tok.getPreTokenizer(), member = new Uint8Array(0x110000);
  for (const c of all) member[c] = 1;
  for (const s of chunks) for (const [piece] of pt.preTokenizeString(s)) for (const ch of piece) member[ch.codePointAt(0)] = 0;
  return member;
}

const F_L = 1, F_N = 2, F_S = 4, F_UP = 8, F_LO = 16, F_M = 32;
const cases = [
  ['\\p{L}', (c) => flags(c) & F_L], ['\\p{N}', (c) => flags(c) & F_N], ['\\p{M}', (c) => flags(c) & F_M],
  ['\\s', (c) => flags(c) & F_S], ['\\s', (c) => WS[c]], ['\\d', (c) => gcOf[c] === 'Nd'], ['\\w', (c) => WORD[c]],
  ['[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]', (c) => flags(c) & F_UP], ['[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]', (c) => flags(c) & F_LO],
  ['\\p{Lu}', (c) => gcOf[c] === 'Lu'], ['(?i)\\p{Lu}', (c) => gcOf[c] === 'Lu'], ['\\p{Ll}', (c) => gcOf[c] === 'Ll'],
  ['\\p{P}', (c) => gcOf[c][0] === 'P'], ['\\p{S}', (c) => gcOf[c][0] === 'S'],
];
// Case folding of the contraction letters ((?i:'s|'t|'re|'ve|'m|'ll|'d) in
// cl100k/Qwen/o200k patterns): Unicode CaseFolding.txt folds U+017F to s and
// U+212A to k, no other non-ASCII code point to these letters; pretok_fast.c's
// contraction() and PCRE2 (test_pretok_fast.c test_caseless_letters) assume it.
for (const ch of 'strevmldk') {
  const extra = ch === 's' ? [0x17F] : ch === 'k' ? [0x212A] : [];
  const want = new Set([ch.codePointAt(0), ch.toUpperCase().codePointAt(0), ...extra]);
  cases.push([`(?i:${ch})`, (c) => want.has(c)]);
}
const hex = (c) => 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
let bad = 0, checked = 0;
const seen = new Map();
for (const [pat, ours] of cases) {
  if (!seen.has(pat)) seen.set(pat, hfMembers(pat));
  const hf = seen.get(pat);
  const diff = [];
  let members = 0;
  for (const c of all) {
    const o = ours(c) ? 1 : 0;
    members += hf[c];
    if (o !== hf[c]) diff.push(c);
  }
  checked += all.length;
  bad += diff.length;
  console.log(`${diff.length ? 'FAIL' : 'ok  '} ${pat}: HF ${members} members, ${all.length} code points, ` +
    `${diff.length} differ${diff.length ? ': ' + diff.slice(0, 8).map(hex).join(' ') : ''}`);
}
console.log(`${checked} (set, code point) pairs checked, ${bad} mismatches`);
process.exit(bad ? 1 : 0);
