// tests/gateway/fleet_load.js: the load and the watcher of
// test_gateway_fleet.sh (several tokgates behind HAProxy on one real
// llama-server).
//
//   node fleet_load.js ENGINE_URL FRONT_URL CLIENTS REQUESTS MAX_TOKENS OUT.json
//
// CLIENTS concurrent clients each send REQUESTS chat requests in turn
// through FRONT_URL (HAProxy); meanwhile llama-server itself is watched
// every 10 ms: GET /slots (the slots with is_processing, its own view) and
// GET /metrics (llamacpp:requests_deferred: requests it holds because no
// slot is free, i.e. forwarded beyond its slots). Writes a summary: status
// counts, whether every non-200 carried Retry-After, the most busy slots and
// deferred requests seen, how many samples saw any deferred, the /slots
// round trip (the staleness a reading adds), and requests that got no
// answer at all (lost).
'use strict';
const http = require('http');
const fs = require('fs');
const [engine, front, nClients, nReq, maxTokens, out] = process.argv.slice(2);

function get(url) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    http.get(url, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode, body: b, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    }).on('error', () => resolve({ status: 0, body: '', ms: 0 }));
  });
}

function post(url, body) {
  return new Promise((resolve) => {
    const u = new URL(url);
    const data = JSON.stringify(body);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => resolve({ status: res.statusCode, retryAfter: res.headers['retry-after'], body: b }));
      res.on('error', () => resolve({ status: -1 }));
    });
    req.setTimeout(120000, () => req.destroy());
    req.on('error', () => resolve({ status: -1 }));
    req.end(data);
  });
}

const w = { samples: 0, maxBusy: 0, nSlots: 0, maxDeferred: 0, deferredSamples: 0, slotsMs: [] };
let watching = true;
async function watch() {
  while (watching) {
    const [s, m] = await Promise.all([get(engine + '/slots'), get(engine + '/metrics')]);
    if (s.status === 200) {
      const slots = JSON.parse(s.body);
      w.nSlots = slots.length;
      const busy = slots.filter((x) => x.is_processing).length;
      if (busy > w.maxBusy) w.maxBusy = busy;
      w.slotsMs.push(s.ms);
    }
    const mm = /^llamacpp:requests_deferred\s+([0-9.e+]+)/m.exec(m.body || '');
    if (mm) {
      const d = Number(mm[1]);
      if (d > w.maxDeferred) w.maxDeferred = d;
      if (d > 0) w.deferredSamples++;
    }
    w.samples++;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function client(i) {
  const res = [];
  for (let k = 0; k < Number(nReq); k++) {
    const body = { messages: [{ role: 'user', content: `client ${i} request ${k}: tell me a long story` }],
      max_tokens: Number(maxTokens), temperature: 0, ignore_eos: true };
    res.push(await post(front + '/v1/chat/completions', body));
  }
  return res;
}

(async () => {
  const watcher = watch();
  const t0 = Date.now();
  const all = (await Promise.all(Array.from({ length: Number(nClients) }, (_, i) => client(i)))).flat();
  const wallMs = Date.now() - t0;
  watching = false;
  await watcher;
  const status = {};
  let refusedWithoutRetryAfter = 0, lost = 0, completionTokens = 0;
  for (const r of all) {
    status[r.status] = (status[r.status] || 0) + 1;
    if ((r.status === 503 || r.status === 429) && !r.retryAfter) refusedWithoutRetryAfter++;
    if (r.status <= 0) lost++;
    if (r.status === 200) {
      try { completionTokens += JSON.parse(r.body).usage.completion_tokens; } catch (e) { /* counted as 0 */ }
    }
  }
  const ms = w.slotsMs.sort((a, b) => a - b);
  fs.writeFileSync(out, JSON.stringify({
    requests: all.length, status, refusedWithoutRetryAfter, lost, wallMs, completionTokens,
    samples: w.samples, nSlots: w.nSlots, maxBusy: w.maxBusy, maxDeferred: w.maxDeferred,
    deferredSamples: w.deferredSamples,
    slotsMsMedian: ms.length ? ms[ms.length >> 1] : 0, slotsMsMax: ms.length ? ms[ms.length - 1] : 0,
  }));
})();
