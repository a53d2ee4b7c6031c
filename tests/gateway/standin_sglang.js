// standin_sglang.js: a STAND-IN for an SGLang server, used only by tokgate's
// gateway tests (SGLang cannot run on these machines: no GPU, no package).
// It is not a model server: it answers SGLang's endpoints field for field
// as SGLang's own source builds them, with canned text. Sources read
// (sgl-project/sglang; commit named where the stored copy gave one):
//   H  python/sglang/srt/entrypoints/http_server.py @0025436eab05 (routes,
//      get_server_info, get_model_info, /v1/models, /generate's stream and
//      its in-stream error, /health)
//   T  python/sglang/srt/managers/tokenizer_manager.py (_validate_one_request:
//      the overflow messages; the /generate out_dict text/output_ids/meta_info)
//   B  python/sglang/srt/entrypoints/openai/serving_base.py @012bcb5f98 and
//      protocol.py (ErrorResponse; ChatCompletionRequest's SGLang fields)
//
// Models (the request's "model"; /v1/models lists the served one only, as H
// does: served_model_names = [served_model_name]):
//   any name   chat answers of `max_tokens` tokens "w0 w1 ...", finish "length"
//              when the cap ends it; a streamed chat whose last message
//              says "standin:oom" errors after its first chunk (an engine
//              fault inside the 200 stream, as serving_chat yields it).
// The prompt's token count is 2 per whitespace-separated word + 8 (a stand-in
// tokenizer, coarser than tokgate's estimate on purpose: a prompt tokgate
// thinks fits can be over the engine's context, as with a real tokenizer
// that tokgate only estimates); a prompt of CONTEXT_LEN tokens or more is refused with T's
// overflow message, as SGLang refuses it.
// Counts (issue 19): with SETTINGS {"tokenizer_dir": DIR} (a real
// tokenizer.json; NODE_PATH=$TG_FIXTURES/node_modules), POST /v1/tokenize and
// /tokenize answer as serving_tokenize.py @0351c1fa does (OpenAIServingTokenize:
// TokenizeRequest {model, prompt: str | list[str], add_special_tokens};
// tokenizer.encode(prompt, add_special_tokens) -> {tokens, count,
// max_model_len}) with HF tokenizers (npm `tokenizers`), and a string prompt
// of POST /v1/completions is counted the same way (tokenizer_manager encodes
// the text with the tokenizer's defaults); "tokenize_fail": "error" answers
// /v1/tokenize with the 500 ErrorResponse its except branch writes.
// GET /standin/stats also says `tokenize`: the /v1/tokenize calls.
// Usage: node standin_sglang.js PORTFILE [CONTEXT_LEN] [MAX_TOTAL_NUM_TOKENS] [SETTINGS]
'use strict';
const http = require('http');
const fs = require('fs');

const CONTEXT_LEN = +(process.argv[3] || 32768);
const KV_TOKENS = +(process.argv[4] || 120000);
const SERVED = 'standin/sglang-model'; // not a catalogue name: no thinking budget (none can be cut here)
let generateCalls = 0, chatCalls = 0, tokenizeCalls = 0;
const SETTINGS = JSON.parse(process.argv[5] || '{}');
let realTok = null;
async function encode(text, special) {
  if (!realTok) realTok = await require('tokenizers').Tokenizer.fromFile(require('path').join(SETTINGS.tokenizer_dir, 'tokenizer.json'));
  return Array.from((await realTok.encode(text, null, {addSpecialTokens: special})).getIds());
}
// serving_tokenize.py _handle_non_streaming_request (str or list[str])
async function tokenize(res, r) {
  tokenizeCalls++;
  if (SETTINGS.tokenize_fail === 'error')
    return json(res, 500, {object: 'error', message: 'Internal server error during tokenization: boom', type: 'InternalServerError', param: null, code: 500});
  const special = r.add_special_tokens !== undefined ? !!r.add_special_tokens : true;
  if (typeof r.prompt === 'string') {
    const ids = await encode(r.prompt, special);
    return json(res, 200, {tokens: ids, count: ids.length, max_model_len: CONTEXT_LEN});
  }
  if (Array.isArray(r.prompt)) {
    const all = [];
    for (const t of r.prompt) all.push(await encode(t, special));
    return json(res, 200, {tokens: all, count: all.map(a => a.length), max_model_len: CONTEXT_LEN});
  }
  json(res, 400, errorResponse(`Invalid prompt type: ${typeof r.prompt}. Expected str or List[str].`, 400));
}
// serving_completions.py: a string prompt, not streamed (what the count test sends)
async function completion(res, r) {
  const n = typeof r.prompt === 'string' && SETTINGS.tokenizer_dir ? (await encode(r.prompt, true)).length : 8;
  const over = overflowMessage(n, r.max_tokens);
  if (over) return json(res, 400, errorResponse(over, 400));
  const k = r.max_tokens || 16;
  json(res, 200, {id: 'cmpl-standin', object: 'text_completion', created: 1700000000, model: SERVED,
    choices: [{index: 0, text: Array.from({length: k}, (_, i) => `w${i} `).join(''), logprobs: null, finish_reason: 'length', matched_stop: null}],
    usage: {prompt_tokens: n, completion_tokens: k, total_tokens: n + k}});
}

