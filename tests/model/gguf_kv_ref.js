// gguf_kv_ref.js: an independent reference for the KV cost tokgate derives
// from a GGUF file's attention metadata. It shares no code with src/: its own
// GGUF reader (ggml docs/gguf.md layout) and llama.cpp's rules written again
// from llama-model.cpp / llama-hparams.cpp:
//   n_head_kv per layer (scalar or array), head sizes key_length/value_length
//   (default embedding_length / head_count) and *_swa for sliding layers,
//   sliding layers from a bool array attention.sliding_window_pattern, or a
//   period P (layer i slides when i % P < P - 1) given as argv[3].
// Prints {"per_token": f16 bytes per token of non-sliding layers,
//         "sliding_bytes": window x f16 bytes of sliding layers}.
// usage: node gguf_kv_ref.js FILE.gguf [default_pattern]
'use strict';
const fs = require('fs');
const b = fs.readFileSync(process.argv[2]);
let pos = 0;
const u32 = () => { const v = b.readUInt32LE(pos); pos += 4; return v; };
const u64 = () => { const v = Number(b.readBigUInt64LE(pos)); pos += 8; return v; };
const str = () => { const n = u64(); const s = b.toString('utf8', pos, pos + n); pos += n; return s; };
const SIZE = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8};
function scalar(t) {
  let v;
  switch (t) {
    case 0: v = b.readUInt8(pos); break; case 1: v = b.readInt8(pos); break;
    case 2: v = b.readUInt16LE(pos); break; case 3: v = b.readInt16LE(pos); break;
    case 4: v = b.readUInt32LE(pos); break; case 5: v = b.readInt32LE(pos); break;
    case 6: v = b.readFloatLE(pos); break; case 7: v = b.readUInt8(pos) !== 0 ? 1 : 0; break;
    case 10: v = Number(b.readBigUInt64LE(pos)); break; case 11: v = Number(b.readBigInt64LE(pos)); break;
    case 12: v = b.readDoubleLE(pos); break;
    default: throw new Error('type ' + t);
  }
  pos += SIZE[t];
  return v;
}
function value(t) {
  if (t === 8) return str();
  if (t === 9) { const et = u32(); const n = u64(); const a = []; for (let i = 0; i < n; i++) a.push(value(et)); return a; }
  return scalar(t);
}
if (b.toString('latin1', 0, 4) !== 'GGUF') throw new Error('not GGUF');
pos = 4; u32(); u64(); const nkv = u64();
const kv = {};
for (let i = 0; i < nkv; i++) { const k = str(); kv[k] = value(u32()); }
const arch = kv['general.architecture'];
const get = (s) => kv[arch + '.' + s];
const n = get('block_count');
const perLayer = (v, d) => Array.from({length: n}, (_, i) => v === undefined ? d : Array.isArray(v) ? v[i] : v);
const head = perLayer(get('attention.head_count'), 0);
const hkv = perLayer(get('attention.head_count_kv'), undefined).map((v, i) => v === undefined ? head[i] : v);
const def = head[0] ? Math.floor(get('embedding_length') / head[0]) : 0;
const hk = get('attention.key_length') ?? def, hv = get('attention.value_length') ?? def;
const hks = get('attention.key_length_swa') ?? hk, hvs = get('attention.value_length_swa') ?? hv;
const win = get('attention.sliding_window') ?? 0;
const pat = get('attention.sliding_window_pattern');
const P = Number(process.argv[3] || 1);
const swa = Array.from({length: n}, (_, i) => win > 0 && (Array.isArray(pat) ? pat[i] === 1 : (i % (pat ?? P)) < (pat ?? P) - 1));
let perToken = 0, sliding = 0;
for (let i = 0; i < n; i++) {
  if (swa[i]) sliding += win * hkv[i] * (hks + hvs) * 2;
  else perToken += hkv[i] * (hk + hv) * 2;
}
console.log(JSON.stringify({per_token: perToken, sliding_bytes: sliding}));
