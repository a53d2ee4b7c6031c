#!/usr/bin/env python3
"""gen_unicode_tables.py: writes src/tokenizer/unicode_class_table.c, the
per-code-point class flags the pre-tokenizer fast paths (pretok_fast.c) use.

Reads Debian's unicode-data package (/usr/share/unicode: UnicodeData.txt,
DerivedAge.txt) with the Python standard library only:

    python3 scripts/gen_unicode_tables.py [--data DIR] [--max-age 14.0] \
        [--out src/tokenizer/unicode_class_table.c]

Why --max-age: the fast path must agree exactly with the general path, which is
PCRE2 10.42 (Debian 12), whose built-in tables are Unicode 14.0.0, while
Debian 12's unicode-data is 15.0.0. Code points first assigned after the given
version (DerivedAge) are treated as unassigned (Cn), which reproduces
PCRE2's view exactly for every class below (checked code point by code point
against PCRE2 by tests/tokenizer/test_pretok_fast.c).

Flags (see unicode_class.h):
  L   \\p{L}                      N   \\p{N}
  S   \\s as PCRE2 defines it with PCRE2_UCP: its fixed horizontal-space list
      (U+0009 U+0020 U+00A0 U+1680 U+180E U+2000..U+200A U+202F U+205F U+3000),
      its vertical-space list (U+000A..U+000D U+0085 U+2028 U+2029), and any
      code point of general category Z (pcre2_xclass.c / pcre2_match.c,
      PT_SPACE). Note U+180E and U+0085 are in even though they are Cf/Cc.
  UP  [\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]   (o200k's "upper" word class)
  LO  [\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]          (o200k's "lower" word class)
  M   \\p{M}
"""
import argparse
import os
import re
import sys

F_L, F_N, F_S, F_UP, F_LO, F_M = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20
PCRE2_HSPACE = [0x09, 0x20, 0xA0, 0x1680, 0x180E] + list(range(0x2000, 0x200B)) + [0x202F, 0x205F, 0x3000]
PCRE2_VSPACE = [0x0A, 0x0B, 0x0C, 0x0D, 0x85, 0x2028, 0x2029]
MAXCP = 0x110000
SHIFT = 8


def parse_range(field):
    if '..' in field:
        lo, hi = field.split('..')
        return int(lo, 16), int(hi, 16)
    return int(field, 16), int(field, 16)


def load(data, max_age):
    gc = {}
    first = None
    with open(os.path.join(data, 'UnicodeData.txt'), encoding='utf-8') as f:
        for line in f:
            fields = line.rstrip('\n').split(';')
            cp, name, cat = int(fields[0], 16), fields[1], fields[2]
            if name.endswith(', First>'):
                first = cp
                continue
            if name.endswith(', Last>'):
                for c in range(first, cp + 1):
                    gc[c] = cat
                first = None
            else:
                gc[cp] = cat
    age = {}
    version = None
    with open(os.path.join(data, 'DerivedAge.txt'), encoding='utf-8') as f:
        for line in f:
            m = re.match(r'# DerivedAge-(\d+\.\d+\.\d+)\.txt', line)
            if m:
                version = m.group(1)
            body = line.split('#')[0].strip()
            if not body:
                continue
            rng, a = [x.strip() for x in body.split(';')]
            lo, hi = parse_range(rng)
            for c in range(lo, hi + 1):
                age[c] = a
    if max_age is not None:
        lim = tuple(int(x) for x in max_age.split('.'))
        for c in list(gc):
            a = age.get(c)
            if a is None or tuple(int(x) for x in a.split('.')) > lim:
                del gc[c]
    return gc, version