function json(res, status, obj) {
  const b = JSON.stringify(obj);
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(b)});
  res.end(b);
}

// B: ErrorResponse(object="error", message, type, param=None, code), answered
// at the top level by the OpenAI routes (create_error_response).
function errorResponse(message, status) {
  return {object: 'error', message, type: status === 400 ? 'BadRequest' : 'InternalServerError', param: null, code: status};
}

// T: _validate_one_request's two refusals.
function overflowMessage(nPrompt, maxNew) {
  if (nPrompt >= CONTEXT_LEN)
    return `The input (${nPrompt} tokens) is longer than the model's context length (${CONTEXT_LEN} tokens).`;
  if (maxNew != null && maxNew + nPrompt >= CONTEXT_LEN)
    return `Requested token count exceeds the model's maximum context length of ${CONTEXT_LEN} tokens. ` +
      `You requested a total of ${maxNew + nPrompt} tokens: ${nPrompt} tokens from the input messages and ` +
      `${maxNew} tokens for the completion. Please reduce the number of tokens in the input messages or the ` +
      `completion to fit within the limit.`;
  return null;
}

function promptTokens(req) { return promptIds(req).length; }

// The stand-in tokenizer: 8 template ids, 2 ids a word of a message, and a
// final assistant message rendered open (continue_final_message, protocol.py)
// as its generated words: "wK" is id 7000+K, the id the stand-in generates
// it with, so prompt ids + generated text re-tokenize to what was generated.
// A thinking model (a user message saying "standin:think", served with a
// reasoning parser): its first 100 tokens are thinking "rT" (id 6000+T,
// streamed as reasoning_content), then the answer "aK" (id 8000+K). A final
// assistant message with reasoning_content renders the thinking closed, as
// Qwen3's chat template does: <think> (9001), its words, </think> (9002).
const THINK = 100;
const wordId = w => { const m = /^([wra])(\d+)$/.exec(w); return m ? {w: 7000, r: 6000, a: 8000}[m[1]] + +m[2] : null; };
function promptIds(req) {
  const ids = [1, 2, 3, 4, 5, 6, 7, 8];
  const msgs = req.messages || [];
  const split = t => String(t || '').split(/\s+/).filter(Boolean);
  msgs.forEach((m, i) => {
    const open = req.continue_final_message && i === msgs.length - 1 && m.role === 'assistant';
    if (open && m.reasoning_content) ids.push(9001, ...split(m.reasoning_content).map(wordId), 9002);
    for (const w of split(m.content)) {
      if (open && wordId(w) !== null) ids.push(wordId(w));
      else ids.push(100, 101);
    }
  });
  return ids;
}
const thinking = req => (req.messages || []).some(m => m.role === 'user' && String(m.content).includes('standin:think'));

// H get_server_info: {**asdict(server_args), **scheduler_info, internal_states, version}
function serverInfo() {
  return {
    model_path: SERVED,                 // ServerArgs.model_path
    tokenizer_path: SERVED,             // ServerArgs.tokenizer_path
    served_model_name: SERVED,          // ServerArgs.served_model_name
    context_length: null,               // ServerArgs.context_length: None unless --context-length
    chunked_prefill_size: 8192,         // ServerArgs.chunked_prefill_size
    max_running_requests: null,         // ServerArgs.max_running_requests
    mem_fraction_static: 0.88,          // ServerArgs.mem_fraction_static
    reasoning_parser: null,             // ServerArgs.reasoning_parser
    max_total_num_tokens: KV_TOKENS,    // scheduler_info: the KV pool's tokens
    max_req_input_len: CONTEXT_LEN - 5, // scheduler_info
    internal_states: [{}],              // H: tokenizer_manager.get_internal_state()
    version: '0.5.4',                   // H: sglang.version.__version__ (a stand-in value)
  };
}

