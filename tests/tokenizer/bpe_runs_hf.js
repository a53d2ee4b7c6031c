// bpe_runs_hf.js: expected ids from HF tokenizers for long runs of one
// symbol under merge lists in any order, for tests/tokenizer/test_bpe_runs_hf.c.
//
// usage: node bpe_runs_hf.js OUT_DIR
// Writes small BPE tokenizers OUT_DIR/<name>.json over the symbols a, b, c
// (tokens "a" x 1..L, "b", "c", "ba", "ac"; no normalizer or pre-tokenizer:
// a text is one word) whose merges of runs of "a" come in Gemma-3's order
// (longest left part first), in random orders and random subsets, and in
// training order, then prints per text one JSON line {"tok", "text", "ids"}
// with HF's ids. The texts are runs of "a" of every length 1..700 and some
// long ones, and runs with a "b" before and a "c" after or in the middle:
// what bpe_runs.c's batches, window and cycles handle (and hand back).
// Then texts of random words under merge lists of random joins (plain, and
// byte-level: see below).
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (Math.imul(s, 1103515245) + 12345) >>> 0; return s / 4294967296; };
}
function shuffle(a, r) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}
const A = (n) => 'a'.repeat(n);

function build(L, pairs, extraAt) {
  const vocab = {};
  ['b', 'c', 'ba', 'ac'].forEach((t) => { vocab[t] = Object.keys(vocab).length; });
  for (let j = 1; j <= L; j++) vocab[A(j)] = Object.keys(vocab).length;
  const merges = pairs.map(([i, j]) => [A(i), A(j)]);
  // (b, a) and (a, c) at a given place in the list
  merges.splice(Math.min(extraAt, merges.length), 0, ['b', 'a'], ['a', 'c']);
  return {
    version: '1.0', truncation: null, padding: null, added_tokens: [], normalizer: null,
    pre_tokenizer: null, post_processor: null, decoder: null,
    model: {
      type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null,
      end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, ignore_merges: false,
      vocab, merges,
    },
  };
}

function allPairs(L) {
  const p = [];
  for (let i = 1; i < L; i++) for (let j = 1; i + j <= L; j++) p.push([i, j]);
  return p;
}

const [outDir] = process.argv.slice(2);
const toks = [];
for (const L of [7, 31]) { // Gemma-3: (L-1, 1), (L-2, 2), (L-2, 1), ...
  const p = [];
  for (let i = L - 1; i >= 1; i--) for (let j = L - i; j >= 1; j--) p.push([i, j]);
  toks.push([`gemma_order_${L}`, build(L, p, 3)]);
}
toks.push(['training_order', build(16, allPairs(16).sort((x, y) => (x[0] + x[1]) - (y[0] + y[1]) || x[0] - y[0]), 0)]);
for (let seed = 1; seed <= 9; seed++) {
  const r = rng(seed);
  const L = [5, 8, 12, 9, 17, 6, 31, 24, 40][seed - 1];
  toks.push([`random_order_${seed}`, build(L, shuffle(allPairs(L), r), Math.floor(r() * 10))]);
  const sub = allPairs(L).filter(() => r() < 0.6);
  if (!sub.some(([i, j]) => i === 1 && j === 1)) sub.push([1, 1]);
  toks.push([`random_subset_${seed}`, build(L, shuffle(sub, r), Math.floor(r() * 10))]);
}

