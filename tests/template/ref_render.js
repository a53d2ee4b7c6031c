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
// usage: NODE_PATH=$TG_FIXTURES/node_modules TZ=UTC TG_FIXED_DATE=... \
//        node ref_render.js CONV_DIR OUT_DIR LABEL=jinja:PATH|LABEL=config:PATH ...
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
