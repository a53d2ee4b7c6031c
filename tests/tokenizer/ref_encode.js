#!/usr/bin/env node
/*
 * ref_encode.js: the reference side of the tokenizer exactness tests. Runs HF
 * tokenizers (npm `tokenizers`, the native Rust library) over every document
 * of a docset (tests/tokenizer/tgdocs.js) and caches what it says, so
 * test_hf_corpus.c compares tokgate against HF without running node again.
 *
 *   NODE_PATH=$TG_FIXTURES/node_modules node ref_encode.js TOKENIZER_JSON DOCSET
 *
 * prints the path of the expectation file, which it writes only when absent:
 *   $TG_CACHE/ref/<sha256(tokenizer.json)[0:16]>/
 *       <sha256(docset)[0:16]>-hf<tokenizers version>-v1.tgref
 * (the key covers both inputs and the reference version, so a changed file or
 * an upgraded reference never reuses stale expectations).
 *
 * Expectation file (little-endian):
 *   "TGREF 1\n"  u32 ndocs
 *   per document, in docset order:
 *     u32 n, n x u32   ids of encode(text, null, {addSpecialTokens: false})
 *     u32 n, n x u32   ids of encode(text, null, {addSpecialTokens: true})
 *                      (for documents over 4 KB: HF's postProcess(plain
 *                      encoding, null, true), which is what encode runs)
 *     u32 len, bytes   decode(plain ids, skipSpecialTokens=false), UTF-8
 *     u32 len, bytes   decode(special ids, skipSpecialTokens=false), UTF-8
 * HF's encode takes a JS string: documents are valid UTF-8 (the producers
 * guarantee it), so the conversion is lossless.
 */
'use strict';
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');
const { readDocs } = require(path.join(__dirname, 'tgdocs.js'));

const FORMAT = 1;
const BATCH = 512;
const SMALL = 4096;

function sha16(file) {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex').slice(0, 16);
}

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

function idsBuf(ids) {
  const b = Buffer.alloc(4 + 4 * ids.length);
  b.writeUInt32LE(ids.length, 0);
  for (let i = 0; i < ids.length; i++) b.writeUInt32LE(ids[i], 4 + 4 * i);
  return b;
}

function strBuf(s) {
  const body = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(body.length), body]);
}

async function main() {
  const [tokfile, docfile] = process.argv.slice(2);
  if (!tokfile || !docfile) {
    process.stderr.write('usage: ref_encode.js TOKENIZER_JSON DOCSET\n');
    process.exit(2);
  }
  const { Tokenizer } = require('tokenizers');
  const version = require('tokenizers/package.json').version;
  const cache = process.env.TG_CACHE || path.join(process.env.HOME || '/tmp', '.cache', 'tokgate');
  const dir = path.join(cache, 'ref', sha16(tokfile));
  const out = path.join(dir, `${sha16(docfile)}-hf${version}-v${FORMAT}.tgref`);
  if (fs.existsSync(out)) {
    process.stdout.write(`${out}\n`);
    return;
  }
  const docs = readDocs(docfile);
  const t0 = process.hrtime.bigint();
  const tok = Tokenizer.fromFile(tokfile);
  const parts = [Buffer.from('TGREF 1\n'), u32(docs.length)];
  let bytes = 0;
  for (let i = 0; i < docs.length; i += BATCH) {
    const texts = docs.slice(i, i + BATCH).map((d) => d.bytes.toString('utf8'));
    const plainEnc = await tok.encodeBatch(texts, { addSpecialTokens: false });
    const plain = plainEnc.map((e) => e.getIds());
    // Special mode: HF's encode is encode_single then post_process; for long
    // documents ask HF's post-processor directly (halves the reference time),
    // for short ones run the full encode, which also cross-checks the two.
    const small = texts.map((t, j) => docs[i + j].bytes.length <= SMALL);
    const specEnc = await tok.encodeBatch(texts.filter((_, j) => small[j]), { addSpecialTokens: true });
    let k = 0;
    const spec = plainEnc.map((e, j) => (small[j] ? specEnc[k++] : tok.postProcess(e, null, true)).getIds());
    const dplain = await tok.decodeBatch(plain, false);
    const dspec = await tok.decodeBatch(spec, false);
    for (let j = 0; j < texts.length; j++) {
      parts.push(idsBuf(plain[j]), idsBuf(spec[j]), strBuf(dplain[j]), strBuf(dspec[j]));
      bytes += docs[i + j].bytes.length;
    }
  }
  fs.mkdirSync(dir, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, out);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stderr.write(`ref_encode: ${path.basename(path.dirname(path.dirname(tokfile)))}/${path.basename(tokfile)}: ` +
    `${docs.length} documents, ${bytes} bytes in ${secs.toFixed(1)} s\n`);
  process.stdout.write(`${out}\n`);
}

main().catch((e) => { process.stderr.write(`ref_encode: ${e.stack || e}\n`); process.exit(1); });