// Random words (longword): tokenizers over "a".."d" whose tokens are joins of
// two random earlier tokens, merges in the order made (every merge after the
// merges of its parts: the rank buckets never hand back) or shuffled (pairs
// of a lower rank appear as merges happen: the buckets hand the word to the
// heap), texts of random letters past the buckets' 1024 symbols. The
// merge core's pair filter answers every lookup of these words.
// Up to n merges joining two tokens of `list` picked by pick() into a new
// token of at most maxLen chars, each added to vocab and list.
function joins(vocab, list, n, maxLen, pick) {
  const merges = [];
  for (let tries = 0; merges.length < n && tries < 50 * n; tries++) {
    const l = pick(), rt = pick();
    const j = l + rt;
    if (j.length > maxLen || j in vocab) continue;
    vocab[j] = Object.keys(vocab).length;
    list.push(j);
    merges.push([l, rt]);
  }
  return merges;
}
function buildRandom(seed, n, shuffled) {
  const r = rng(seed);
  const vocab = {};
  const list = ['a', 'b', 'c', 'd'];
  list.forEach((t) => { vocab[t] = Object.keys(vocab).length; });
  const merges = joins(vocab, list, n, 10, () => list[Math.floor(r() * list.length)]);
  if (shuffled) shuffle(merges, r);
  const t = build(1, [], 0);
  t.model.vocab = vocab;
  t.model.merges = merges;
  return t;
}
function randomWords(seed) {
  const r = rng(seed), out = [];
  for (const n of [1023, 1024, 1500, 2049, 4096, 9001]) {
    let w = '';
    const bias = r() < 0.5; // half of them mostly "a": longer tokens, more merges
    while (w.length < n) w += bias && r() < 0.6 ? 'a' : 'abcd'[Math.floor(r() * 4)];
    out.push(w);
  }
  return out;
}

const texts = [];
for (let n = 1; n <= 700; n++) texts.push(A(n));
for (const n of [997, 1023, 1024, 2048, 4099, 10007]) texts.push(A(n));
for (let n = 40; n <= 400; n += 9) {
  texts.push('b' + A(n) + 'c');
  texts.push(A(n) + 'c' + A(n + 5));
  texts.push('b' + A(n) + 'b' + A(2 * n + 1) + 'c');
}

for (let seed = 1; seed <= 8; seed++) {
  const t = buildRandom(100 + seed, [40, 200, 600, 1500][seed % 4], seed > 4);
  toks.push([`random_words_${seed > 4 ? 'shuffled' : 'made'}_${seed}`, t, randomWords(200 + seed)]);
}

// Byte-level random words (longword): the same joins over an alphabet of m
// printable ASCII chars (each its own byte-level char) with a ByteLevel
// pre-tokenizer that keeps the text one word, so its symbols are its bytes:
// bpe.c's byte_tab (a table of the pairs of the word's distinct bytes,
// for m <= 64 and 4 m^2 <= length) against the merge cache path. Lengths
// around the buckets' 1024 and around 4 m^2; m around 64.
const PRINT = Array.from({ length: 94 }, (_, i) => String.fromCharCode(0x21 + i)).join('');
function buildBytes(seed, m, n, shuffled) {
  const r = rng(seed);
  const alpha = shuffle(PRINT.split(''), r).slice(0, m);
  const vocab = {};
  const list = alpha.slice();
  list.forEach((t) => { vocab[t] = Object.keys(vocab).length; });
  // joins lean on the first tokens (more merges apply) but reach any of them
  const merges = joins(vocab, list, n, 8, () => list[Math.floor((r() < 0.5 ? r() * r() : r()) * list.length)]);
  if (shuffled) shuffle(merges, r);
  const t = build(1, [], 0);
  t.model.vocab = vocab;
  t.model.merges = merges;
  t.pre_tokenizer = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  t.decoder = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false };
  const words = [];
  const lens = [1023, 1024, 1025, 4 * m * m - 1, 4 * m * m, 4 * m * m + 1].filter((x) => x <= 40000);
  for (const len of lens) {
    let w = '';
    while (w.length < len) w += alpha[Math.floor(r() * m)];
    words.push(w);
  }
  return [t, words];
}
[[4, 300], [16, 800], [16, 3000], [52, 2500], [63, 2000], [64, 3000], [65, 2000], [94, 1500]].forEach(([m, n], i) => {
  for (const shuffled of [false, true]) {
    const [t, words] = buildBytes(300 + 2 * i + (shuffled ? 1 : 0), m, n, shuffled);
    toks.push([`byte_words_${m}_${n}_${shuffled ? 'shuffled' : 'made'}`, t, words]);
  }
});

(async () => {
  for (const [name, j, own] of toks) {
    const file = path.join(outDir, name + '.json');
    fs.writeFileSync(file, JSON.stringify(j));
    const t = Tokenizer.fromFile(file);
    for (const text of own || texts) {
      const e = await t.encode(text, null, { addSpecialTokens: false });
      process.stdout.write(JSON.stringify({ tok: name, text, ids: Array.from(e.getIds()) }) + '\n');
    }
  }
})().catch((e) => { console.error(e); process.exit(1); });
