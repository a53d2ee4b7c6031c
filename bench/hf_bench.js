#!/usr/bin/env node
/*
 * hf_bench.js: HF tokenizers' side of bench/run.sh (npm `tokenizers`, the
 * native Rust library), measured exactly as bench/tokenizer_bench.c measures
 * tokgate: `load <min> <median>` (Tokenizer.fromFile, seconds over 7 loads),
 * then per file
 * "<file> <bytes> <tokens> <seconds> <MB/s>" for the whole file encoded in one
 * encode(text, null, {addSpecialTokens: false}) call, best of at least 2 runs
 * (1 when a run takes over 20 s). Reading the file and the UTF-8 -> JS string
 * conversion are outside the timed region.
 *   NODE_PATH=$TG_FIXTURES/node_modules node hf_bench.js TOKENIZER_JSON FILE...
 */
'use strict';
const fs = require('fs');
const { Tokenizer } = require('tokenizers');

async function main() {
  const [tokfile, ...files] = process.argv.slice(2);
  let tok = null;
  const loads = [];
  for (let r = 0; r < 7; r++) {
    const t0 = process.hrtime.bigint();
    tok = Tokenizer.fromFile(tokfile);
    loads.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  loads.sort((a, b) => a - b);
  console.log(`load ${loads[0].toFixed(4)} ${loads[loads.length >> 1].toFixed(4)}`);
  for (const f of files) {
    const buf = fs.readFileSync(f);
    const text = buf.toString('utf8');
    let bestEnc = Infinity;
    let ntok = 0;
    for (let r = 0; r < 3; r++) {
      const t0 = process.hrtime.bigint();
      const enc = await tok.encode(text, null, { addSpecialTokens: false });
      const dt = Number(process.hrtime.bigint() - t0) / 1e9;
      ntok = enc.getLength();
      bestEnc = Math.min(bestEnc, dt);
      if (dt > 20 || (r >= 1 && bestEnc > 2)) break;
    }
    console.log(`${f} ${buf.length} ${ntok} ${bestEnc.toFixed(6)} ${(buf.length / bestEnc / 1e6).toFixed(3)}`);
  }
}

main().catch((e) => { process.stderr.write(`hf_bench: ${e.stack || e}\n`); process.exit(1); });
