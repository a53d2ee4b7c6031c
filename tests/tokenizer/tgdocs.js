/*
 * tgdocs.js: reads and writes "docsets", the container the tokenizer exactness
 * tests pass documents in (scripts/make-corpus.sh, scripts/make-edge-cases.js,
 * tests/tokenizer/ref_encode.js, tests/tokenizer/test_hf_corpus.c, bench/).
 *
 * Format (binary-safe, readable with `less`):
 *   "TGDOCS 1\n"
 *   per document: "<name>\t<byte length>\n" <bytes> "\n"
 * A name holds no tab or newline. Bytes are UTF-8 text (the producers only
 * write valid UTF-8), any length including 0.
 */
'use strict';
const fs = require('fs');

const MAGIC = 'TGDOCS 1\n';

/* docs: array of {name: string, text: string | Buffer}. Writes atomically
 * (temp file then rename) so an interrupted run leaves no half docset. */
function writeDocs(path, docs) {
  const parts = [Buffer.from(MAGIC)];
  for (const d of docs) {
    if (/[\t\n]/.test(d.name)) throw new Error(`docset name ${JSON.stringify(d.name)} holds a tab or newline`);
    const body = Buffer.isBuffer(d.text) ? d.text : Buffer.from(d.text, 'utf8');
    parts.push(Buffer.from(`${d.name}\t${body.length}\n`), body, Buffer.from('\n'));
  }
  const tmp = `${path}.tmp${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat(parts));
  fs.renameSync(tmp, path);
}

/* Returns [{name, bytes: Buffer}] (bytes are views into one buffer). */
function readDocs(path) {
  const buf = fs.readFileSync(path);
  if (buf.subarray(0, MAGIC.length).toString('latin1') !== MAGIC) {
    throw new Error(`${path}: not a docset (no "TGDOCS 1" header)`);
  }
  const docs = [];
  let p = MAGIC.length;
  while (p < buf.length) {
    const nl = buf.indexOf(10, p);
    if (nl < 0) throw new Error(`${path}: truncated header at byte ${p}`);
    const head = buf.subarray(p, nl).toString('utf8');
    const tab = head.lastIndexOf('\t');
    const len = tab < 0 ? NaN : Number(head.slice(tab + 1));
    if (!Number.isSafeInteger(len) || len < 0 || nl + 1 + len + 1 > buf.length) {
      throw new Error(`${path}: bad document header ${JSON.stringify(head)} at byte ${p}`);
    }
    docs.push({ name: head.slice(0, tab), bytes: buf.subarray(nl + 1, nl + 1 + len) });
    p = nl + 1 + len + 1;
  }
  return docs;
}

module.exports = { writeDocs, readDocs, MAGIC };
