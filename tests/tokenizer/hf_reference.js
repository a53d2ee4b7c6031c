// hf_reference.js: expected values from HF tokenizers (npm `tokenizers`, the
// real Rust library), for tests/tokenizer/test_tokenizer_hf.c.
//
// usage: node hf_reference.js TOKENIZER_JSON CASES_JSON
// CASES_JSON is a JSON array of strings. Prints one JSON object per line and
// case: {"ids": encode(text, add_special_tokens=false),
//        "ids_add": encode(text, add_special_tokens=true),
//        "ids_nps": encode with special tokens treated as text (reference: the
//                   same tokenizer.json with each special added token's content
//                   made unmatchable; kept in place because HF numbers added
//                   tokens by their order, not by their "id" field),
//        "dec": decode(ids, false), "dec_skip": decode(ids_add, true)}
// Run with NODE_PATH=$TG_FIXTURES/node_modules.
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

(async () => {
  const src = fs.readFileSync(process.argv[2], 'utf8');
  const cases = JSON.parse(fs.readFileSync(process.argv[3], 'utf8'));
  const tok = Tokenizer.fromString(src);
  const j = JSON.parse(src);
  (j.added_tokens || []).forEach((t, i) => { if (t.special) t.content = '\u0000\u0001nps' + i; });
  const nps = Tokenizer.fromString(JSON.stringify(j));
  const out = [];
  for (const s of cases) {
    const e = await tok.encode(s, null, { addSpecialTokens: false });
    const ea = await tok.encode(s, null, { addSpecialTokens: true });
    const en = await nps.encode(s, null, { addSpecialTokens: false });
    const ids = Array.from(e.getIds());
    const idsAdd = Array.from(ea.getIds());
    out.push(JSON.stringify({
      ids, ids_add: idsAdd, ids_nps: Array.from(en.getIds()),
      dec: await tok.decode(ids, false), dec_skip: await tok.decode(idsAdd, true),
    }));
  }
  process.stdout.write(out.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