function chatChunk(id, delta, finish, usage, logprobs) {
  const o = {id, object: 'chat.completion.chunk', created: 1700000000, model: SERVED,
    choices: [{index: 0, delta, logprobs: logprobs || null, finish_reason: finish, matched_stop: null}]};
  if (usage) { o.choices = []; o.usage = usage; }
  return 'data: ' + JSON.stringify(o) + '\n\n';
}

function chat(res, req) {
  chatCalls++;
  const nPrompt = promptTokens(req);
  const maxNew = req.max_completion_tokens ?? req.max_tokens ?? null; // protocol.py: max_new_tokens
  const over = overflowMessage(nPrompt, maxNew);
  if (over && !req.stream) return json(res, 400, errorResponse(over, 400));
  const n = maxNew == null ? 16 : maxNew;
  const msgs0 = req.messages || [];
  const last = msgs0[msgs0.length - 1];
  const from = req.continue_final_message && last && last.role === 'assistant' ?
    String(last.content || '').split(/\s+/).filter(Boolean).length : 0; // an open final message goes on
  const think = thinking(req);
  const words = Array.from({length: n}, (_, i) => think ?
    (from + i < THINK ? `r${from + i} ` : `a${from + i - THINK} `) : `w${from + i} `);
  const id = 'chatcmpl-standin';
  if (!req.stream) {
    const choice = {index: 0, message: {role: 'assistant', content: words.join(''), reasoning_content: null, tool_calls: null},
      logprobs: null, finish_reason: 'length', matched_stop: null};
    // serving_chat.py: choices[i].prompt_token_ids with return_prompt_token_ids (refused when streamed)
    if (req.return_prompt_token_ids) choice.prompt_token_ids = promptIds(req);
    return json(res, 200, {id, object: 'chat.completion', created: 1700000000, model: SERVED,
      choices: [choice], usage: {prompt_tokens: nPrompt, completion_tokens: n, total_tokens: nPrompt + n}});
  }
  if (req.return_prompt_token_ids || req.return_token_ids || req.return_meta_info) // serving_chat.py, before streaming
    return json(res, 400, errorResponse('return_prompt_token_ids is not supported with streaming. Please set stream=false when using return_prompt_token_ids=true.', 400));
  res.writeHead(200, {'Content-Type': 'text/event-stream'});
  if (over) { // serving_chat's streaming error: data: {"error": ErrorResponse}
    res.write('data: ' + JSON.stringify({error: errorResponse(over, 400)}) + '\n\n');
    res.end('data: [DONE]\n\n');
    return;
  }
  const msgs = req.messages || [];
  const oom = msgs.length > 0 && String(msgs[msgs.length - 1].content).includes('standin:oom');
  res.write(chatChunk(id, {role: 'assistant', content: ''}, null));
  for (let i = 0; i < n; i++) {
    // serving_chat: a reasoning chunk is DeltaMessage(reasoning_content) with no logprobs; a
    // content chunk carries the logprobs asked for (token text, no id: ChatCompletionTokenLogprob)
    const reasoning = words[i].startsWith('r');
    const lp = req.logprobs && !reasoning ?
      {content: [{token: words[i], bytes: [...Buffer.from(words[i])], logprob: -1.0, top_logprobs: []}]} : null;
    res.write(chatChunk(id, reasoning ? {reasoning_content: words[i]} : {content: words[i]}, null, null, lp));
    if (oom && i === 0) {
      res.write('data: ' + JSON.stringify({error: errorResponse('Internal server error: CUDA out of memory (stand-in)', 500)}) + '\n\n');
      res.end('data: [DONE]\n\n');
      return;
    }
  }
  res.write(chatChunk(id, {}, 'length'));
  if (req.stream_options && req.stream_options.include_usage)
    res.write(chatChunk(id, null, null, {prompt_tokens: nPrompt, completion_tokens: n, total_tokens: nPrompt + n}));
  res.end('data: [DONE]\n\n');
}

