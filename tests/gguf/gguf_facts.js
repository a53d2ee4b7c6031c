// gguf_facts.js: an independent GGUF header reader in Node, the reference for
// tests/gguf/test_gguf.c. It shares no code with src/gguf/: it follows the
// layout in ggml's docs/gguf.md (little-endian; u64 counts and lengths since
// v2). For each file named on the command line it prints one JSON object:
//   {file, version, n_tensors, n_kv, alignment, data_offset,
//    kv: [{key, type, value?, elem_type?, n?, first?, last?, fnv?}],
//    tensors: [{name, dims, type, offset}]}
// Scalars print as strings (64-bit values exactly, floats via JS Number's
// shortest round-trip form); strings print in full; arrays give element type
// and count, for string arrays the first and last element, and `fnv`: FNV-1a
// 32-bit over every element (strings as u64le length + bytes, fixed-size
// elements as their raw little-endian bytes). Nested arrays give only n.
'use strict';
const fs = require('fs');

const SCALAR = {0: ['uint8', 1], 1: ['int8', 1], 2: ['uint16', 2], 3: ['int16', 2], 4: ['uint32', 4],
  5: ['int32', 4], 6: ['float32', 4], 7: ['bool', 1], 10: ['uint64', 8], 11: ['int64', 8], 12: ['float64', 8]};
const NAME = (t) => t === 8 ? 'string' : t === 9 ? 'array' : SCALAR[t][0];

function fnv(h, buf) {
  for (let i = 0; i < buf.length; i++) { h ^= buf[i]; h = Math.imul(h, 16777619) >>> 0; }
  return h >>> 0;
}

function parse(file) {
  const b = fs.readFileSync(file);
  let pos = 0;
  const u32 = () => { const v = b.readUInt32LE(pos); pos += 4; return v; };
  const u64 = () => { const v = b.readBigUInt64LE(pos); pos += 8; return v; };
  const str = () => { const n = Number(u64()); const s = b.subarray(pos, pos + n); pos += n; return s; };
  const scalar = (t) => {
    const [name, size] = SCALAR[t];
    let v;
    switch (name) {
      case 'uint8': v = b.readUInt8(pos); break;
      case 'int8': v = b.readInt8(pos); break;
      case 'uint16': v = b.readUInt16LE(pos); break;
      case 'int16': v = b.readInt16LE(pos); break;
      case 'uint32': v = b.readUInt32LE(pos); break;
      case 'int32': v = b.readInt32LE(pos); break;
      case 'float32': v = b.readFloatLE(pos); break;
      case 'bool': v = b.readUInt8(pos) ? 1 : 0; break;
      case 'uint64': v = b.readBigUInt64LE(pos); break;
      case 'int64': v = b.readBigInt64LE(pos); break;
      case 'float64': v = b.readDoubleLE(pos); break;
    }
    pos += size;
    return String(v);
  };
  const skipValue = (t) => {
    if (t === 8) { str(); return; }
    if (t === 9) { const et = u32(); const n = Number(u64()); for (let i = 0; i < n; i++) skipValue(et); return; }
    pos += SCALAR[t][1];
  };
  if (b.toString('latin1', 0, 4) !== 'GGUF') throw new Error(file + ': not GGUF');
  pos = 4;
  const version = u32();
  const nTensors = Number(u64());
  const nKv = Number(u64());
  const kv = [];
  for (let i = 0; i < nKv; i++) {
    const key = str().toString('utf8');
    const t = u32();
    const e = {key, type: NAME(t)};
    if (t === 8) e.value = str().toString('utf8');
    else if (t === 9) {
      const et = u32();
      const n = Number(u64());
      e.elem_type = NAME(et);
      e.n = n;
      let h = 2166136261;
      if (et === 8) {
        for (let j = 0; j < n; j++) {
          const at = pos;
          const s = str();
          h = fnv(h, b.subarray(at, pos));
          if (j === 0) e.first = s.toString('utf8');
          if (j === n - 1) e.last = s.toString('utf8');
        }
        e.fnv = h;
      } else if (et === 9) {
        for (let j = 0; j < n; j++) skipValue(9);
      } else {
        const bytes = n * SCALAR[et][1];
        e.fnv = fnv(h, b.subarray(pos, pos + bytes));
        pos += bytes;
      }
    } else e.value = scalar(t);
    kv.push(e);
  }
  const tensors = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str().toString('utf8');
    const nd = u32();
    const dims = [];
    for (let d = 0; d < nd; d++) dims.push(String(u64()));
    const type = u32();
    const offset = String(u64());
    tensors.push({name, dims, type, offset});
  }
  const al = kv.find((e) => e.key === 'general.alignment');
  const alignment = al ? Number(al.value) : 32;
  const dataOffset = Math.ceil(pos / alignment) * alignment;
  return {file, version, n_tensors: nTensors, n_kv: nKv, alignment, data_offset: dataOffset, kv, tensors};
}

for (const f of process.argv.slice(2)) process.stdout.write(JSON.stringify(parse(f)) + '\n');
