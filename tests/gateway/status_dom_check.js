// tests/gateway/status_dom_check.js: checks the /status page as headless
// Chromium rendered it (its --dump-dom output) against the gateway's own
// /v1/limits and /metrics read at the same time (the references), for
// test_gateway_observe.sh. Usage: node status_dom_check.js DOM LIMITS_JSON
// METRICS_TEXT MODEL REASON. Prints one line per failed check; exit 1 if any.
'use strict';
const fs = require('fs');
const [domFile, limitsFile, metricsFile, model, reason] = process.argv.slice(2);
const dom = fs.readFileSync(domFile, 'utf8');
const limits = JSON.parse(fs.readFileSync(limitsFile, 'utf8'));
const metrics = fs.readFileSync(metricsFile, 'utf8');
let bad = 0;
const check = (what, ok) => { if (!ok) { bad++; console.log('FAIL: ' + what); } };
const cells = (tr) => [...tr.matchAll(/<td([^>]*)>(.*?)<\/td>/g)].map((m) => ({cls: m[1], text: m[2].replace(/<[^>]+>/g, '')}));
const metric = (name) => [...metrics.matchAll(new RegExp('^' + name + '\\{[^}]*\\} (\\S+)$', 'gm'))].map((m) => Number(m[1]));

const want = limits.data.find((m) => m.model === model);
const row = (dom.match(new RegExp('<tr data-model="' + model + '">(.*?)</tr>')) || [])[1];
check('the model row is rendered', !!row && !!want && !!want.limit);
if (row && want && want.limit) {
  const c = cells(row);
  check('context/input/output as /v1/limits says', c[1].text === String(want.limit.context) &&
        c[2].text === String(want.limit.input) && c[3].text === String(want.limit.output));
  check('the binding ceiling named', c[4].text === want.binding && / bind/.test(c[4].cls));
  const names = ['native', 'vram', 'throughput', 'upstream'];
  const i = names.indexOf(want.binding);
  check('the binding ceiling\'s value marked', i >= 0 && /bind/.test(c[5 + i].cls) &&
        c[5 + i].text === String(want.ceilings[want.binding]));
}
const up = (dom.match(/<table id="upstreams">.*?<tbody>(.*?)<\/tbody>/s) || [])[1] || '';
const urow = (up.match(/<tr>(.*?)<\/tr>/) || [])[1];
check('an upstream row is rendered', !!urow);
if (urow) {
  const c = cells(urow);
  const reserved = metric('tokgate_admission_reserved_tokens'), capacity = metric('tokgate_admission_capacity_tokens');
  check('reserved tokens as /metrics says (' + c[1].text + ' vs ' + reserved + ')', reserved.length === 1 && reserved[0] > 0 && c[1].text === String(reserved[0]));
  check('capacity as /metrics says (' + c[2].text + ' vs ' + capacity + ')', capacity.length === 1 && capacity[0] > 0 && c[2].text === String(capacity[0]));
  check('share of capacity used', c[3].text.trim() === Math.round(100 * reserved[0] / capacity[0]) + '%');
  check('queue depth', c[4].text === String(metric('tokgate_admission_queue_depth')[0]));
}
const rrow = (dom.match(new RegExp('<tr data-reason="' + reason + '">(.*?)</tr>')) || [])[1];
const rwant = (metrics.match(new RegExp('^tokgate_refusals_total\\{reason="' + reason + '"\\} (\\S+)$', 'm')) || [])[1];
check('the refusal reason row shows /metrics\' count (' + rwant + ')', !!rrow && rwant === '1' && cells(rrow)[1].text === rwant);
for (const id of ['escalations', 'thinking-cuts', 'refusals']) {
  const v = (dom.match(new RegExp('<tr id="c-' + id + '">.*?<td>(.*?)</td>')) || [])[1];
  check('counter ' + id + ' shown', v !== undefined && /^[0-9]+$/.test(v));
}
check('no fetch error shown', /<span id="error" class="err"><\/span>/.test(dom));
process.exit(bad ? 1 : 0);