// H /generate: text or input_ids, sampling_params.max_new_tokens; T out_dict
// {"text", "output_ids", "meta_info": {prompt_tokens, completion_tokens,
// finish_reason: {"type": "length", "length": N} | {"type": "stop", ...}}}
// The generated words go on from the last generated one in input_ids (ids
// 7000+K), so a leg continues the answer a chat began.
let lastGenerate = null;
function generate(res, req) {
  generateCalls++;
  lastGenerate = req;
  const ids = Array.isArray(req.input_ids) ? req.input_ids : null;
  const nPrompt = ids ? ids.length : String(req.text || '').split(/\s+/).filter(Boolean).length;
  const sp = req.sampling_params || {};
  const n = sp.max_new_tokens == null ? 128 : sp.max_new_tokens;
  const over = overflowMessage(nPrompt, sp.max_new_tokens);
  // after <think> (9001): thinking goes on (6000+T) until 100, or the answer
  // (8000+K) once </think> (9002) was read; else plain words (7000+K)
  const has = (lo, hi) => ids ? ids.filter(i => i >= lo && i < hi).length : 0;
  const thinkingReq = ids && ids.includes(9001);
  const closed = ids && ids.includes(9002);
  const out = Array.from({length: n}, (_, i) => {
    if (!thinkingReq) return 7000 + has(7000, 8000) + i;
    if (closed) return 8000 + has(8000, 9000) + i;
    const t = has(6000, 7000) + i;
    return t < THINK ? 6000 + t : 8000 + t - THINK;
  });
  const name = i => i >= 8000 ? `a${i - 8000}` : i >= 7000 ? `w${i - 7000}` : `r${i - 6000}`;
  const text = k => out.slice(0, k).map(i => name(i) + ' ').join('');
  const meta = (k, fin) => ({id: 'gen-standin', prompt_tokens: nPrompt, completion_tokens: k,
    finish_reason: fin ? {type: 'length', length: k} : null, cached_tokens: 0});
  if (!req.stream) {
    if (over) return json(res, 400, {error: {message: over}}); // H _create_error_response
    return json(res, 200, {text: text(n), output_ids: out, meta_info: meta(n, true)});
  }
  res.writeHead(200, {'Content-Type': 'text/event-stream'});
  if (over) res.write('data: ' + JSON.stringify({error: {message: over}}) + '\n\n'); // H: except ValueError
  else for (let k = 1; k <= n; k++) // T: not incremental (the default): text and output_ids so far
    res.write('data: ' + JSON.stringify({text: text(k), output_ids: out.slice(0, k), meta_info: meta(k, k === n)}) + '\n\n');
  res.end('data: [DONE]\n\n');
}

const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', d => body += d).on('end', () => {
    const p = req.url.split('?')[0];
    if (p === '/standin/stats') return json(res, 200, {generate: generateCalls, chat: chatCalls, tokenize: tokenizeCalls, last_generate: lastGenerate});
    if (p === '/health' || p === '/health_generate') { res.writeHead(200); return res.end(); } // H: Response(200)
    if (p === '/get_server_info' || p === '/server_info') return json(res, 200, serverInfo());
    if (p === '/get_model_info') // H get_model_info
      return json(res, 200, {model_path: SERVED, tokenizer_path: SERVED, is_generation: true,
        preferred_sampling_params: null, weight_version: 'default'});
    if (p === '/v1/models') // H available_models: ModelCard(id, root, max_model_len=context_len)
      return json(res, 200, {object: 'list', data: [{id: SERVED, object: 'model', created: 1700000000,
        owned_by: 'sglang', root: SERVED, max_model_len: CONTEXT_LEN}]});
    if (p === '/props') return json(res, 404, {detail: 'Not Found'}); // FastAPI's 404
    let r;
    try { r = JSON.parse(body || '{}'); } catch (e) { return json(res, 400, errorResponse('JSON decode error', 400)); }
    if (p === '/v1/chat/completions') return chat(res, r);
    if (p === '/generate') return generate(res, r);
    if ((p === '/v1/tokenize' || p === '/tokenize') && SETTINGS.tokenizer_dir) return tokenize(res, r);
    if (p === '/v1/completions' && SETTINGS.tokenizer_dir) return completion(res, r);
    json(res, 404, {detail: 'Not Found'});
  });
});
server.listen(0, '127.0.0.1', () => fs.writeFileSync(process.argv[2], String(server.address().port)));
