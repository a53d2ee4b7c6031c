// standin_upstream.js: a STAND-IN upstream used only by tokgate's gateway
// tests, for faults a real inference server cannot be made to show on
// demand: resets mid-stream, garbage bytes, a slow first byte, a stall
// mid-answer, error statuses. It is not a model server; the behaviour under
// test with a real server is in test_gateway_llama.sh (llama-server).
//
// It speaks HTTP/1.1 over raw sockets (node's `net`) so it can misbehave at
// the byte level. The request's "model" picks the behaviour:
//   ok        JSON answer with usage, or SSE chunks + final usage + [DONE]
//   big       SSE stream of 2M chunks, ~260 MB (back-pressure; the client leaves)
//   reset     SSE head and two chunks, then the socket is destroyed
//   garbage   non-HTTP bytes instead of a response
//   slow      no byte for 30 s (first-byte timeout)
//   stall     SSE head and one chunk, then silence (idle timeout)
//   error     HTTP 500 with an error body
//   badchunk  chunked body with an invalid chunk size
//   cont_tpl500  like ok (chunks carry logprobs ids when asked), but its
//             /apply-template answers 500 (a continuation that cannot start)
//   cont_reset   like ok; /apply-template answers {"prompt":"P"} and
//             /completion streams two events, then the socket is destroyed
//   ctx_overflow (not listed) HTTP 400 with llama-server's exceed_context_size_error
//   trickle_head  the response head one byte every 250 ms (an absolute
//             first-byte deadline must not be reset by each byte)
//   trickle_sse   an SSE head, one event, then one byte every 250 ms for ever
//             (a body under the minimum rate)
//   trickle_json  a JSON answer's head with Content-Length 4000, then one byte
//             every 250 ms (a non-stream body cut: the client sees it short)
//   close_cut     an SSE stream framed by the close (no length, no chunks):
//             two events, then the close without data: [DONE]
//   close_ok      the same stream, complete with data: [DONE], then the close
//   stream_long   an SSE stream, one event every 100 ms for 60 s (drain deadline)
// GET /v1/models lists them (vLLM-style entries with max_model_len 4096);
// GET /standin/stats reports {"closed_early": N, "requests": N, "big_written": B,
// "big_open": N}:
// connections the client side closed while an answer was still being sent,
// and bytes the `big` stream handed to its socket (it waits for 'drain', so
// this stops growing when the reader applies back-pressure); big_open counts
// `big` streams whose connection is still open.
// Usage: node standin_upstream.js PORTFILE  (writes the port it bound).
'use strict';
const net = require('net');
const fs = require('fs');

const MODELS = ['ok', 'big', 'reset', 'garbage', 'slow', 'stall', 'error', 'badchunk', 'cont_tpl500', 'cont_reset'];
// trickle_* close_* stream_long are not listed in /v1/models (tests name them as upstream_model)
let closedEarly = 0, requests = 0, bigWritten = 0, bigOpen = 0;

function send(sock, status, headers, body) {
  let h = `HTTP/1.1 ${status} X\r\n`;
  for (const [k, v] of Object.entries(headers)) h += `${k}: ${v}\r\n`;
  if (body !== undefined) h += `Content-Length: ${Buffer.byteLength(body)}\r\n`;
  sock.write(h + '\r\n');
  if (body !== undefined) sock.write(body);
}

function chunk(sock, s) { sock.write(Buffer.byteLength(s).toString(16) + '\r\n' + s + '\r\n'); }

function sseChunk(i, text, logprobs) {
  const c = {index: 0, delta: {content: text}, finish_reason: null};
  if (logprobs) c.logprobs = {content: [{id: 1000 + i, token: text, logprob: -1}]};
  return 'data: ' + JSON.stringify({id: 'c1', object: 'chat.completion.chunk', choices: [c]}) + '\n\n';
}

