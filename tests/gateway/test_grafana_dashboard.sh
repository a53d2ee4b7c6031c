#!/usr/bin/env bash
# test_grafana_dashboard.sh: docs/grafana-tokgate.json is valid JSON with the
# dashboard's shape (panels with ids, positions and targets), it has a panel
# for each thing the issue asks for (requests by code, refusals by reason,
# admission reserved vs capacity, queue depth, latency p50/p99 from the
# histograms, escalations, thinking cuts, tokens in/out), every metric name
# it queries is a sample name in a live /metrics (tokgate in front of the
# stand-in upstream, after a forwarded and a refused request (max_tokens above the absolute cap: refused in every overflow mode)), and every
# query parses as PromQL (promtool check rules, with Grafana's $__rate_interval
# and $instance substituted). The name check is shown to fail on a made-up name.
source "$(dirname "$0")/lib.sh"
dash="$here/../../docs/grafana-tokgate.json"

start_standin
start_tokgate A --upstream "http://127.0.0.1:$STANDIN_PORT" --discovery-interval 1
G=http://127.0.0.1:$PORT_A
for i in $(seq 1 50); do curl -s "$G/v1/models" | grep -q '"ok"' && break; sleep 0.1; done
curl -s "$G/v1/chat/completions" -d '{"model":"ok","messages":[{"role":"user","content":"hi"}],"max_tokens":4}' >/dev/null
curl -s "$G/v1/chat/completions" -d '{"model":"ok","messages":[{"role":"user","content":"hi"}],"max_tokens":1000000}' >/dev/null
curl -s "$G/metrics" >"$work/metrics.txt"
stop_tokgate A

cat >"$work/check.js" <<'JS'
'use strict';
const fs = require('fs');
const [dashFile, metricsFile, extra] = process.argv.slice(2);
const d = JSON.parse(fs.readFileSync(dashFile, 'utf8'));   // throws: not JSON
const samples = new Set(fs.readFileSync(metricsFile, 'utf8').split('\n')
  .filter((l) => l && l[0] !== '#').map((l) => l.split(/[{ ]/)[0]));
let bad = 0;
const check = (what, ok) => { if (!ok) { bad++; console.log('FAIL: ' + what); } };
check('a dashboard: title, uid, panels', typeof d.title === 'string' && typeof d.uid === 'string' && Array.isArray(d.panels) && d.panels.length > 0);
const ids = new Set();
const exprs = [];
for (const p of d.panels) {
  check('panel ' + p.title + ': unique id', Number.isInteger(p.id) && !ids.has(p.id)); ids.add(p.id);
  check('panel ' + p.title + ': position', p.gridPos && ['x', 'y', 'w', 'h'].every((k) => Number.isInteger(p.gridPos[k])));
  check('panel ' + p.title + ': targets', Array.isArray(p.targets) && p.targets.length > 0 && p.targets.every((t) => t.refId && t.expr));
  for (const t of p.targets || []) exprs.push({panel: p.title, expr: t.expr});
}
for (const v of (d.templating && d.templating.list) || [])
  if (v.query && v.query.query) exprs.push({panel: 'variable ' + v.name, expr: v.query.query});
if (extra) exprs.push({panel: 'made up', expr: extra});
const names = new Set();
for (const e of exprs)
  for (const m of e.expr.matchAll(/\b(?:tokgate|process)_[a-z0-9_]+\b/g)) {
    names.add(m[0]);
    check(e.panel + ': ' + m[0] + ' is in a live /metrics', samples.has(m[0]));
  }
const want = {
  'requests by code': /sum by \(code\) \(rate\(tokgate_requests_total/, 'refusals by reason': /sum by \(reason\) \(rate\(tokgate_refusals_total/,
  'admission reserved': /tokgate_admission_reserved_tokens/, 'admission capacity': /tokgate_admission_capacity_tokens/,
  'queue depth': /tokgate_admission_queue_depth/, 'p50': /histogram_quantile\(0\.5, .*_latency_seconds_bucket/,
  'p99': /histogram_quantile\(0\.99, .*_latency_seconds_bucket/, 'escalations': /tokgate_escalations_total/,
  'thinking cuts': /tokgate_thinking_cuts_total/, 'tokens in/out': /sum by \(direction\) \(rate\(tokgate_tokens_total/,
};
for (const [what, re] of Object.entries(want)) check('a query for ' + what, exprs.some((e) => re.test(e.expr)));
// PromQL for promtool: Grafana's variables replaced
const rules = exprs.filter((e) => !/^label_values\(/.test(e.expr)).map((e, i) => ({record: 'tokgate:check' + i,
  expr: e.expr.replace(/\$__rate_interval/g, '5m').replace(/\$instance/g, '.*')}));
fs.writeFileSync(metricsFile + '.rules.json', JSON.stringify({groups: [{name: 'dashboard', rules}]}));
process.exit(bad ? 1 : 0);
JS
if out=$(node "$work/check.js" "$dash" "$work/metrics.txt" 2>&1); then ok; else fail "dashboard: $out"; fi
if node "$work/check.js" "$dash" "$work/metrics.txt" 'rate(tokgate_no_such_metric_total[5m])' >/dev/null 2>&1; then
  fail "the check accepted a metric name /metrics does not have"
else ok; fi
if command -v promtool >/dev/null; then
  cp "$work/metrics.txt.rules.json" "$work/rules.yml"   # JSON is YAML
  if out=$(promtool check rules "$work/rules.yml" 2>&1); then ok; else fail "promtool check rules: $out"; fi
else
  fail "promtool missing (scripts/setup.sh --test installs prometheus)"
fi
finish
