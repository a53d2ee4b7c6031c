// gen_jinja_cases.js: generates tests/template/jinja_cases.json, the expected
// outputs of test_jinja.c, by rendering each case below with the reference,
// @huggingface/jinja (0.5.11). The expected values are the reference's, never
// tokgate's: regenerate after editing the cases with
//   NODE_PATH=$TG_FIXTURES/node_modules TZ=UTC node tests/template/gen_jinja_cases.js
// Each case: [name, template, context]. A case where the reference throws is
// recorded with "error": true (tokgate must refuse it too).
const fs = require('fs');
const path = require('path');
const { Template } = require('@huggingface/jinja');

const FIXED = 1752494400; // 2025-07-14 12:00 UTC, the clock of strftime_now
const RealDate = Date;
globalThis.Date = class extends RealDate {
  constructor(...a) { if (a.length === 0) super(FIXED * 1000); else super(...a); }
  static now() { return FIXED * 1000; }
};

const msgs = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'Hi' },
  { role: 'assistant', content: 'Hello', reasoning_content: 'greet' },
  { role: 'user', content: 'Bye' },
];
const cases = [
  // text and whitespace control (trim_blocks, lstrip_blocks as transformers)
  ['text', 'plain text\n', {}],
  ['trailing_newline_kept_once', 'a\n\n', {}],
  ['trim_blocks', '{% if true %}\nyes\n{% endif %}\nend', {}],
  ['lstrip_blocks', 'a\n    {% if true %}\n    b\n    {% endif %}\nc', {}],
  ['dash_control', 'a   {{- "b" -}}   c\n  {%- if true -%}  d  {%- endif -%}  e', {}],
  ['comment', 'x{# a comment #}y {#- strip -#} z', {}],
  ['expr_lstrip_not', '  {{ "x" }}\n  {{ "y" }}', {}],
  ['generation_tags', 'a {% generation %}b{% endgeneration %} c {%- generation -%} d', {}],
  ['crlf', 'a\r\n{% if true %}\r\nb\r\n{% endif %}\r\n', {}],
  // literals and operators
  ['literals', '{{ 1 }} {{ 1.5 }} {{ "s" }} {{ \'t\' }} {{ [1, "a", none] }} {{ {"k": [true, false]} }}', {}],
  ['tuple_print_fails', '{{ (1, 2) }}', {}],
  ['string_escapes', '{{ "a\\nb\\t\\"c\\" \\\\ \\u00e9\\x41" }}', {}],
  ['adjacent_strings', '{{ "a" "b" \'c\' }}', {}],
  ['arith', '{{ 7 + 2 }} {{ 7 - 2 }} {{ 7 * 2 }} {{ 7 / 2 }} {{ 7 // 2 }} {{ 7 % 2 }} {{ -7 // 2 }} {{ -7 % 2 }} {{ 2 ** 10 }} {{ 2 ** -1 }}', {}],
  ['float_print', '{{ 1.0 }} {{ 2.50 }} {{ 0.1 + 0.2 }} {{ 100.0 }} {{ -0.0 }} {{ 3 / 3 }} {{ 1.5 * 2 }}', {}],
  ['concat', '{{ "a" ~ 1 ~ 1.0 ~ true ~ [1, 2] }} {{ "x" + "y" }} {{ "n" + 2 }}', {}],
  ['compare', '{{ 1 < 2 }} {{ 2 <= 2 }} {{ 3 > 4 }} {{ 1 == 1.0 }} {{ "1" == 1 }} {{ "a" != "b" }} {{ none == x }}', {}],
  ['logic', '{{ 0 or "d" }} {{ 1 and "e" }} {{ [] or {} }} {{ not [] }} {{ not "a" }} {{ "" and 1 }}', {}],
  ['in_operator', '{{ "a" in "cat" }} {{ 2 in [1, 2] }} {{ "k" in {"k": 1} }} {{ "z" not in ["a"] }} {{ 1.0 in [1] }} {{ "x" in undefined_thing }}', {}],
  ['ternary_select', '{{ "y" if true else "n" }} {{ "y" if false else "n" }} [{{ "s" if false }}] {{ 1 if 0 else 2 if 0 else 3 }}', {}],
  ['unary', '{{ -3 }} {{ +3 }} {{ -(2 + 3) }} {{ - 1.5 }} {{ -true }}', {}],
  // variables and undefined
  ['undefined_prints_empty', '[{{ nope }}][{{ nope.attr }}][{{ none }}]', {}],
  ['undefined_tests', '{{ nope is defined }} {{ nope is undefined }} {{ x is defined }} {{ x is none }} {{ nope.a is defined }}', { x: null }],
  ['undefined_arith_fails', '{{ nope + 1 }}', {}],
  ['null_concat_fails', '{{ x ~ "a" }}', { x: null }],
  ['member_access', '{{ m.role }} {{ m["content"] }} {{ l[0] }} {{ l[-1] }} {{ l[9] }} {{ s[1] }} {{ l.length }} {{ s.length }}', { m: msgs[1], l: [1, 2, 3], s: 'héllo' }],
  ['dict_method_fallback', '{{ d.items() }} {{ d.keys is defined }}', { d: { a: 1 } }],
  // slicing
  ['slices', '{{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[1:-1] }} {{ s[::-1] }} {{ s[1:3] }} {{ l[5:1:-2] }}', { l: [0, 1, 2, 3, 4, 5, 6], s: 'abcdé' }],
  // statements
  ['for_loop_vars', '{% for x in l %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}[{{ loop.previtem }}|{{ loop.nextitem }}] {% endfor %}', { l: ['a', 'b', 'c'] }],
  ['for_else', '{% for x in l %}{{ x }}{% else %}empty{% endfor %}', { l: [] }],
  ['for_filter', '{% for x in l if x % 2 == 0 %}{{ x }}{{ loop.index }},{% endfor %}', { l: [1, 2, 3, 4, 5, 6] }],
  ['for_dict_and_items', '{% for k in d %}{{ k }};{% endfor %}{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}', { d: { b: 1, a: 2, '2': 'x', '10': 'y' } }],
  ['for_break_continue', '{% for x in l %}{% if x == 2 %}{% continue %}{% endif %}<{{ x }}>{% if x == 4 %}{% break %}{% endif %}{% endfor %}', { l: [1, 2, 3, 4, 5] }],
  ['break_discards_iteration', '{% for x in l %}a{{ x }}{% if x == 2 %}{% break %}{% endif %}b{% endfor %}', { l: [1, 2, 3] }],
  ['for_scope', '{% set x = 1 %}{% for i in [1, 2] %}{% set x = x + i %}{{ x }}{% endfor %}{{ x }}', {}],
  ['namespace', '{% set ns = namespace(n=0, found=false) %}{% for i in [1, 2, 3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }} {{ ns.found }} {{ ns }}', {}],
  ['if_elif_else', '{% for v in [1, 2, 3] %}{% if v == 1 %}one{% elif v == 2 %}two{% else %}other{% endif %} {% endfor %}', {}],
  ['set_block', '{% set x %}a{{ 1 + 1 }}b{% endset %}[{{ x }}]', {}],
  ['set_tuple', '{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c, d = "xy", 3 %}{{ c }}{{ d }}', {}],
  ['macro_defaults_kwargs', '{% macro m(a, b="B", c=none) %}[{{ a }}|{{ b }}|{{ c }}]{% endmacro %}{{ m(1) }}{{ m(1, 2) }}{{ m(1, c=3) }}{{ m(a=4) }}', {}],
  ['macro_caller', '{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap("b") %}inner {{ 1 }}{% endcall %}', {}],
  ['macro_recursive', '{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n }}*{{ fact(n - 1) }}{% endif %}{% endmacro %}{{ fact(5) }}', {}],
  ['macro_varargs_kwargs', '{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k="v") }}', {}],
  ['macro_too_many_args', '{% macro f(a) %}{{ a }}{% endmacro %}{{ f(1, 2) }}', {}],
  ['filter_block', '{% filter upper %}abc {{ "d" }}{% endfilter %}', {}],
  ['raise_exception', '{% if true %}{{ raise_exception("bad role: " ~ "x") }}{% endif %}', {}],
  ['unknown_tag', '{% include "x" %}', {}],
  ['unknown_filter', '{{ "a" | frobnicate }}', {}],
  ['unknown_test', '{{ 1 is frobnicated }}', {}],
  ['unclosed_if', '{% if true %}abc', {}],
  ['bad_escape', '{{ "\\d" }}', {}],
  // tests
  ['tests', '{{ 1 is odd }}{{ 2 is even }}{{ "a" is string }}{{ d is mapping }}{{ l is iterable }}{{ "s" is iterable }}{{ d is iterable }}{{ l is sequence }}{{ 1 is number }}{{ 1.5 is integer }}{{ true is boolean }}{{ false is false }}{{ true is true }}{{ "ab" is lower }}{{ "AB" is upper }}{{ none is none }}{{ d is not mapping }}', { d: { a: 1 }, l: [1] }],
  // filters
  ['filter_tojson', '{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(separators=(",", ":")) }}|{{ d | tojson(sort_keys=true) }}|{{ d | tojson(ensure_ascii=true) }}|{{ [] | tojson(indent=2) }}|{{ {} | tojson(indent=4) }}', { d: { z: 'é"\\\n<\u0001', a: [1, 2.5, null, true, { b: [] }], emoji: '🚀', B_key: 1, _x: 0, a1: 'x' } }],
  ['filter_tojson_numbers', '{{ [1.0, 0.5, 123456789012, 100, -2.5] | tojson }} {{ nums | tojson }} {{ nums }}', { nums: [1e21, 1e-7, 0.1, 5e-324, 1.7976931348623157e308, 123.456, -1e-6] }],
  ['filter_string_ops', '{{ "  a b  " | trim }}|{{ "abc" | upper }}|{{ "ABC" | lower }}|{{ "hello world-x" | title }}|{{ "hELLO" | capitalize }}|{{ "aXbX" | replace("X", "-") }}|{{ "abc" | length }}|{{ "x" | string }}', {}],
  ['filter_indent', '{{ "a\\nb\\n\\nc" | indent }}|{{ "a\\nb" | indent(2, true) }}|{{ "a\\n\\nb" | indent(width=3, blank=true) }}', {}],
  ['filter_list_ops', '{{ l | length }} {{ l | first }} {{ l | last }} {{ l | reverse }} {{ l | sort }} {{ l | unique }} {{ l | join(",") }} {{ l | join }} {{ l | list }} {{ l | string }}', { l: [3, 1, 2, 3] }],
  ['filter_join_strings', '{{ ["a", "b"] | join(", ") }} {{ "abc" | join("-") }} {{ [1, none, "x"] | join("|") }}', {}],
  ['filter_map_select', '{{ ms | map(attribute="role") | list }} {{ ms | selectattr("role", "equalto", "user") | map(attribute="content") | join(",") }} {{ ms | rejectattr("role", "equalto", "user") | length }} {{ ms | selectattr("reasoning_content") | length }} {{ ms | selectattr("reasoning_content", "defined") | length }}', { ms: msgs }],
  ['filter_map_default', '{{ ms | map(attribute="name", default="anon") | join(",") }}', { ms: msgs }],
  ['filter_default', '{{ nope | default("d") }} {{ "" | default("e") }} {{ "" | default("f", true) }} {{ x | default("g", boolean=true) }} {{ 0 | default(1) }}', { x: null }],
  ['filter_numbers', '{{ "42" | int }} {{ "4.7" | float }} {{ "x" | int }} {{ "x" | int(7) }} {{ 3.9 | int }} {{ -3 | abs }} {{ 2 | float }} {{ true | int }} {{ "12abc" | int }}', {}],
  ['filter_items_dictsort', '{% for k, v in d | items %}{{ k }}{{ v }}{% endfor %} {{ d | dictsort }} {{ d.dictsort(by="value", reverse=true) }}', { d: { b: 2, a: 3, C: 1 } }],
  ['filter_sort_attribute', '{{ ms | sort(attribute="content") | map(attribute="content") | join(",") }} {{ ["b", "A", "c"] | sort }} {{ ["b", "A", "c"] | sort(reverse=true, case_sensitive=true) }}', { ms: msgs }],
  ['filter_in_condition', '{% if l | length > 2 and "x" in l | join %}yes{% endif %}', { l: ['x', 'y', 'z'] }],
  ['safe_and_bool', '{{ "<b>" | safe }} {{ true | bool }} {{ false | string }}', {}],
  ['filter_on_undefined_fails', '{{ nope | length }}', {}],
  // methods
  ['string_methods', '{{ "Hello".startswith("He") }} {{ "Hello".endswith(("x", "lo")) }} {{ "a,b,,c".split(",") }} {{ "a b  c ".split() }} {{ "a-b-c".split("-", 1) }} {{ "  x  ".strip() }}|{{ "  x  ".lstrip() }}|{{ "  x  ".rstrip() }}|{{ "xxhixx".strip("x") }}', {}],
  ['string_methods2', '{{ "aaa".replace("a", "b", 2) }} {{ "abc".replace("", "-") }} {{ "hi there".title() }} {{ "abc".upper() }} {{ "ÀBC".lower() }} {{ "élan".capitalize() }}', {}],
  ['dict_methods', '{{ d.get("a") }} {{ d.get("z", "dflt") }} {{ d.get("z") }} {{ d.keys() }} {{ d.values() }} {{ d.items() }}', { d: { a: 1, b: [2] } }],
  ['range_and_strftime', '{{ range(3) }} {{ range(1, 7, 2) }} {{ range(5, 0, -2) }} {{ strftime_now("%Y-%m-%d %H:%M %b %B %%") }}', {}],
  ['content_parts', '{% for m in ms %}{% if m.content is string %}{{ m.content }}{% else %}{% for p in m.content %}{{ p.text }}{% endfor %}{% endif %};{% endfor %}', { ms: [{ content: 'a' }, { content: [{ type: 'text', text: 'b' }, { type: 'text', text: 'c' }] }] }],
  ['chatml', "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}", { messages: msgs, add_generation_prompt: true }],
  ['unicode_length', '{{ "héllo" | length }} {{ "日本" | length }} {{ "a😀" | length }}', {}],
  ['nested_data', '{{ data.a.b[1].c }} {{ data["a"]["b"][0] }}', { data: { a: { b: [0, { c: 'deep' }] } } }],
  ['json_int_like_keys', '{{ d | tojson }} {% for k in d %}{{ k }}{% endfor %}', { d: { b: 1, '3': 2, '1': 3, '01': 4, a: 5 } }],
];

const out = [];
for (const [name, template, context] of cases) {
  let expect = null; let error = false; let message = '';
  try { expect = new Template(template).render(context); } catch (e) { error = true; message = String(e.message || e); }
  out.push(error ? { name, template, context, error, message } : { name, template, context, expect });
}
const dst = path.join(__dirname, 'jinja_cases.json');
fs.writeFileSync(dst, JSON.stringify({
  generated_by: 'tests/template/gen_jinja_cases.js with @huggingface/jinja 0.5.11, TZ=UTC, clock fixed at ' + FIXED,
  clock: FIXED,
  cases: out,
}, null, 1) + '\n');
console.log(`${out.length} cases, ${out.filter((c) => c.error).length} expected errors -> ${dst}`);
