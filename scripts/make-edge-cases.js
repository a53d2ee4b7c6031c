#!/usr/bin/env node
/*
 * make-edge-cases.js: writes generated edge-case documents for the tokenizer
 * exactness tests (tests/tokenizer/test_hf_corpus.sh), one docset file
 * (format: tests/tokenizer/tgdocs.js). Each case is its own document so a
 * mismatch points at one small input.
 *
 *   node scripts/make-edge-cases.js --out FILE
 *       the generic cases (the same for every tokenizer):
 *       ws-*       whitespace and newline runs of every kind, length 1-20,
 *                  alone and between/around text, pure and mixed
 *       contr-*    contractions in every letter case ('s 'T 'Re 'LL ...),
 *                  ASCII and U+2019 apostrophes, in context
 *       digit-*    digit runs 1-40 (ASCII and other decimal/numeric scripts)
 *       nfd-*      accented text in NFC, NFD, NFKC, NFKD and half-decomposed
 *       mark-*     lone and stacked combining marks in every position
 *       zwj-*      zero-width joiners/non-joiners, every RGI emoji ZWJ
 *                  sequence and every fully-qualified emoji (unicode-data)
 *       char-*     compatibility/casing traps: Kelvin sign, Ohm, Angstrom,
 *                  ligatures, dotted I, final sigma, math alphanumerics ...
 *       script-*   CJK, Arabic, Hebrew, Indic, Thai, ... and mixed scripts
 *       long-*     pathological 100 KB inputs: one character repeated
 *                  (a, space, digits, newline, tab, CRLF, ...), no-space JSON,
 *                  random letters, random Unicode (seeded, deterministic)
 *   node scripts/make-edge-cases.js --tokenizer tokenizer.json --out FILE
 *       the cases of one tokenizer:
 *       vocab-*    every vocabulary token's text alone and between spaces;
 *                  the text is HF's own decode of the single token (so
 *                  byte-level and metaspace tokens become their real text);
 *                  tokens whose text is not valid UTF-8 (partial bytes) are
 *                  skipped
 *       added-*    every added/special token with whitespace of several kinds
 *                  on both sides, glued to text, repeated
 *
 * Deterministic: no clock, no Math.random; a seeded PRNG for the random runs.
 * Run with NODE_PATH=$TG_FIXTURES/node_modules (needs npm `tokenizers` for
 * --tokenizer).
 */
'use strict';
const fs = require('fs');
const path = require('path');
const { writeDocs } = require(path.join(__dirname, '..', 'tests', 'tokenizer', 'tgdocs.js'));

const LONG = 100 * 1024;

function usage(msg) {
  if (msg) process.stderr.write(`make-edge-cases: ${msg}\n`);
  process.stderr.write('usage: make-edge-cases.js [--tokenizer tokenizer.json] --out FILE\n');
  process.exit(2);
}

/* mulberry32: small deterministic PRNG. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/* Repeats unit until the string has at least n UTF-8 bytes, then trims to a
 * whole number of units not exceeding n bytes (at least one unit). */
function runOf(unit, n) {
  const ub = Buffer.byteLength(unit, 'utf8');
  return unit.repeat(Math.max(1, Math.floor(n / ub)));
}

class Docs {
  constructor() { this.list = []; this.seen = new Map(); }
  /* Adds one document; a repeated (name prefix, text) pair is dropped. */
  add(name, text) {
    const key = text;
    const prev = this.seen.get(name.split('-')[0]);
    if (prev && prev.has(key)) return;
    if (!prev) this.seen.set(name.split('-')[0], new Set([key]));
    else prev.add(key);
    this.list.push({ name: `${name}-${this.list.length}`, text });
  }
}

const WS_KINDS = {
  space: ' ', tab: '\t', lf: '\n', crlf: '\r\n', cr: '\r', vt: '\u000b', ff: '\u000c',
  nel: '\u0085', nbsp: '\u00a0', ogham: '\u1680', enquad: '\u2000', thin: '\u2009',
  hair: '\u200a', lsep: '\u2028', psep: '\u2029', nnbsp: '\u202f', mmsp: '\u205f',
  ideo: '\u3000', zwsp: '\u200b', bom: '\ufeff'
};
const CORE_WS = ['space', 'tab', 'lf', 'crlf', 'cr', 'nbsp', 'thin', 'ideo'];

