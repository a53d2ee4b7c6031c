// bench/soak_client.js: the load side of bench/soak.sh (node, no npm
// dependencies). CLIENTS workers loop for SECONDS against tokgate at BASE,
// each picking one of the cases below at random, and at the end print one
// JSON line of counts. A case's answer is checked against what it must be;
// anything else is an error (listed, first 20 kept).
//
//   chat            non-streaming chat, no max_tokens: tokgate's capped
//                   default applies, llama-server stops at "length", tokgate
//                   escalates (x-tokgate-escalated: FROM->TO on the answer)
//   chat_small      non-streaming chat with max_tokens 4: 200, 4 tokens
//   stream          streaming chat, no max_tokens: continued in place; the
//                   stream must end with one finish and data: [DONE]
//   stream_cut      streaming chat cut by the client after its first bytes
//   completion      /v1/completions, a prompt, max_tokens 6
//   bad_json        a body that is not JSON: 400
//   bad_budget      max_tokens far above the model's: 400
//   bad_method      GET /v1/chat/completions: 405
//   slow_cut        a request head sent halfway, then the socket closed
//
// Usage: node soak_client.js BASE SECONDS CLIENTS
'use strict';
const http = require('http');
const net = require('net');

const [base, secondsArg, clientsArg] = process.argv.slice(2);
const url = new URL(base);
const seconds = Number(secondsArg || 30), clients = Number(clientsArg || 4);
const agent = new http.Agent({ keepAlive: true, maxSockets: clients });
const end = Date.now() + seconds * 1000;
const counts = { requests: 0, errors: 0, cuts: 0, continuations: 0, streams: 0, bad: 0, by_case: {} };
const errors = [];

const words = ['alpha', 'beta', 'gamma', 'delta', 'tokens', 'budget', 'stream', 'gate', 'soak', 'llama'];
const text = () => Array.from({ length: 3 + Math.floor(Math.random() * 12) }, () => words[Math.floor(Math.random() * words.length)]).join(' ');
const chatBody = (extra) => JSON.stringify(Object.assign({ messages: [{ role: 'user', content: text() }], temperature: 0 }, extra));

function error(name, what) {
  counts.errors++;
  if (errors.length < 20) errors.push(`${name}: ${what}`);
}

// One HTTP request; resolves {status, headers, body} or {cut: true}.
function request(method, path, body, opts = {}) {
  return new Promise((resolve) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, agent: opts.cut ? false : agent,
      headers: body != null ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} },
    (res) => {
      const chunks = [];
      res.on('data', (d) => {
        chunks.push(d);
        if (opts.cut) { req.destroy(); resolve({ cut: true, status: res.statusCode }); }
      });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => resolve({ error: e.message, status: res.statusCode }));
      res.on('aborted', () => resolve({ error: 'aborted', status: res.statusCode }));
    });
    req.setTimeout(60000, () => { req.destroy(new Error('timeout 60 s')); });
    req.on('error', (e) => resolve({ error: e.message }));
    if (body != null) req.write(body);
    req.end();
  });
}

function json(s) { try { return JSON.parse(s); } catch (e) { return null; } }

// The SSE stream's events: one finish_reason, [DONE] last, every data line JSON.
function streamOk(body) {
  const ev = body.split('\n\n').filter((e) => e.trim().length);
  if (!ev.length || ev[ev.length - 1].trim() !== 'data: [DONE]') return 'no [DONE] at the end';
  let finishes = 0;
  for (const e of ev.slice(0, -1)) {
    if (!e.startsWith('data: ')) return `not an SSE data event: ${e.slice(0, 80)}`;
    const j = json(e.slice(6));
    if (!j) return `not JSON: ${e.slice(0, 80)}`;
    if (j.error) return `error event: ${JSON.stringify(j.error).slice(0, 200)}`;
    const c = (j.choices || [])[0];
    if (c && c.finish_reason) finishes++;
  }
  return finishes === 1 ? null : `${finishes} finish reasons`;
}

const cases = {
  async chat() {
    const r = await request('POST', '/v1/chat/completions', chatBody({}));
    if (r.status !== 200) return error('chat', `status ${r.status} ${r.error || (r.body || '').slice(0, 200)}`);
    const j = json(r.body);
    if (!j || !j.choices || !j.choices[0]) return error('chat', `answer ${(r.body || '').slice(0, 200)}`);
    if (r.headers['x-tokgate-escalated']) counts.continuations++;
  },
  async chat_small() {
    const r = await request('POST', '/v1/chat/completions', chatBody({ max_tokens: 4 }));
    const j = r.status === 200 && json(r.body);
    if (!j || !j.usage || j.usage.completion_tokens > 4) return error('chat_small', `status ${r.status} ${(r.body || r.error || '').slice(0, 200)}`);
  },
  async stream() {
    counts.streams++;
    const r = await request('POST', '/v1/chat/completions', chatBody({ stream: true }));
    if (r.status !== 200) return error('stream', `status ${r.status} ${r.error || (r.body || '').slice(0, 200)}`);
    const bad = streamOk(r.body);
    if (bad) return error('stream', bad);
  },
  async stream_cut() {
    counts.streams++;
    const r = await request('POST', '/v1/chat/completions', chatBody({ stream: true }), { cut: true });
    if (r.cut) counts.cuts++;
    else if (r.status !== 200 || r.error) error('stream_cut', `status ${r.status} ${r.error || ''}`);
  },
  async completion() {
    const r = await request('POST', '/v1/completions', JSON.stringify({ prompt: text(), max_tokens: 6, temperature: 0 }));
    const j = r.status === 200 && json(r.body);
    if (!j || !j.choices) return error('completion', `status ${r.status} ${(r.body || r.error || '').slice(0, 200)}`);
  },
  async bad_json() {
    counts.bad++;
    const r = await request('POST', '/v1/chat/completions', '{"messages": [');
    if (r.status !== 400) error('bad_json', `status ${r.status}, want 400`);
  },
  async bad_budget() {
    counts.bad++;
    const r = await request('POST', '/v1/chat/completions', chatBody({ max_tokens: 10000000 }));
    if (r.status !== 400) error('bad_budget', `status ${r.status}, want 400: ${(r.body || '').slice(0, 200)}`);
  },
  async bad_method() {
    counts.bad++;
    const r = await request('GET', '/v1/chat/completions', null);
    if (r.status !== 405) error('bad_method', `status ${r.status}, want 405`);
  },
  slow_cut() {
    counts.cuts++;
    return new Promise((resolve) => {
      const s = net.connect(Number(url.port), url.hostname, () => {
        s.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"messages":');
        setTimeout(() => { s.destroy(); resolve(); }, 20);
      });
      s.on('error', () => resolve());
    });
  },
};
// Weights: mostly real generation, a steady share of cuts and bad requests.
const mix = [['chat', 4], ['chat_small', 2], ['stream', 4], ['stream_cut', 3], ['completion', 2], ['bad_json', 1],
  ['bad_budget', 1], ['bad_method', 1], ['slow_cut', 1]];
const total = mix.reduce((a, [, w]) => a + w, 0);
function pick() {
  let x = Math.random() * total;
  for (const [n, w] of mix) { if ((x -= w) < 0) return n; }
  return mix[0][0];
}

async function worker() {
  while (Date.now() < end) {
    const name = pick();
    counts.requests++;
    counts.by_case[name] = (counts.by_case[name] || 0) + 1;
    await cases[name]();
  }
}

Promise.all(Array.from({ length: clients }, worker)).then(() => {
  agent.destroy();
  counts.error_samples = errors;
  console.log(JSON.stringify(counts));
});
