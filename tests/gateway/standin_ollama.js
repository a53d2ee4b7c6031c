// standin_ollama.js: a STAND-IN for an Ollama server, used only by tokgate's
// gateway tests (Ollama cannot run on these machines). It is not a model
// server: it answers Ollama's endpoints field for field with canned text, so
// discovery, the native routes' budget and the error mapping can be tested.
// Every field is read from ollama/ollama v0.33.0-rc2 (commit fb30760):
//   api/types.go        ListResponse / ListModelResponse / ModelDetails,
//                       ShowResponse.model_info, ProcessModelResponse,
//                       ChatResponse / GenerateResponse / Metrics, Options
//   server/routes.go    GenerateRoutes (the paths), the {"error": "..."}
//                       answers, application/x-ndjson streams, /api/version
//   llm/llama_server.go "the input length exceeds the context length" (400)
//   openai/openai.go    the OpenAI face: ListCompletion / Model, ChatCompletion,
//                       ErrorResponse {"error": {message, type, param, code}}
//
// Usage: node standin_ollama.js PORTFILE NAME CONTEXT [ARCH]
// serves one model NAME whose model_info says <ARCH>.context_length CONTEXT
// (ARCH default "llama"; "none": an empty model_info, as for a model whose
// GGUF keys Ollama cannot read, so the context must come from elsewhere).
// Test hooks (not Ollama's):
//   a message or prompt containing "standin:overflow" is answered with
//   Ollama's overflow error; GET /standin/last gives
//   {"requests": {path: count}, "last": {path: body}} of the generating routes;
//   POST /standin/context {"context": N} changes the trained context (a
//   limit tokgate learned goes stale).
// Loaded runner (issue 20): /api/ps lists the model with the context it was
// last loaded with (ProcessModelResponse.context_length, api/types.go): 4096
// (DefaultOptions NumCtx) until a generating request with another num_ctx
// reloads it (server/sched.go needsReload: the runner is replaced when the
// request's options differ), then that request's context. Ollama allocates
// the KV cache for it at load (fs/ggml/ggml.go GraphSize: per layer
// context x (key_length + value_length) x head_count_kv x bytes per
// element, context multiplied by numParallel first). GET /standin/last
// carries every num_ctx received, in order, as "num_ctx_seen".
'use strict';
const http = require('http');
const fs = require('fs');

const [portfile, NAME, CTX0, ARCH = 'llama'] = process.argv.slice(2);
let CTX = CTX0;
let loadedCtx = 4096; // the runner's context (see above)
const numCtxSeen = [];
const started = new Date().toISOString();
const requests = {}, last = {};

// api/types.go ModelDetails
const details = {parent_model: '', format: 'gguf', family: ARCH, families: [ARCH], parameter_size: '3.2B',
  quantization_level: 'Q4_K_M'};

// api/types.go ShowResponse.model_info: the GGUF's key/values (server/routes.go
// GetModelInfo; large arrays such as tokenizer.ggml.tokens are null unless verbose).
function modelInfo() {
  if (ARCH === 'none') return {};
  const a = ARCH;
  return {
    'general.architecture': a, 'general.parameter_count': 3212749888, 'general.quantization_version': 2,
    [a + '.context_length']: Number(CTX), [a + '.block_count']: 28, [a + '.embedding_length']: 3072,
    [a + '.feed_forward_length']: 8192, [a + '.attention.head_count']: 24, [a + '.attention.head_count_kv']: 8,
    [a + '.attention.key_length']: 128, [a + '.attention.value_length']: 128,
    [a + '.attention.layer_norm_rms_epsilon']: 0.00001, [a + '.rope.freq_base']: 500000, [a + '.vocab_size']: 128256,
    'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'llama-bpe', 'tokenizer.ggml.tokens': null,
    'tokenizer.ggml.merges': null, 'tokenizer.ggml.token_type': null, 'tokenizer.ggml.bos_token_id': 128000,
    'tokenizer.ggml.eos_token_id': 128009,
  };
}