def flags_for(gc):
    fl = bytearray(MAXCP)
    for c, cat in gc.items():
        v = 0
        if cat[0] == 'L':
            v |= F_L
        if cat[0] == 'N':
            v |= F_N
        if cat[0] == 'Z':
            v |= F_S
        if cat[0] == 'M':
            v |= F_M
        if cat in ('Lu', 'Lt', 'Lm', 'Lo') or cat[0] == 'M':
            v |= F_UP
        if cat in ('Ll', 'Lm', 'Lo') or cat[0] == 'M':
            v |= F_LO
        fl[c] = v
    for c in PCRE2_HSPACE + PCRE2_VSPACE:
        fl[c] |= F_S
    return fl


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='/usr/share/unicode')
    ap.add_argument('--max-age', default='14.0',
                    help="drop code points assigned after this Unicode version ('none' keeps all)")
    ap.add_argument('--out', default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                   '..', 'src', 'tokenizer', 'unicode_class_table.c'))
    args = ap.parse_args()
    max_age = None if args.max_age == 'none' else args.max_age
    gc, version = load(args.data, max_age)
    fl = flags_for(gc)

    block = 1 << SHIFT
    blocks = {}
    order = []
    stage1 = []
    for start in range(0, MAXCP, block):
        b = bytes(fl[start:start + block])
        if b not in blocks:
            blocks[b] = len(order)
            order.append(b)
        stage1.append(blocks[b])
    if len(order) > 65535:
        sys.exit('too many blocks')

    counts = {name: sum(1 for v in fl if v & bit) for name, bit in
              (('L', F_L), ('N', F_N), ('S', F_S), ('UP', F_UP), ('LO', F_LO), ('M', F_M))}
    out = []
    w = out.append
    w('/*')
    w(' * unicode_class_table.c: GENERATED by scripts/gen_unicode_tables.py; do not edit.')
    w(' * Regenerate: python3 scripts/gen_unicode_tables.py --max-age %s' % (args.max_age,))
    w(' * Source: Debian unicode-data, Unicode %s (UnicodeData.txt, DerivedAge.txt),' % version)
    w(' * restricted to code points assigned in Unicode <= %s.' % (args.max_age,))
    w(' *')
    w(' * Why Unicode 14.0: the general pre-tokenizer path is PCRE2 10.42, whose tables')
    w(' * are Unicode 14.0.0; the fast paths must match it exactly. Measured on this')
    w(' * machine: PCRE2 10.42 classes == these tables for every code point (L, N, M,')
    w(' * \\s and the o200k word classes, checked by test_pretok_fast.c; Lu, Ll, Lt, Lm,')
    w(' * Lo also probed one by one). HF tokenizers 0.23.2')
    w(' * (Oniguruma) uses Unicode 16.0 (e.g. U+1C89, U+2EBF0 are \\p{L} there, Cn in')
    w(' * PCRE2; none of 17.0) and its \\s is White_Space, which lacks U+180E (PCRE2')
    w(' * includes it): 9,486 code points differ in \\p{L}, \\p{N}, \\p{M} or \\s (scripts/')
    w(' * probe_unicode_versions.js). No token of the Qwen3, Llama-3 or Gemma-3 vocab')
    w(' * contains one; text that does may pre-tokenize differently from HF.')
    w(' *')
    w(' * Layout: flags(cp) = tg__uc_stage2[tg__uc_stage1[cp >> %d] << %d | (cp & %d)].' % (SHIFT, SHIFT, block - 1))
    w(' * Counts: ' + ', '.join('%s=%d' % kv for kv in counts.items()) + '; %d unique blocks.' % len(order))
    w(' */')
    w('#include "tokenizer/unicode_class.h"')
    w('')
    w('const uint16_t tg__uc_stage1[%d] = {' % len(stage1))
    for i in range(0, len(stage1), 16):
        w('    ' + ', '.join('%d' % x for x in stage1[i:i + 16]) + ',')
    w('};')
    w('')
    w('const uint8_t tg__uc_stage2[%d] = {' % (len(order) * block))
    for bi, b in enumerate(order):
        w('    /* block %d */' % bi)
        for i in range(0, block, 32):
            w('    ' + ','.join('%d' % x for x in b[i:i + 32]) + ',')
    w('};')
    with open(args.out, 'w', encoding='utf-8') as f:
        f.write('\n'.join(out) + '\n')
    print('wrote %s: Unicode %s <= %s, %d blocks, %s' % (args.out, version, args.max_age, len(order), counts))


if __name__ == '__main__':
    main()