function genWhitespace(d) {
  const contexts = [
    ['alone', (w) => w], ['mid', (w) => `a${w}b`], ['lead', (w) => `${w}word`],
    ['trail', (w) => `word${w}`], ['punct', (w) => `.${w}1`], ['nl', (w) => `x${w}\ny`],
    ['words', (w) => `Hello${w}world${w}again`]
  ];
  for (const [kind, ch] of Object.entries(WS_KINDS)) {
    for (let n = 1; n <= 20; n++) {
      const w = ch.repeat(n);
      for (const [cname, f] of contexts) d.add(`ws-${kind}-${n}-${cname}`, f(w));
    }
  }
  // Mixed: every ordered pair of core kinds, alternating, lengths 1-20.
  for (const k1 of CORE_WS) {
    for (const k2 of CORE_WS) {
      if (k1 === k2) continue;
      for (let n = 1; n <= 20; n++) {
        let w = '';
        for (let i = 0; i < n; i++) w += WS_KINDS[i % 2 ? k2 : k1];
        d.add(`ws-mix-${k1}-${k2}-${n}-alone`, w);
        d.add(`ws-mix-${k1}-${k2}-${n}-mid`, `a${w}b`);
        d.add(`ws-mix-${k1}-${k2}-${n}-trail`, `a${w}`);
      }
    }
  }
  // Runs of one kind followed by another (e.g. spaces then newlines).
  for (const k1 of CORE_WS) {
    for (const k2 of CORE_WS) {
      for (const n of [1, 2, 3, 7]) {
        const w = WS_KINDS[k1].repeat(n) + WS_KINDS[k2].repeat(n);
        d.add(`ws-seq-${k1}-${k2}-${n}`, `x${w}y`);
        d.add(`ws-seq-${k1}-${k2}-${n}-end`, `x${w}`);
      }
    }
  }
  // Random mixtures over every kind.
  const rnd = prng(1);
  const all = Object.values(WS_KINDS);
  for (let i = 0; i < 600; i++) {
    const n = 1 + Math.floor(rnd() * 20);
    let w = '';
    for (let j = 0; j < n; j++) w += all[Math.floor(rnd() * all.length)];
    d.add(`ws-rand-${n}`, i % 3 === 0 ? w : i % 3 === 1 ? `a${w}b` : `${w}z${w}`);
  }
}

function caseVariants(s) {
  let out = [''];
  for (const c of s) {
    const next = [];
    for (const p of out) {
      next.push(p + c.toLowerCase());
      if (c.toUpperCase() !== c.toLowerCase()) next.push(p + c.toUpperCase());
    }
    out = next;
  }
  return out;
}

function genContractions(d) {
  const sfx = ['s', 't', 're', 've', 'm', 'll', 'd'];
  const pre = ['', 'it', 'IT', 'We', ' ', 'x ', "'", '1', '\n'];
  const post = ['', ' x', 's', "'", '.', 'a'];
  for (const apo of ["'", '\u2019']) {
    for (const s of sfx) {
      for (const v of caseVariants(s)) {
        for (const p of pre) {
          for (const q of post) d.add(`contr-${s}`, `${p}${apo}${v}${q}`);
        }
      }
    }
  }
  const sentences = [
    "I'm sure you'll see we're fine; they've said it's Bob's and he'd go.",
    "I'M SURE YOU'LL SEE WE'RE FINE; THEY'VE SAID IT'S BOB'S AND HE'D GO.",
    "i'M sUrE yOu'Ll SeE wE'rE fInE", "don't DON'T Don'T can't won't shan't y'all o'clock",
    "''''s 'sss 's's 'll've 'd've", "rock 'n' roll", "' s ' t", "'", "''", "'s", "'S"
  ];
  for (const s of sentences) d.add('contr-sent', s);
}

const DIGIT_SETS = {
  ascii: '0123456789', arabic: '\u0660\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669',
  persian: '\u06f0\u06f1\u06f2\u06f3\u06f4\u06f5\u06f6\u06f7\u06f8\u06f9',
  deva: '\u0966\u0967\u0968\u0969\u096a\u096b\u096c\u096d\u096e\u096f',
  fullwidth: '\uff10\uff11\uff12\uff13\uff14\uff15\uff16\uff17\uff18\uff19',
  math: '\u{1d7ce}\u{1d7cf}\u{1d7d0}\u{1d7d1}\u{1d7d2}\u{1d7d3}\u{1d7d4}\u{1d7d5}\u{1d7d6}\u{1d7d7}',
  other: '\u00b2\u00b3\u00b9\u00bc\u00bd\u2160\u2161\u216b\u2460\u3007'
};

