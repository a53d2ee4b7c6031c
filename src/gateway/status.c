/*
 * gateway/status.c: /readyz and the /status page.
 *
 * /readyz answers 200 {"status":"ready",...} only when every model section of
 * the config has been discovered (its upstream's last discovery succeeded and,
 * for a section without a name, discovery named its models) and every served
 * model's limits are known; otherwise 503 {"status":"not_ready","models":
 * [{"model","upstream","ready":false,"reason"}...]} naming each model that is
 * not ready and why. /healthz stays a liveness check (the process answers).
 *
 * /status is one HTML page with inline CSS and script and no external
 * assets: the script fetches /v1/limits (each model's limits, the ceilings and
 * which one binds) and /metrics (admission reservation and queue per upstream,
 * escalations, thinking cuts, refusals by reason, tokens) relative to the
 * page's own URL and redraws every 5 s. The page's source is kept here as one
 * string per line (a single literal would pass ISO C's 4095-character limit).
 */
#include "gateway/status.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "gateway/discovery.h"
#include "gateway/models.h"
#include "gateway/server.h"
#include "gateway/upstream.h"
#include "util/buf.h"

/* Why a model (or a section with no model yet) is not ready, or NULL. */
static const char *not_ready_reason(const tg__upinfo *ui, const tg__model *m) {
    if (!ui || !ui->ok) return "upstream not discovered (no successful discovery answer yet)";
    if (!m) return "the upstream lists no model for this section";
    if (!m->name) return "model not named by discovery yet";
    if (!m->have_limits) return "limits not known (no context from the config, the upstream or the model file)";
    return NULL;
}

static void add_model(json_t *arr, const char *model, const char *upstream, const char *why) {
    json_t *o = json_pack("{s:s,s:s,s:b}", "model", model, "upstream", upstream ? upstream : "", "ready", why == NULL);
    if (!o) return;
    if (why) json_object_set_new(o, "reason", json_string(why));
    json_array_append_new(arr, o);
}

int tg__status_readyz(const tg__server *s, struct evbuffer *out) {
    const tg__model_table *t = s->table;
    json_t *arr = json_array();
    int ready = t != NULL && t->cfg != NULL && t->cfg->n_models > 0;
    for (size_t i = 0; t && t->cfg && i < t->cfg->n_models; i++) {
        const tg__model_cfg *mc = &t->cfg->models[i];
        int seen = 0;
        for (size_t k = 0; k < t->n; k++) {
            const tg__model *m = &t->v[k];
            if (m->cfg != mc) continue;
            seen = 1;
            const char *why = not_ready_reason(tg__upinfo_find(s, m->pool->key), m);
            if (why) ready = 0;
            add_model(arr, m->name ? m->name : (mc->name ? mc->name : "(any)"), mc->upstream, why);
        }
        if (!seen) {
            ready = 0;
            add_model(arr, mc->name ? mc->name : "(discovered)", mc->upstream,
                      "no model served for this section yet (upstream not discovered)");
        }
    }
    json_t *o = json_pack("{s:s,s:o}", "status", ready ? "ready" : "not_ready", "models", arr);
    char *txt = o ? tgx_json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (txt) evbuffer_add(out, txt, strlen(txt));
    else evbuffer_add_printf(out, "{\"status\":\"not_ready\"}");
    free(txt);
    return ready ? 200 : 503;
}