function json(res, status, obj) {
  const b = JSON.stringify(obj);
  res.writeHead(status, {'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(b)});
  res.end(b);
}

// api/types.go Metrics (durations in nanoseconds) on the last answer.
function metrics(req) {
  return {total_duration: 123456789, load_duration: 1234567, prompt_eval_count: 7, prompt_eval_duration: 2345678,
    eval_count: Math.min(3, (req.options && req.options.num_predict > 0) ? req.options.num_predict : 3),
    eval_duration: 3456789};
}

// /api/chat and /api/generate: NDJSON by default (server/routes.go streams
// application/x-ndjson unless "stream": false), one JSON answer otherwise.
function generate(res, req, chat) {
  const text = JSON.stringify(req);
  if (text.includes('standin:overflow'))
    return json(res, 400, {error: 'the input length exceeds the context length'}); // llm/llama_server.go
  if (req.model !== NAME) return json(res, 404, {error: `model '${req.model}' not found`}); // server/routes.go
  // The context it runs with: options.num_ctx, else its default (api/types.go
  // DefaultOptions NumCtx: OLLAMA_CONTEXT_LENGTH, 4096 here), capped at the
  // trained context (llm/server.go: "requested context size too large for
  // model"). A prompt over it (estimated here as 4 characters a token) is cut
  // silently unless "truncate": false (server/routes.go ChatHandler), which
  // answers the overflow error instead.
  const numCtx = Math.min((req.options && req.options.num_ctx) || 4096, Number(CTX) || 4096);
  if (req.options && req.options.num_ctx) numCtxSeen.push(req.options.num_ctx);
  loadedCtx = numCtx; // loaded (or reloaded) with this context
  const promptTokens = Math.ceil(JSON.stringify(chat ? req.messages : req.prompt || '').length / 4);
  if (promptTokens > numCtx) {
    if (req.truncate === false) return json(res, 400, {error: 'the input length exceeds the context length'});
    last.truncated_silently = (last.truncated_silently || 0) + 1;
  }
  const pieces = ['Hel', 'lo', '!'];
  const piece = (p, done) => {
    const o = {model: NAME, created_at: new Date().toISOString()};
    if (chat) o.message = {role: 'assistant', content: p}; // ChatResponse.message
    else o.response = p;                                    // GenerateResponse.response
    o.done = done;
    if (done) Object.assign(o, {done_reason: 'stop'}, metrics(req), chat ? {} : {context: [1, 2, 3]});
    return o;
  };
  if (req.stream === false) return json(res, 200, piece(pieces.join(''), true));
  res.writeHead(200, {'Content-Type': 'application/x-ndjson'});
  for (const p of pieces) res.write(JSON.stringify(piece(p, false)) + '\n');
  res.end(JSON.stringify(piece('', true)) + '\n');
}

// openai/openai.go ToChatCompletion (non-streaming only here).
function openaiChat(res, req) {
  if (JSON.stringify(req).includes('standin:overflow'))
    return json(res, 400, {error: {message: 'the input length exceeds the context length', type: 'invalid_request_error',
      param: null, code: null}});
  json(res, 200, {id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: NAME, system_fingerprint: 'fp_ollama',
    choices: [{index: 0, message: {role: 'assistant', content: 'Hello!'}, finish_reason: 'stop'}],
    usage: {prompt_tokens: 7, completion_tokens: 3, total_tokens: 10}});
}

const server = http.createServer((rq, res) => {
  let body = '';
  rq.on('data', (d) => { body += d; });
  rq.on('end', () => {
    const path = rq.url.split('?')[0];
    let req = {};
    try { req = body ? JSON.parse(body) : {}; } catch (e) { return json(res, 400, {error: 'invalid character'}); }
    if (['/api/chat', '/api/generate', '/v1/chat/completions'].includes(path)) {
      requests[path] = (requests[path] || 0) + 1;
      last[path] = req;
    }
    if (rq.method === 'GET' && path === '/api/version') return json(res, 200, {version: '0.33.0-rc2'});
    if (rq.method === 'GET' && path === '/api/tags') // ListResponse{models: []ListModelResponse}
      return json(res, 200, {models: [{name: NAME, model: NAME, modified_at: started, size: 2019393189,
        digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', details}]});
    if (rq.method === 'POST' && path === '/api/show') {
      if ((req.model || req.name) !== NAME) return json(res, 404, {error: `model '${req.model}' not found`});
      return json(res, 200, {license: '', modelfile: '# Modelfile', parameters: 'stop "<|eot_id|>"',
        template: '{{ .Prompt }}', details, model_info: modelInfo(), capabilities: ['completion', 'tools'],
        modified_at: started});
    }
    if (rq.method === 'GET' && path === '/api/ps') // ProcessResponse{models: []ProcessModelResponse}
      return json(res, 200, {models: [{name: NAME, model: NAME, size: 3600000000,
        digest: 'a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72', details,
        expires_at: new Date(Date.now() + 300000).toISOString(), size_vram: 3600000000, context_length: loadedCtx}]});
    if (rq.method === 'GET' && path === '/v1/models') // openai.go ListCompletion
      return json(res, 200, {object: 'list', data: [{id: NAME, object: 'model', created: 1, owned_by: 'library'}]});
    if (rq.method === 'POST' && path === '/api/chat') return generate(res, req, true);
    if (rq.method === 'POST' && path === '/api/generate') return generate(res, req, false);
    if (rq.method === 'POST' && path === '/v1/chat/completions') return openaiChat(res, req);
    if (rq.method === 'GET' && path === '/standin/last') return json(res, 200, {requests, last, num_ctx_seen: numCtxSeen});
    if (rq.method === 'POST' && path === '/standin/context') { // the model replaced by a smaller one
      CTX = String(req.context);
      return json(res, 200, {context: Number(CTX)});
    }
    res.writeHead(404, {'Content-Type': 'text/plain'}); // gin's default 404
    res.end('404 page not found');
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(portfile, String(server.address().port)));