function handle(sock, method, path, headers, body) {
  requests++;
  if (path === '/standin/stats') return send(sock, 200, {'Content-Type': 'application/json'}, JSON.stringify({closed_early: closedEarly, requests, big_written: bigWritten, big_open: bigOpen}));
  if (path === '/v1/models') {
    return send(sock, 200, {'Content-Type': 'application/json'}, JSON.stringify({object: 'list', data: MODELS.map(id => ({id, object: 'model', owned_by: 'standin', root: id, max_model_len: 4096}))}));
  }
  if (path === '/props') return send(sock, 404, {'Content-Type': 'application/json'}, '{"error":"not llama-server"}');
  if (path === '/echo-headers') return send(sock, 200, {'Content-Type': 'application/json'}, JSON.stringify({method, headers, body: body.toString()}));
  let req = {};
  if (path === '/apply-template' || path === '/completion') {
    try { req = JSON.parse(body.toString()); } catch (e) { return send(sock, 400, {}, 'bad json'); }
    if (path === '/apply-template') {
      if (req.model === 'cont_reset') return send(sock, 200, {'Content-Type': 'application/json'}, '{"prompt":"P"}');
      return send(sock, 500, {'Content-Type': 'application/json'}, '{"error":{"message":"no template here","type":"server_error"}}');
    }
    sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
    chunk(sock, 'data: ' + JSON.stringify({content: 'more0 ', tokens: [2000], stop: false}) + '\n\n');
    chunk(sock, 'data: ' + JSON.stringify({content: 'more1 ', tokens: [2001], stop: false}) + '\n\n');
    return setTimeout(() => sock.destroy(), 20);
  }
  if (path !== '/v1/chat/completions' && path !== '/v1/completions') return send(sock, 404, {'Content-Type': 'text/plain'}, 'no such path');
  try { req = JSON.parse(body.toString()); } catch (e) { return send(sock, 400, {}, 'bad json'); }
  const model = req.model || 'ok';
  const stream = req.stream === true;
  const n = req.max_tokens || 5;
  switch (model) {
    case 'garbage': sock.write('\x00\x01garbage garbage\r\n\r\n'); return sock.end();
    case 'slow': setTimeout(() => { if (!sock.destroyed) send(sock, 200, {'Content-Type': 'application/json'}, '{}'); }, 30000); return;
    case 'error': return send(sock, 500, {'Content-Type': 'application/json'}, '{"error":{"message":"upstream exploded","type":"server_error"}}');
    // llama-server's answer to a prompt over its context (llama.cpp tools/server: server-task.cpp
    // server_task_result_error::to_json, message from server-context.cpp); not listed in /v1/models
    case 'ctx_overflow': return send(sock, 400, {'Content-Type': 'application/json'}, JSON.stringify({error: {code: 400,
      message: 'request (5000 tokens) exceeds the available context size (4096 tokens), try increasing it',
      type: 'exceed_context_size_error', n_prompt_tokens: 5000, n_ctx: 4096}}));
    case 'trickle_head': case 'trickle_sse': case 'trickle_json': case 'close_cut': case 'close_ok': case 'stream_long':
      return misbehave(sock, model);
    case 'badchunk':
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
      sock.write('zz\r\nhello\r\n');
      return;
  }
  if (!stream) {
    const text = Array.from({length: n}, (_, i) => `tok${i}`).join(' ');
    return send(sock, 200, {'Content-Type': 'application/json'}, JSON.stringify({
      id: 'c1', object: 'chat.completion', model,
      choices: [{index: 0, message: {role: 'assistant', content: text}, finish_reason: 'length'}],
      usage: {prompt_tokens: 11, completion_tokens: n, total_tokens: 11 + n}}));
  }
  sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n');
  const total = model === 'big' ? 2000000 : n;
  let i = 0;
  let finished = false;
  if (model === 'big') { bigOpen++; sock.on('close', () => bigOpen--); }
  sock.on('close', () => { if (!finished) closedEarly++; });
  const pump = () => {
    while (i < total) {
      if (sock.destroyed) return;
      if (model === 'reset' && i === 2) { finished = true; return sock.destroy(); }
      if (model === 'stall' && i === 1) { finished = true; return; }
      const s = sseChunk(i, `tok${i} `, req.logprobs === true);
      const framed = Buffer.byteLength(s).toString(16) + '\r\n' + s + '\r\n';
      if (model === 'big') bigWritten += framed.length;
      const ok = sock.write(framed);
      i++;
      if (!ok) return sock.once('drain', pump);
      if (model !== 'big' && i < total) return setTimeout(pump, 5);
    }
    const fin = 'data: ' + JSON.stringify({id: 'c1', object: 'chat.completion.chunk', choices: [{index: 0, delta: {}, finish_reason: 'length'}], usage: {prompt_tokens: 11, completion_tokens: total, total_tokens: 11 + total}}) + '\n\n';
    chunk(sock, fin);
    chunk(sock, 'data: [DONE]\n\n');
    sock.write('0\r\n\r\n');
    finished = true;
  };
  pump();
}

// one byte of `s` every `ms` until it is spent (or for ever when loop), then `then`
function trickle(sock, s, ms, loop, then) {
  let i = 0;
  const t = setInterval(() => {
    if (sock.destroyed) return clearInterval(t);
    if (i >= s.length) { if (!loop) { clearInterval(t); if (then) then(); return; } i = 0; }
    sock.write(s[i++]);
  }, ms);
  sock.on('close', () => clearInterval(t));
}

function misbehave(sock, model) {
  const ev = i => sseChunk(i, `tok${i} `, false);
  switch (model) {
    case 'trickle_head':
      return trickle(sock, 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', 250, false);
    case 'trickle_sse':
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
      chunk(sock, ev(0));
      return trickle(sock, ev(1).split('').map(c => '1\r\n' + c + '\r\n').join(''), 50, true); // 1 byte of payload per 250 ms
    case 'trickle_json':
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n{"id":"c1",');
      return trickle(sock, ' '.repeat(4000), 250, false);
    case 'close_cut': case 'close_ok':
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n' + ev(0) + ev(1));
      if (model === 'close_ok') sock.write('data: [DONE]\n\n');
      return setTimeout(() => sock.end(), 50);
    case 'stream_long': {
      sock.write('HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n');
      let i = 0;
      const t = setInterval(() => { if (sock.destroyed || i >= 600) return clearInterval(t); chunk(sock, ev(i++)); }, 100);
      return sock.on('close', () => clearInterval(t));
    }
  }
}

const server = net.createServer(sock => {
  let buf = Buffer.alloc(0);
  sock.on('error', () => {});
  sock.on('data', d => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.slice(0, end).toString('latin1').split('\r\n');
      const [method, rawPath] = head[0].split(" "); const path = (rawPath || "").split("?")[0];
      const headers = {};
      for (const l of head.slice(1)) { const k = l.indexOf(':'); headers[l.slice(0, k).toLowerCase()] = l.slice(k + 1).trim(); }
      const len = parseInt(headers['content-length'] || '0', 10);
      if (buf.length < end + 4 + len) return;
      const body = buf.slice(end + 4, end + 4 + len);
      buf = buf.slice(end + 4 + len);
      handle(sock, method, path, headers, body);
    }
  });
});
server.listen(0, '127.0.0.1', () => {
  fs.writeFileSync(process.argv[2], String(server.address().port));
});
process.on('SIGTERM', () => process.exit(0));