static const char *const page[] = {
    "<!doctype html>\n",
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n",
    "<title>tokgate status</title>\n",
    "<style>\n",
    "body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}\n",
    "h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.4em 0 .4em}\n",
    "table{border-collapse:collapse;background:#fff}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}\n",
    "th{background:#eee}td.l,th.l{text-align:left}.bind{font-weight:bold;color:#a40}.err{color:#b00}\n",
    ".bar{display:inline-block;height:.8em;background:#4a8;vertical-align:middle}.muted{color:#777}\n",
    "</style></head><body>\n",
    "<h1>tokgate status</h1>\n",
    "<div class=\"muted\">Updated <span id=\"updated\">never</span> (every 5 s). <span id=\"error\" class=\"err\"></span></div>\n",
    "<h2>Models</h2>\n",
    "<table id=\"models\"><thead><tr><th class=\"l\">model</th><th>context</th><th>input</th><th>output</th>\n",
    "<th class=\"l\">binding ceiling</th><th>native</th><th>vram</th><th>throughput</th><th>upstream</th><th class=\"l\">source</th></tr></thead><tbody></tbody></table>\n",
    "<h2>Upstreams: KV reservation and queue</h2>\n",
    "<table id=\"upstreams\"><thead><tr><th class=\"l\">upstream</th><th>reserved</th><th>capacity</th><th>used</th><th>queue</th>\n",
    "<th>admitted</th><th>waits</th><th>refusals</th></tr></thead><tbody></tbody></table>\n",
    "<h2>Counters</h2>\n",
    "<table id=\"counters\"><tbody></tbody></table>\n",
    "<h2>Refusals by reason</h2>\n",
    "<table id=\"refusals\"><thead><tr><th class=\"l\">reason</th><th>count</th></tr></thead><tbody></tbody></table>\n",
    "<script>\n",
    "\"use strict\";\n",
    "function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = String(text); if (cls) e.className = cls; return e; }\n",
    "function row(tb, cells) { var tr = el(\"tr\"); cells.forEach(function (c) { tr.appendChild(c); }); tb.appendChild(tr); }\n",
    "function num(v) { return v === null || v === undefined ? \"-\" : String(v); }\n",
    "/* Prometheus text: {name: [{labels: {...}, value: n}]} */\n",
    "function parseMetrics(text) {\n",
    "  var out = {};\n",
    "  text.split(\"\\n\").forEach(function (line) {\n",
    "    if (!line || line[0] === \"#\") return;\n",
    "    var m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)\\})?\\s+(\\S+)/.exec(line);\n",
    "    if (!m) return;\n",
    "    var labels = {}, re = /([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"/g, l;\n",
    "    while ((l = re.exec(m[3] || \"\")) !== null) labels[l[1]] = l[2].replace(/\\\\(.)/g, \"$1\");\n",
    "    (out[m[1]] = out[m[1]] || []).push({labels: labels, value: Number(m[4])});\n",
    "  });\n",
    "  return out;\n",
    "}\n",
    "function sum(ms, name) { return (ms[name] || []).reduce(function (a, s) { return a + s.value; }, 0); }\n",
    "function byLabel(ms, name, label) {\n",
    "  var o = {}; (ms[name] || []).forEach(function (s) { var k = s.labels[label] || \"\"; o[k] = (o[k] || 0) + s.value; }); return o;\n",
    "}\n",
    "function renderModels(limits) {\n",
    "  var tb = document.querySelector(\"#models tbody\"); tb.textContent = \"\";\n",
    "  (limits.data || []).forEach(function (m) {\n",
    "    var l = m.limit || {}, c = m.ceilings || {}, b = m.binding || \"\";\n",
    "    var cells = [el(\"td\", m.model, \"l\"), el(\"td\", num(l.context)), el(\"td\", num(l.input)), el(\"td\", num(l.output)),\n",
    "      el(\"td\", m.limit ? b : \"limits not known\", m.limit ? \"l bind\" : \"l err\")];\n",
    "    [\"native\", \"vram\", \"throughput\", \"upstream\"].forEach(function (k) {\n",
    "      cells.push(el(\"td\", num(c[k]), k === b ? \"bind\" : undefined));\n",
    "    });\n",
    "    cells.push(el(\"td\", m.source, \"l\"));\n",
    "    var tr = el(\"tr\"); tr.setAttribute(\"data-model\", m.model); cells.forEach(function (x) { tr.appendChild(x); }); tb.appendChild(tr);\n",
    "  });\n",
    "}\n",
    "function renderUpstreams(ms) {\n",
    "  var tb = document.querySelector(\"#upstreams tbody\"); tb.textContent = \"\";\n",
    "  var res = byLabel(ms, \"tokgate_admission_reserved_tokens\", \"upstream\"), cap = byLabel(ms, \"tokgate_admission_capacity_tokens\", \"upstream\"),\n",
    "      q = byLabel(ms, \"tokgate_admission_queue_depth\", \"upstream\"), adm = byLabel(ms, \"tokgate_admission_admitted_total\", \"upstream\"),\n",
    "      w = byLabel(ms, \"tokgate_admission_waits_total\", \"upstream\"), rf = byLabel(ms, \"tokgate_admission_refusals_total\", \"upstream\");\n",
    "  Object.keys(cap).concat(Object.keys(res)).filter(function (k, i, a) { return a.indexOf(k) === i; }).forEach(function (u) {\n",
    "    var r = res[u] || 0, c = cap[u] || 0, pct = c ? Math.round(100 * r / c) : 0;\n",
    "    var bar = el(\"td\"); var b = el(\"span\", \"\", \"bar\"); b.style.width = Math.min(pct, 100) + \"px\"; bar.appendChild(b); bar.appendChild(el(\"span\", \" \" + pct + \"%\"));\n",
    "    row(tb, [el(\"td\", u, \"l\"), el(\"td\", r), el(\"td\", c), bar, el(\"td\", q[u] || 0), el(\"td\", adm[u] || 0), el(\"td\", w[u] || 0), el(\"td\", rf[u] || 0)]);\n",
    "  });\n",
    "}\n",
    "function renderCounters(ms) {\n",
    "  var tb = document.querySelector(\"#counters tbody\"); tb.textContent = \"\";\n",
    "  var tok = byLabel(ms, \"tokgate_tokens_total\", \"direction\");\n",
    "  [[\"requests\", \"requests\", sum(ms, \"tokgate_requests_total\")], [\"escalations\", \"escalations\", sum(ms, \"tokgate_escalations_total\")],\n",
    "   [\"escalations-continued\", \"escalations continued in place\", sum(ms, \"tokgate_escalations_continued_total\")],\n",
    "   [\"escalations-skipped\", \"escalations skipped (no KV room)\", sum(ms, \"tokgate_escalations_skipped_total\")],\n",
    "   [\"thinking-cuts\", \"thinking cuts\", sum(ms, \"tokgate_thinking_cuts_total\")], [\"refusals\", \"refusals\", sum(ms, \"tokgate_refusals_total\")],\n",
    "   [\"tokens-in\", \"tokens in\", tok[\"in\"] || 0], [\"tokens-out\", \"tokens out\", tok.out || 0], [\"open-streams\", \"open streams\", sum(ms, \"tokgate_open_streams\")]\n",
    "  ].forEach(function (c) { var tr = el(\"tr\"); tr.id = \"c-\" + c[0]; tr.appendChild(el(\"th\", c[1], \"l\")); tr.appendChild(el(\"td\", c[2])); tb.appendChild(tr); });\n",
    "  tb = document.querySelector(\"#refusals tbody\"); tb.textContent = \"\";\n",
    "  var rs = byLabel(ms, \"tokgate_refusals_total\", \"reason\");\n",
    "  Object.keys(rs).sort().forEach(function (k) { var tr = el(\"tr\"); tr.setAttribute(\"data-reason\", k); tr.appendChild(el(\"td\", k, \"l\")); tr.appendChild(el(\"td\", rs[k])); tb.appendChild(tr); });\n",
    "  if (!Object.keys(rs).length) row(tb, [el(\"td\", \"none yet\", \"l muted\"), el(\"td\", 0)]);\n",
    "}\n",
    "/* With API keys on, the page is opened as /status#key=KEY: the key stays in the browser and goes out as a bearer token. */\n",
    "var key = (/(?:^#|&)key=([^&]*)/.exec(location.hash) || [])[1];\n",
    "function get(path) { return fetch(path, {credentials: \"same-origin\", cache: \"no-store\", headers: key ? {Authorization: \"Bearer \" + decodeURIComponent(key)} : {}}).then(function (r) { if (!r.ok) throw new Error(path + \": HTTP \" + r.status); return r; }); }\n",
    "function refresh() {\n",
    "  Promise.all([get(\"v1/limits\").then(function (r) { return r.json(); }), get(\"metrics\").then(function (r) { return r.text(); })])\n",
    "    .then(function (a) {\n",
    "      var ms = parseMetrics(a[1]);\n",
    "      renderModels(a[0]); renderUpstreams(ms); renderCounters(ms);\n",
    "      document.getElementById(\"error\").textContent = \"\";\n",
    "      document.getElementById(\"updated\").textContent = new Date().toISOString();\n",
    "    }).catch(function (e) { document.getElementById(\"error\").textContent = String(e); })\n",
    "    .then(function () { setTimeout(refresh, 5000); });\n",
    "}\n",
    "refresh();\n",
    "</script></body></html>\n",
};

void tg__status_page(struct evbuffer *out) {
    for (size_t i = 0; i < sizeof page / sizeof page[0]; i++) evbuffer_add(out, page[i], strlen(page[i]));
}
