#!/usr/bin/env node
// tests/gateway/hostile_run.js: the hostile raw-socket corpus runner (node,
// no npm dependencies). test_gateway_hostile.sh runs it against tokgate in
// front of the real llama-server.
//
//   node hostile_run.js --target default=PORT [--target TAG=PORT]... \
//        [--model NAME] [--jobs N] FILE_OR_DIR...
//
// Every *.jsonl file named (or in a directory named) holds one case a line:
//   {"name":"...", "raw":"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n...",
//    "status":400, "code":"bad_request", "limit":"8192",
//    "send":"once"|"trickle", "trickle_ms":1000, "wait_ms":10000,
//    "max_ms":9000, "setup":"TAG"}
// raw is sent byte-exact over a fresh TCP socket: every character of the
// JSON string is one byte (\u00XX is the byte XX; a character above U+00FF
// is an error in the case). Before sending, three expansions apply, in this
// order: {{REPEAT N TEXT}} is TEXT N times (TEXT without '}'), {{MODEL}} the
// --model name, {{CL}} the byte length of what follows the first blank line
// (CRLFCRLF) after the expansions.
// status: the expected HTTP status of the first final (non-1xx) answer; 0
// means the connection must close with no answer. code: the expected
// error.code of tokgate's OpenAI-shaped JSON body; limit: a string its
// error.message must contain. send "trickle" writes one byte every
// trickle_ms (default 1000) until the answer comes or the socket closes;
// trickle_after sends that many bytes at once first ("head": up to and
// including the first blank line, so only the body trickles).
// wait_ms bounds the wait for the answer (default 10000, trickle 60000);
// max_ms, when given, is the most the answer may take from the first byte
// sent (deadline cases). setup picks the tokgate the case runs against
// (--target TAG=PORT; default "default"). Lines that are empty or start
// with '#' are skipped.
//
// After each case a good request goes on a fresh socket to the same target
// (a chat completion of max_tokens 1 to --model, or GET /healthz without
// --model) and must get 200: the daemon keeps serving.
// Output: one line per failed case (FAIL file:line name: why), then
// "hostile: N cases, M failed"; the exit status is 1 when any failed.
'use strict';
const fs = require('fs');
const net = require('net');
const path = require('path');

function parseArgs(argv) {
  const o = { targets: {}, model: null, jobs: 4, inputs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--target') {
      const m = /^([^=]+)=(\d+)$/.exec(argv[++i] || '');
      if (!m) throw new Error('--target wants TAG=PORT');
      o.targets[m[1]] = +m[2];
    } else if (a === '--model') o.model = argv[++i];
    else if (a === '--jobs') o.jobs = Math.max(1, +argv[++i] || 1);
    else o.inputs.push(a);
  }
  if (!o.targets.default) throw new Error('--target default=PORT is required');
  return o;
}

function loadCases(inputs) {
  const files = [];
  for (const p of inputs) {
    if (fs.statSync(p).isDirectory())
      for (const f of fs.readdirSync(p).sort()) { if (f.endsWith('.jsonl')) files.push(path.join(p, f)); }
    else files.push(p);
  }
  const cases = [], errors = [];
  for (const f of files) {
    fs.readFileSync(f, 'utf8').split('\n').forEach((line, i) => {
      if (!line.trim() || line.trim().startsWith('#')) return;
      const where = `${path.basename(f)}:${i + 1}`;
      try {
        const c = JSON.parse(line);
        if (typeof c.name !== 'string' || typeof c.raw !== 'string' || typeof c.status !== 'number')
          throw new Error('name, raw and status are required');
        cases.push({ ...c, where });
      } catch (e) { errors.push(`FAIL ${where}: unreadable case: ${e.message}`); }
    });
  }
  return { files, cases, errors };
}

function expand(raw, model) {
  let s = raw.replace(/\{\{REPEAT (\d+) ([^}]*)\}\}/g, (_, n, t) => t.repeat(+n));
  s = s.split('{{MODEL}}').join(model || 'model');
  const bytes = (str) => {
    const b = Buffer.alloc(str.length);
    for (let i = 0; i < str.length; i++) {
      const ch = str.charCodeAt(i);
      if (ch > 0xff) throw new Error(`character U+${ch.toString(16)} above U+00FF at ${i}: write bytes as \\u00XX`);
      b[i] = ch;
    }
    return b;
  };
  if (s.includes('{{CL}}')) {
    const at = s.indexOf('\r\n\r\n');
    const bodyLen = at < 0 ? 0 : s.length - at - 4;
    // the placeholder is in the head, so the body's length does not depend on it
    s = s.split('{{CL}}').join(String(bodyLen));
  }
  return bytes(s);
}

// Parses the first final response in buf: {status, headers, body} or null
// when incomplete. 1xx interim answers are skipped.
function parseResponse(buf, headOnly) {
  let off = 0;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) return null;
    const head = buf.slice(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) return { status: -1, bad: `not an HTTP status line: ${JSON.stringify(head[0].slice(0, 80))}` };
    const status = +m[1];
    const headers = {};
    for (const h of head.slice(1)) {
      const k = h.indexOf(':');
      if (k > 0) headers[h.slice(0, k).trim().toLowerCase()] = h.slice(k + 1).trim();
    }
    let p = end + 4;
    if (status >= 100 && status < 200) { off = p; continue; }
    if (headOnly || status === 204 || status === 304) return { status, headers, body: Buffer.alloc(0) };
    if (headers['content-length'] !== undefined) {
      const n = +headers['content-length'];
      if (buf.length - p < n) return null;
      return { status, headers, body: buf.slice(p, p + n) };
    }
    if (/chunked/i.test(headers['transfer-encoding'] || '')) {
      const parts = [];
      for (;;) {
        const le = buf.indexOf('\r\n', p, 'latin1');
        if (le < 0) return null;
        const size = parseInt(buf.slice(p, le).toString('latin1'), 16);
        if (!(size >= 0)) return { status, headers, body: Buffer.concat(parts), bad: 'bad chunk size' };
        if (size === 0) return { status, headers, body: Buffer.concat(parts) };
        if (buf.length < le + 2 + size + 2) return null;
        parts.push(buf.slice(le + 2, le + 2 + size));
        p = le + 2 + size + 2;
      }
    }
    return { status, headers, body: buf.slice(p), closeDelimited: true };
  }
}