function genDigits(d) {
  for (const [set, chars] of Object.entries(DIGIT_SETS)) {
    const cs = [...chars];
    for (let n = 1; n <= 40; n++) {
      let run = '';
      for (let i = 0; i < n; i++) run += cs[(i * 7 + 1) % cs.length];
      d.add(`digit-${set}-${n}-alone`, run);
      d.add(`digit-${set}-${n}-space`, ` ${run}`);
      d.add(`digit-${set}-${n}-word`, `abc${run}def`);
      d.add(`digit-${set}-${n}-money`, `$${run}.00`);
      if (set === 'ascii') {
        d.add(`digit-${set}-${n}-sep`, run.replace(/(\d)(?=(\d{3})+$)/g, '$1,'));
        d.add(`digit-${set}-${n}-neg`, `-${run} ${run}`);
      }
    }
  }
  for (const s of ['3.14159', '1e-10', '0x1F', '1,234,567.89', '2024-01-31T12:00:00Z',
    '192.168.0.1', '+1 (555) 123-4567', 'v1.2.3-rc4', '１２３abc', '50%', '1st 2nd 3rd 4th']) {
    d.add('digit-misc', s);
  }
}

const ACCENTED = [
  'Crème brûlée à la française, naïve coöperation, déjà vu, façade.',
  'Größenwahn über Äpfel, Öl und Übermut; ẞ and ß.',
  'Tiếng Việt có nhiều dấu: ắ ằ ẳ ẵ ặ ệ ộ ữ ự.',
  'Mañana, señor; ¿qué pasó? ¡Olé!',
  'Zażółć gęślą jaźń. Příliš žluťoučký kůň úpěl ďábelské ódy.',
  'Ελληνικά: άέήίόύώ ΐΰ ϊϋ.', 'Ålborg Ærø Øresund Å Å',
  '한국어 텍스트를 분해합니다.', 'がぎぐげご ぱぴぷぺぽ ガギグゲゴ パピプペポ',
  'Ṩ̇ q̣̇ é̄ ǖ ǘ ǚ ǜ', 'ﬁ ﬂ ﬀ ﬃ ﬄ ﬅ ﬆ ㎏ ㎞ ① ② ™ ℃ ℉', 'Ａｂｃ　全角　ﾊﾝｶｸ'
];

function genNormalization(d) {
  for (const s of ACCENTED) {
    for (const form of ['NFC', 'NFD', 'NFKC', 'NFKD']) d.add(`nfd-${form}`, s.normalize(form));
    const chars = [...s.normalize('NFC')];
    const half = chars.map((c, i) => (i % 2 ? c.normalize('NFD') : c)).join('');
    d.add('nfd-half', half);
    for (const w of s.normalize('NFD').split(' ')) d.add('nfd-word', w);
  }
}

function genMarks(d) {
  const marks = [];
  for (let c = 0x300; c <= 0x36f; c++) marks.push(String.fromCodePoint(c));
  for (const c of [0x483, 0x591, 0x5b4, 0x64b, 0x651, 0x670, 0x93c, 0x94d, 0x9bc, 0xe31, 0xe48,
    0x1ab0, 0x1dc0, 0x20d0, 0x20e3, 0xfe0f, 0xfe20, 0x1f3fb, 0xe0100, 0x302a, 0x3099]) {
    marks.push(String.fromCodePoint(c));
  }
  for (const m of marks) {
    const hex = m.codePointAt(0).toString(16);
    d.add(`mark-${hex}-alone`, m);
    d.add(`mark-${hex}-space`, ` ${m}`);
    d.add(`mark-${hex}-spaces`, `a ${m} b`);
    d.add(`mark-${hex}-lead`, `${m}abc`);
    d.add(`mark-${hex}-digit`, `1${m}2`);
    d.add(`mark-${hex}-punct`, `!${m}?`);
    d.add(`mark-${hex}-nl`, `\n${m}\n`);
    d.add(`mark-${hex}-rep`, m.repeat(5));
    d.add(`mark-${hex}-letter`, `e${m} o${m}${m}`);
  }
  const rnd = prng(2);
  for (let i = 0; i < 100; i++) {
    let s = '';
    for (let j = 0; j < 8; j++) {
      s += 'aZ 1.'[j % 5];
      const k = Math.floor(rnd() * 6);
      for (let r = 0; r < k; r++) s += marks[Math.floor(rnd() * marks.length)];
    }
    d.add('mark-zalgo', s);
  }
}

