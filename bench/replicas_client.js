// bench/replicas_client.js: the agent-like workload of bench/replicas.sh.
// CONVS conversations run at once, each TURNS turns long; every turn sends
// the whole history (a system prompt shared by all conversations, the
// conversation's task, then every earlier answer and follow-up), as agents
// do. Sums llama-server's own figures from each answer's `timings`:
// cache_n (prompt tokens served from its KV cache) and prompt_n (prompt
// tokens it had to compute). Prints one JSON line.
//   node replicas_client.js PORT TAG [CONVS=8] [TURNS=10] [MAX_TOKENS=24]
'use strict';
const http = require('http');
const [port, tag, convs = 8, turns = 10, maxTokens = 24] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(body) {
  return new Promise((resolve) => {
    const data = JSON.stringify(body);
    const req = http.request({ host: '127.0.0.1', port: +port, path: '/v1/chat/completions', method: 'POST', agent,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) } }, (res) => {
      let s = '';
      res.on('data', (d) => { s += d; });
      res.on('end', () => { try { resolve({ status: res.statusCode, j: JSON.parse(s) }); } catch (e) { resolve({ status: res.statusCode, j: null }); } });
    });
    req.on('error', () => resolve({ status: 0, j: null }));
    req.end(data);
  });
}

const tools = 'You are a coding agent. Tools: read_file(path), write_file(path, text), run(cmd), search(query). ' +
  'Think step by step, call one tool per turn, and report what you found. '.repeat(6);
const sum = { cache_n: 0, prompt_n: 0, completion: 0, turns: 0, errors: 0 };

async function conversation(c) {
  const msgs = [{ role: 'system', content: `[${tag}] ${tools}` },
                { role: 'user', content: `Task ${c}: find why test_${c * 7919 % 1000} fails and fix it.` }];
  for (let t = 0; t < +turns; t++) {
    const r = await post({ messages: msgs, max_tokens: +maxTokens, temperature: 0 });
    const ch = r.j && r.j.choices && r.j.choices[0];
    if (r.status !== 200 || !ch) { sum.errors++; return; }
    if (r.j.timings) { sum.cache_n += r.j.timings.cache_n || 0; sum.prompt_n += r.j.timings.prompt_n || 0; }
    if (r.j.usage) sum.completion += r.j.usage.completion_tokens || 0;
    sum.turns++;
    msgs.push({ role: 'assistant', content: ch.message.content || '' });
    msgs.push({ role: 'user', content: `tool result ${t}: ok, ${t * 3 + c} lines changed; go on.` });
  }
}

(async () => {
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: +convs }, (_, c) => conversation(c)));
  sum.secs = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log(JSON.stringify(sum));
  agent.destroy();
})();