// Sends bytes (once or trickled) and resolves with {resp, closed, ms, buf}.
function exchange(port, bytes, c) {
  return new Promise((resolve) => {
    const trickle = c.send === 'trickle';
    const waitMs = c.wait_ms || (trickle ? 60000 : 10000);
    const headOnly = bytes.slice(0, 5).toString('latin1') === 'HEAD ';
    const sock = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), done = false, t0 = 0, timer = null, tick = null;
    const finish = (closed) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearInterval(tick);
      const resp = parseResponse(buf, headOnly);
      sock.destroy();
      resolve({ resp, closed, ms: Date.now() - t0, buf });
    };
    sock.on('connect', () => {
      t0 = Date.now();
      timer = setTimeout(() => finish(false), waitMs);
      if (!trickle) { sock.write(bytes); return; }
      let i = 0;
      const after = c.trickle_after === 'head' ? bytes.indexOf('\r\n\r\n', 0, 'latin1') + 4 : +(c.trickle_after || 0);
      if (after > 0) { sock.write(bytes.slice(0, after)); i = after; }
      const step = () => {
        if (done || sock.destroyed || !sock.writable) return;
        if (i < bytes.length) sock.write(bytes.slice(i, i + 1)), i++;
        else clearInterval(tick);
      };
      step();
      tick = setInterval(step, c.trickle_ms || 1000);
    });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const r = parseResponse(buf, headOnly);
      if (r && !r.closeDelimited) finish(false);
    });
    sock.on('end', () => finish(true));
    sock.on('close', () => finish(true));
    sock.on('error', () => finish(true));
  });
}

function judge(c, r) {
  const why = [];
  if (c.status === 0) {
    if (r.buf.length) why.push(`want the connection closed with no answer, got ${JSON.stringify(r.buf.slice(0, 60).toString('latin1'))}`);
    else if (!r.closed) why.push('want the connection closed, it stayed open');
    return why;
  }
  if (!r.resp) return [`no complete answer within ${c.wait_ms || (c.send === 'trickle' ? 60000 : 10000)} ms (${r.buf.length} bytes${r.closed ? ', closed' : ''})`];
  if (r.resp.bad) return [r.resp.bad];
  if (r.resp.status !== c.status) why.push(`status ${r.resp.status}, want ${c.status}`);
  let err = null;
  if (c.code !== undefined || c.limit !== undefined) {
    try { err = JSON.parse(r.resp.body.toString('utf8')).error; } catch (e) { err = null; }
    if (!err) why.push(`no OpenAI-shaped error body: ${JSON.stringify(r.resp.body.slice(0, 120).toString('latin1'))}`);
  }
  if (err && c.code !== undefined && err.code !== c.code) why.push(`code ${JSON.stringify(err.code)}, want ${JSON.stringify(c.code)}`);
  if (err && c.limit !== undefined && !String(err.message).includes(c.limit))
    why.push(`message ${JSON.stringify(err.message)} does not name ${JSON.stringify(c.limit)}`);
  if (c.max_ms !== undefined && r.ms > c.max_ms) why.push(`answered after ${r.ms} ms, want at most ${c.max_ms}`);
  return why;
}

function goodRequest(model) {
  if (!model) return Buffer.from('GET /healthz HTTP/1.1\r\nHost: hostile\r\nConnection: close\r\n\r\n', 'latin1');
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 });
  return Buffer.from(`POST /v1/chat/completions HTTP/1.1\r\nHost: hostile\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, 'latin1');
}

async function runCase(o, c) {
  const tag = c.setup || 'default';
  const port = o.targets[tag];
  if (!port) return [`no tokgate for setup ${JSON.stringify(tag)} (--target ${tag}=PORT)`];
  let bytes;
  try { bytes = expand(c.raw, o.model); } catch (e) { return [`bad raw: ${e.message}`]; }
  const why = judge(c, await exchange(port, bytes, c));
  const g = await exchange(port, goodRequest(o.model), { send: 'once', wait_ms: 30000 });
  if (!g.resp || g.resp.status !== 200)
    why.push(`the good request after it got ${g.resp ? g.resp.status : 'no answer'}: ${g.buf.slice(0, 200).toString('latin1')}`);
  return why;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const { files, cases, errors } = loadCases(o.inputs);
  for (const e of errors) console.log(e);
  let failed = errors.length, next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const why = await runCase(o, c);
      if (why.length) { failed++; console.log(`FAIL ${c.where} ${c.name}: ${why.join('; ')}`); }
    }
  };
  await Promise.all(Array.from({ length: o.jobs }, lane));
  console.log(`hostile: ${cases.length} cases from ${files.length} file(s), ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => { console.log(`FAIL runner: ${e.stack || e}`); process.exit(2); });
