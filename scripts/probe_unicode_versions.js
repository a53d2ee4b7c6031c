// probe_unicode_versions.js: which Unicode version do the regex classes of HF
// tokenizers (npm `tokenizers`, Oniguruma) use, compared with Debian's
// unicode-data restricted to each version by DerivedAge.txt, and with PCRE2
// 10.42's \s. Evidence for the version choice in scripts/gen_unicode_tables.js
// (Unicode 16.0); the all-code-point regression test of the generated tables
// against HF is tests/tokenizer/unicode_hf.js. Prints a small report.
//   NODE_PATH=$TG_FIXTURES/node_modules node scripts/probe_unicode_versions.js
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');
const U = process.env.UNICODE_DATA || '/usr/share/unicode';

const gc = new Map();
let first = null;
for (const line of fs.readFileSync(U + '/UnicodeData.txt', 'utf8').split('\n')) {
  if (!line) continue;
  const f = line.split(';'), cp = parseInt(f[0], 16);
  if (f[1].endsWith(', First>')) { first = cp; continue; }
  if (f[1].endsWith(', Last>')) { for (let c = first; c <= cp; c++) gc.set(c, f[2]); } else gc.set(cp, f[2]);
}
const age = new Map();
for (const line of fs.readFileSync(U + '/DerivedAge.txt', 'utf8').split('\n')) {
  const body = line.split('#')[0].trim();
  if (!body) continue;
  const [r, a] = body.split(';').map((x) => x.trim());
  const [lo, hi] = r.includes('..') ? r.split('..') : [r, r];
  for (let c = parseInt(lo, 16); c <= parseInt(hi, 16); c++) age.set(c, parseFloat(a));
}
const all = [];
for (let c = 0; c <= 0x10FFFF; c++) if (c < 0xD800 || c > 0xDFFF) all.push(c);

// The code points HF's regex `pat` matches: Split(Removed) drops them.
function hfSet(pat) {
  const tok = Tokenizer.fromString(JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: { type: 'Split', pattern: { Regex: pat }, behavior: 'Removed', invert: false },
    post_processor: null, decoder: null, model: { type: 'WordLevel', vocab: { a: 0 }, unk_token: 'a' } }));
  const pt = tok.getPreTokenizer(), kept = new Set();
  for (let i = 0; i < all.length; i += 4096) {
    const s = String.fromCodePoint(...all.slice(i, i + 4096));
    for (const [piece] of pt.preTokenizeString(s)) for (const ch of piece) kept.add(ch.codePointAt(0));
  }
  return new Set(all.filter((c) => !kept.has(c)));
}
const hex = (c) => 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
function compare(name, hf, pred) {
  for (const v of [14.0, 15.0]) { // Debian's data stops at 15.0; 16.0: unicode_hf.js
    const ref = new Set(all.filter((c) => gc.has(c) && age.get(c) <= v && pred(gc.get(c))));
    const onlyHf = [...hf].filter((c) => !ref.has(c)), onlyRef = [...ref].filter((c) => !hf.has(c));
    console.log(`${name}: HF ${hf.size}, Unicode<=${v} ${ref.size}: only HF ${onlyHf.length} ` +
      `(${onlyHf.slice(0, 4).map(hex).join(' ')}), only data ${onlyRef.length}`);
  }
}
compare('\\p{L}', hfSet('\\p{L}'), (g) => g[0] === 'L');
compare('\\p{N}', hfSet('\\p{N}'), (g) => g[0] === 'N');
compare('\\p{M}', hfSet('\\p{M}'), (g) => g[0] === 'M');
const pcreSpace = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x180E, 0x2000, 0x2001, 0x2002,
  0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000];
const hs = hfSet('\\s');
console.log(`\\s: HF ${hs.size} code points; PCRE2 10.42 ${pcreSpace.length}; PCRE2 only: ` +
  pcreSpace.filter((c) => !hs.has(c)).map(hex).join(' ') + '; HF only: ' +
  [...hs].filter((c) => !pcreSpace.includes(c)).map(hex).join(' '));
const fold = hfSet("(?i:s)");
console.log('(?i:s) in HF: ' + [...fold].map(hex).join(' '));
