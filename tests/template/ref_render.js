// ref_render.js: the reference side of the template exactness test.
//
// Renders every template x conversation with @huggingface/jinja (the renderer
// transformers.js uses; trim_blocks and lstrip_blocks on, as transformers'
// apply_chat_template), building the context exactly as tokgate's
// tg_chat_context does (template/chat.c):
//   messages, tools (null when absent), documents (null when absent),
//   add_generation_prompt (the request's boolean, else true), bos_token,
//   eos_token, then chat_template_kwargs' keys at top level.
// For a tokenizer_config.json the template is chosen as transformers does
// ("tool_use" when tools are present and it exists, else "default"), and
// bos/eos come from it (string, {"content": ...}, or null -> "").
// The clock is fixed: TG_FIXED_DATE (Unix seconds) with TZ from the caller.
//
// For a GGUF, the templates are tokenizer.chat_template[.<name>] and bos/eos
// the vocabulary entries of tokenizer.ggml.{bos,eos}_token_id.
//
// usage: NODE_PATH=$TG_FIXTURES/node_modules TZ=UTC TG_FIXED_DATE=... \
//        node ref_render.js CONV_DIR OUT_DIR LABEL=jinja:PATH|LABEL=config:PATH|LABEL=gguf:PATH ...
// Writes OUT_DIR/LABEL__CONV.out (the prompt) or OUT_DIR/LABEL__CONV.err.
const fs = require('fs');
const path = require('path');
const { Template } = require('@huggingface/jinja');

const fixed = Number(process.env.TG_FIXED_DATE || '0');
if (fixed) {
  const RealDate = Date;
  globalThis.Date = class extends RealDate {
    constructor(...a) { if (a.length === 0) super(fixed * 1000); else super(...a); }
    static now() { return fixed * 1000; }
  };
}

const [convDir, outDir, ...specs] = process.argv.slice(2);
fs.mkdirSync(outDir, { recursive: true });
const convs = fs.readdirSync(convDir).filter((f) => f.endsWith('.json')).sort();

// A minimal GGUF metadata reader (ggml docs/gguf.md; v2/v3, little-endian),
// independent of src/gguf: string and integer values, and string arrays.
function readGgufMeta(file) {
  const b = fs.readFileSync(file);
  let pos = 4;
  const u32 = () => { const v = b.readUInt32LE(pos); pos += 4; return v; };
  const u64 = () => { const v = Number(b.readBigUInt64LE(pos)); pos += 8; return v; };
  const str = () => { const n = u64(); const s = b.toString('utf8', pos, pos + n); pos += n; return s; };
  const size = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const scalar = (t) => {
    const at = pos; pos += size[t];
    switch (t) {
      case 0: return b.readUInt8(at); case 1: return b.readInt8(at); case 2: return b.readUInt16LE(at);
      case 3: return b.readInt16LE(at); case 4: return b.readUInt32LE(at); case 5: return b.readInt32LE(at);
      case 10: return Number(b.readBigUInt64LE(at)); case 11: return Number(b.readBigInt64LE(at));
      default: return null;
    }
  };
  const value = (t) => {
    if (t === 8) return str();
    if (t === 9) {
      const et = u32(); const n = u64(); const arr = [];
      for (let i = 0; i < n; i++) arr.push(value(et));
      return arr;
    }
    return scalar(t);
  };
  u32(); u64(); const nkv = u64();
  const kv = {};
  for (let i = 0; i < nkv; i++) { const k = str(); kv[k] = value(u32()); }
  return kv;
}

function token(v) {
  if (v && typeof v === 'object') v = v.content;
  return typeof v === 'string' ? v : '';
}

for (const spec of specs) {
  const eq = spec.indexOf('=');
  const label = spec.slice(0, eq);
  const [kind, ...rest] = spec.slice(eq + 1).split(':');
  const file = rest.join(':');
  let sources = {}; let bos = '<s>'; let eos = '</s>';
  if (kind === 'config') {
    const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
    bos = token(cfg.bos_token); eos = token(cfg.eos_token);
    if (typeof cfg.chat_template === 'string') sources.default = cfg.chat_template;
    else for (const t of cfg.chat_template) sources[t.name] = t.template;
  } else if (kind === 'gguf') {
    const kv = readGgufMeta(file);
    const toks = kv['tokenizer.ggml.tokens'] || [];
    const special = (k) => (typeof kv[k] === 'number' && kv[k] < toks.length ? toks[kv[k]] : '');
    bos = special('tokenizer.ggml.bos_token_id'); eos = special('tokenizer.ggml.eos_token_id');
    for (const [k, v] of Object.entries(kv)) {
      if (k === 'tokenizer.chat_template') sources.default = v;
      else if (k.startsWith('tokenizer.chat_template.')) sources[k.slice(24)] = v;
    }
  } else {
    sources.default = fs.readFileSync(file, 'utf8');
  }
  const compiled = {};
  for (const [name, src] of Object.entries(sources)) {
    try { compiled[name] = new Template(src); } catch (e) { compiled[name] = e; }
  }
  for (const c of convs) {
    const req = JSON.parse(fs.readFileSync(path.join(convDir, c), 'utf8'));
    const hasTools = req.tools !== undefined && req.tools !== null;
    const name = hasTools && compiled.tool_use ? 'tool_use'
      : compiled.default ? 'default' : Object.keys(compiled)[0];
    const base = path.join(outDir, `${label}__${c.replace(/\.json$/, '')}`);
    const t = compiled[name];
    try {
      if (t instanceof Error) throw t;
      const ctx = {
        messages: req.messages,
        tools: req.tools ?? null,
        documents: req.documents ?? null,
        add_generation_prompt: typeof req.add_generation_prompt === 'boolean' ? req.add_generation_prompt : true,
        bos_token: bos,
        eos_token: eos,
        ...(req.chat_template_kwargs || {}),
      };
      fs.writeFileSync(base + '.out', t.render(ctx));
    } catch (e) {
      fs.writeFileSync(base + '.err', String(e && e.message || e) + '\n');
    }
  }
}