function parseSeqFile(file, want) {
  const out = [];
  if (!fs.existsSync(file)) throw new Error(`${file} missing: install Debian package unicode-data`);
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const hash = line.indexOf('#');
    const body = hash >= 0 ? line.slice(0, hash) : line;
    const f = body.split(';');
    if (f.length < 2 || !want(f[1].trim())) continue;
    const cps = f[0].trim().split(/\s+/).filter(Boolean);
    if (cps.length === 0 || cps.some((x) => x.includes('..'))) continue;
    out.push(String.fromCodePoint(...cps.map((x) => parseInt(x, 16))));
  }
  return out;
}

function genZwj(d) {
  const dir = '/usr/share/unicode/emoji';
  const zwj = parseSeqFile(`${dir}/emoji-zwj-sequences.txt`, (t) => t.startsWith('RGI_Emoji_ZWJ'));
  const all = parseSeqFile(`${dir}/emoji-test.txt`, (t) => t === 'fully-qualified' || t === 'minimally-qualified' || t === 'unqualified');
  for (const e of zwj) {
    d.add('zwj-seq-alone', e);
    d.add('zwj-seq-text', `a ${e} b`);
    d.add('zwj-seq-double', `${e}${e}`);
  }
  for (const e of all) {
    d.add('zwj-emoji-alone', e);
    d.add('zwj-emoji-text', `Hi${e}! ${e}`);
  }
  for (const s of ['\u200d', '\u200c', ' \u200d ', 'a\u200db', 'a\u200cb', '\u200d\u200d\u200d',
    'می\u200cخواهم', 'क्\u200dष', 'क्\u200cष', '\u{1f468}\u200d', '\u200d\u{1f468}',
    '\u{1f468}\u200d\u200d\u{1f469}', '\u{1f1fa}\u{1f1f8}\u{1f1e9}\u{1f1ea}\u{1f1fa}',
    '#\ufe0f\u20e3', '1\u20e3', '\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}',
    '\u2764', '\u2764\ufe0e', '\u2764\ufe0f', '\u{1f44d}\u{1f3ff}', '\u{1f3ff}']) {
    d.add('zwj-misc', s);
  }
}

function genChars(d) {
  const chars = ['\u212a', '\u212b', '\u2126', '\u0130', '\u0131', '\u01c5', '\u03c2', '\u1e9e',
    '\u00df', '\ufb01', '\ufb00', '\u2160', '\u2163', '\u2122', '\u00b5', '\u03bc', '\u00c5',
    '\u{1d400}', '\u{1d54a}', '\u00bd', '\u2044', '\u2215', '\uff21', '\u3000', '\u00ad',
    '\u2028', '\u0000', '\u0001', '\u001f', '\u007f', '\u0080', '\u009f', '\ue000', '\u{f0000}',
    '\u{10ffff}', '\ufffd', '\ufffe', '\uffff', '\u{e0001}', '\u{1f600}', '\u0345', '\u1e9b',
    '\u0390', '\u1fd3', '\u037e', '\u0387', '\u2000', '\u2001', '\u2474', '\u32a4', '\u3392',
    '\u1100\u1161\u11a8', '\u0e33', '\u0edc', '\u0f77', '\u2e9f', '\u2f00', '\ufdfa', '\ufdfb'];
  for (const c of chars) {
    const hex = [...c].map((x) => x.codePointAt(0).toString(16)).join('_');
    d.add(`char-${hex}-alone`, c);
    d.add(`char-${hex}-space`, ` ${c} `);
    d.add(`char-${hex}-word`, `ab${c}cd`);
    d.add(`char-${hex}-rep`, c.repeat(3));
    d.add(`char-${hex}-lower`, `${c}elvin ${c.toLowerCase()}${c.toUpperCase()}`);
  }
}

const SCRIPTS = {
  zh: '中文分词测试：我们在北京大学学习自然语言处理。繁體中文測試，資訊處理。',
  ja: '日本語のテキストです。カタカナとひらがな、漢字が混在しています。ｶﾀｶﾅ',
  ko: '한국어 문장입니다. 띄어쓰기가 있습니다.',
  cjkext: '\u{20000}\u{20001}\u{2a6d6}\u{2b740}\u{30000} 𠀀𪜶',
  ar: 'مرحبا بالعالم! هذه جملة عربية مع أرقام ١٢٣ وتشكيل: مُحَمَّدٌ',
  fa: 'این یک متن فارسی است. می‌خواهم',
  he: 'שלום עולם! בְּרֵאשִׁית בָּרָא אֱלֹהִים',
  hi: 'नमस्ते दुनिया! हिन्दी में क्षत्रिय और द्वार।',
  ta: 'வணக்கம் உலகம்! தமிழ் எழுத்து.',
  th: 'สวัสดีชาวโลก ภาษาไทยไม่มีช่องว่างระหว่างคำ',
  ru: 'Привет, мир! Съешь же ещё этих мягких французских булок.',
  el: 'Γειά σου Κόσμε! Ξεσκεπάζω την ψυχοφθόρα βδελυγμία.',
  hy: 'Բարեւ աշխարհ', ka: 'გამარჯობა მსოფლიო', am: 'ሰላም ልዑል', km: 'សួស្តីពិភពលោក',
  bo: 'བཀྲ་ཤིས་བདེ་ལེགས།', mn: 'ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ', chr: 'ᏣᎳᎩ ᎦᏬᏂᎯᏍᏗ', my: 'မင်္ဂလာပါ',
  si: 'ආයුබෝවන්', lo: 'ສະບາຍດີ', ethio: '፩፪፫', vai: 'ꕙꔤ',
  mixed: 'Hello世界مرحباשלום123 Привет🌍 café, naïve: αβγ日本語English한국어',
  bidi: 'abc \u202eRTL override\u202c def \u200fمرحبا\u200e x \u2066iso\u2069',
  code: 'fn main() { let x: Vec<u8> = vec![1,2,3]; println!("{:?}", x); } // 注释',
  url: 'https://example.com/path?query=値&x=1#frag mailto:user@例え.jp',
  punct: '«»„“”‘’‹› —–‐‑ … ・ 。、！？ ¡¿ ‼ ⁇ ※ § ¶ † ‡ • ‰ ′ ″'
};

function genScripts(d) {
  for (const [k, s] of Object.entries(SCRIPTS)) {
    d.add(`script-${k}`, s);
    d.add(`script-${k}-lead`, ` ${s}`);
    d.add(`script-${k}-nl`, `${s}\n${s}\n\n`);
    for (const w of s.split(/\s+/).filter(Boolean)) d.add(`script-${k}-word`, w);
  }
}

function genLong(d) {
  const add = (name, text) => d.add(`long-${name}`, text);
  add('a', runOf('a', LONG));
  add('space', runOf(' ', LONG));
  add('digits', runOf('0123456789', LONG));
  add('one-digit', runOf('7', LONG));
  add('newline', runOf('\n', LONG));
  add('crlf', runOf('\r\n', LONG));
  add('tab', runOf('\t', LONG));
  add('dot', runOf('.', LONG));
  add('e-acute', runOf('é', LONG));
  add('cjk', runOf('中', LONG));
  add('emoji', runOf('\u{1f600}', LONG));
  add('a-space', runOf('a ', LONG));
  add('space-newline', runOf(' ', LONG / 2) + runOf('\n', LONG / 2));
  add('apostrophe-s', runOf("'s", LONG));
  add('nbsp', runOf('\u00a0', LONG));
  add('combining', 'a' + runOf('\u0301', LONG - 1));
  // No-space JSON.
  const rnd = prng(3);
  let json = '';
  let i = 0;
  while (json.length < LONG) {
    json += `{"id":${i},"name":"item${i}","tags":["x${i % 7}","y"],"v":${(rnd() * 1e6).toFixed(3)},` +
      `"ok":${i % 2 ? 'true' : 'false'},"n":null,"s":"a\\"b\\\\c\\u00e9","o":{"k":[${i},${i * 2},-${i}]}},`;
    i++;
  }
  add('json', `[${json.slice(0, -1)}]`);
  // Random letters (ASCII, both cases), no spaces.
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let s = '';
  for (let k = 0; k < LONG; k++) s += letters[Math.floor(rnd() * letters.length)];
  add('random-letters', s);
  // Random words with spaces and punctuation.
  s = '';
  while (s.length < LONG) {
    const n = 1 + Math.floor(rnd() * 12);
    for (let k = 0; k < n; k++) s += letters[Math.floor(rnd() * 26)];
    s += ' .,\n'[Math.floor(rnd() * 4)] + (rnd() < 0.2 ? ' ' : '');
  }
  add('random-words', s);
  // Random Unicode scalar values, weighted towards scripts; no surrogates.
  const ranges = [[0x20, 0x7e], [0xa0, 0x24f], [0x370, 0x52f], [0x590, 0x6ff], [0x900, 0xdff],
    [0xe00, 0xfff], [0x1100, 0x11ff], [0x2000, 0x2bff], [0x3000, 0x30ff], [0x4e00, 0x9fff],
    [0xac00, 0xd7a3], [0xf900, 0xfffd], [0x10000, 0x1ffff], [0x20000, 0x2ffff], [0x0, 0x10ffff]];
  const parts = [];
  let bytes = 0;
  while (bytes < LONG) {
    const [lo, hi] = ranges[Math.floor(rnd() * ranges.length)];
    let cp = lo + Math.floor(rnd() * (hi - lo + 1));
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
    const c = String.fromCodePoint(cp);
    parts.push(c);
    bytes += Buffer.byteLength(c, 'utf8');
  }
  add('random-unicode', parts.join(''));
}

function genGeneric() {
  const d = new Docs();
  genWhitespace(d);
  genContractions(d);
  genDigits(d);
  genNormalization(d);
  genMarks(d);
  genZwj(d);
  genChars(d);
  genScripts(d);
  genLong(d);
  return d.list;
}

async function genTokenizer(file) {
  const { Tokenizer } = require('tokenizers');
  const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const tok = Tokenizer.fromFile(file);
  const d = new Docs();
  const vocab = json.model && json.model.vocab;
  let ids = [];
  let raw = [];
  if (Array.isArray(vocab)) { // Unigram: [[piece, score], ...]
    vocab.forEach((e, i) => { ids.push(i); raw.push(e[0]); });
  } else if (vocab && typeof vocab === 'object') {
    for (const [t, id] of Object.entries(vocab)) { ids.push(id); raw.push(t); }
  }
  const order = ids.map((_, i) => i).sort((a, b) => ids[a] - ids[b]);
  ids = order.map((i) => ids[i]);
  raw = order.map((i) => raw[i]);
  const B = 8192;
  let skipped = 0;
  for (let i = 0; i < ids.length; i += B) {
    const texts = await tok.decodeBatch(ids.slice(i, i + B).map((x) => [x]), false);
    texts.forEach((text, j) => {
      const id = ids[i + j];
      if (text.length === 0 || (text.includes('\ufffd') && !raw[i + j].includes('\ufffd'))) {
        skipped++;
        return;
      }
      d.add(`vocab-${id}-alone`, text);
      d.add(`vocab-${id}-spaced`, ` ${text} `);
    });
  }
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  const around = [
    ['alone', (t) => t], ['sp-l', (t) => ` ${t}`], ['sp-r', (t) => `${t} `], ['sp-both', (t) => ` ${t} `],
    ['sp2', (t) => `  ${t}  `], ['nl', (t) => `\n${t}\n`], ['nl2', (t) => `\n\n${t}\n\n`],
    ['tab', (t) => `\t${t}\t`], ['crlf', (t) => `\r\n${t}\r\n`], ['nbsp', (t) => `\u00a0${t}\u00a0`],
    ['words', (t) => `Hello ${t} world`], ['glued', (t) => `Hello${t}world`], ['twice', (t) => `${t}${t}`],
    ['twice-sp', (t) => `${t} ${t}`], ['mixed', (t) => ` \n\t ${t} \t\n `], ['punct', (t) => `.${t}.`]
  ];
  for (const a of added) {
    if (typeof a.content !== 'string' || a.content.length === 0) continue;
    for (const [n, f] of around) d.add(`added-${a.id}-${n}`, f(a.content));
  }
  process.stderr.write(`make-edge-cases: ${file}: ${ids.length} vocab tokens (${skipped} skipped: not UTF-8 text), ${added.length} added tokens\n`);
  return d.list;
}

async function main() {
  const args = process.argv.slice(2);
  let out = null;
  let tokfile = null;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--out' && i + 1 < args.length) out = args[++i];
    else if (args[i] === '--tokenizer' && i + 1 < args.length) tokfile = args[++i];
    else usage(`unknown argument ${args[i]}`);
  }
  if (!out) usage('--out is required');
  const docs = tokfile ? await genTokenizer(tokfile) : genGeneric();
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  writeDocs(out, docs);
  const bytes = docs.reduce((n, x) => n + Buffer.byteLength(x.text, 'utf8'), 0);
  process.stderr.write(`make-edge-cases: wrote ${docs.length} documents, ${bytes} bytes to ${out}\n`);
}

main().catch((e) => { process.stderr.write(`make-edge-cases: ${e.stack || e}\n`); process.exit(1); });
