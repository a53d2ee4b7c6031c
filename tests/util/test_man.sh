#!/usr/bin/env bash
# test_man.sh: the man pages man/tokgate.1 and man/tokgate.conf.5.
#  - they render without a single warning: groff -man -ww -z, and man-db's
#    `man --warnings -l` (what lintian runs);
#  - tokgate(1) has a section (.SS "tokgate VERB") for every verb of the
#    table in src/cli/main.c and for every verb `tokgate --help` lists, and
#    every flag that `tokgate VERB --help` prints appears in that section;
#  - tokgate.conf(5) has an entry (a .TP tag) for every key of docs/gateway.md's
#    key table: the table generated from src/gateway/options.c (between the
#    config-keys markers) when it is there, each with its flag and no entry
#    the table lacks; else the hand-written table's keys.
# A negative control checks that a flag or key the pages lack is reported.
set -euo pipefail
src=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${TG_BIN:-$src/build/tokgate}
fail() { echo "FAIL: $*" >&2; exit 1; }
command -v groff >/dev/null || fail "groff missing: bash scripts/setup.sh --test (groff-base)"
command -v man >/dev/null || fail "man missing: bash scripts/setup.sh --test (man-db)"
[ -x "$bin" ] || fail "no tokgate binary at $bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. No warnings from groff or man.
for page in "$src/man/tokgate.1" "$src/man/tokgate.conf.5"; do
  groff -man -ww -z "$page" 2>"$tmp/groff.err" || fail "groff failed on $page: $(cat "$tmp/groff.err")"
  [ ! -s "$tmp/groff.err" ] || { cat "$tmp/groff.err" >&2; fail "groff -ww warns on $page"; }
  LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l "$page" >"$tmp/man.out" 2>"$tmp/man.err" ||
    fail "man -l failed on $page: $(cat "$tmp/man.err")"
  [ ! -s "$tmp/man.err" ] || { cat "$tmp/man.err" >&2; fail "man --warnings warns on $page"; }
  [ -s "$tmp/man.out" ] || fail "man -l rendered nothing for $page"
done

# 2. Verbs and flags. The --help text of each verb, as the binary prints it.
verbs=$(sed -n 's/^ *{"\([a-z-]*\)", *tg_cmd_[a-z_]*,.*/\1/p' "$src/src/cli/main.c")
[ -n "$verbs" ] || fail "no verb table found in src/cli/main.c"
listed=$("$bin" --help | sed -n 's/^  \([a-z-]*\) .*/\1/p')
[ "$(echo "$verbs" | sort)" = "$(echo "$listed" | sort)" ] ||
  fail "src/cli/main.c's verbs ($verbs) differ from tokgate --help's ($listed)"
mkdir -p "$tmp/help"
for v in $verbs; do "$bin" "$v" --help >"$tmp/help/$v" 2>&1 || fail "tokgate $v --help exits non-zero"; done

# 3. The checks proper, on the roff source with escapes normalised
# (\- -> -, font changes dropped).
python3 - "$src" "$tmp/help" <<'PY'
import os, re, sys
src, helpdir = sys.argv[1], sys.argv[2]
def norm(t):
    t = re.sub(r'\\f(\[[^]]*\]|\(..|.)', '', t)
    return t.replace('\\-', '-').replace('\\(mu', 'x').replace('\\ ', ' ').replace('\\&', '')
def sections(page):
    """.SS "tokgate VERB" -> its text up to the next .SS/.SH."""
    out, cur = {}, None
    for line in open(page, encoding='utf-8').read().splitlines():
        m = re.match(r'\.SS "tokgate ([a-z-]+)"', line)
        if m: cur = m.group(1); out[cur] = []; continue
        if line.startswith(('.SS', '.SH')): cur = None; continue
        if cur and not line.startswith('.\\"'): out[cur].append(norm(line))
    return {k: '\n'.join(v) for k, v in out.items()}
def flag_in(flag, text):
    return re.search(re.escape(flag) + r'(?![a-z0-9-])', text) is not None
errors = []
secs = sections(os.path.join(src, 'man/tokgate.1'))
nflags = 0
for verb in sorted(os.listdir(helpdir)):
    if verb not in secs:
        errors.append(f'tokgate(1) has no section .SS "tokgate {verb}"'); continue
    flags = sorted(set(re.findall(r'(?<![A-Za-z0-9-])--[a-z][a-z0-9-]*', open(os.path.join(helpdir, verb)).read())) - {'--help'})
    for f in flags:
        nflags += 1
        if not flag_in(f, secs[verb]): errors.append(f'tokgate(1) section "tokgate {verb}" lacks {f} (in tokgate {verb} --help)')
# negative control: the checker must see an absent flag
if flag_in('--tg-no-such-flag', secs.get('serve', '')) or flag_in('--con', secs.get('serve', 'x --config')):
    errors.append('negative control: the flag check accepts a flag the page lacks')

# tokgate.conf(5): .TP tags between GLOBAL KEYS and EXAMPLE, tag -> the line after it.
conf = open(os.path.join(src, 'man/tokgate.conf.5'), encoding='utf-8').read().splitlines()
entries, on = {}, False
for i, line in enumerate(conf):
    if line.startswith('.SH'): on = line.strip() in ('.SH GLOBAL KEYS', '.SH MODEL SECTIONS')
    if on and line == '.TP' and conf[i + 1].startswith('.B '):
        entries[norm(conf[i + 1][3:]).strip()] = norm(conf[i + 2]) if i + 2 < len(conf) else ''
gw = open(os.path.join(src, 'docs/gateway.md'), encoding='utf-8').read()
m = re.search(r'<!-- config-keys:begin[^>]*-->(.*?)<!-- config-keys:end', gw, re.S)
if m:
    mode = 'generated key table (src/gateway/options.c)'
    rows = [r for r in m.group(1).splitlines() if r.startswith('| `')]
    table = {}
    for r in rows:
        cells = [c.strip() for c in r.strip('|').split(' | ')]
        table[cells[0].strip('`')] = cells[1].strip('`') if len(cells) > 1 else ''
    for key, flag in table.items():
        if key not in entries: errors.append(f'tokgate.conf(5) lacks key {key}')
        elif flag and not flag_in(flag, entries[key]): errors.append(f'tokgate.conf(5) key {key}: flag {flag} not named')
    for key in entries:
        if key not in table: errors.append(f'tokgate.conf(5) documents {key}, which the key table lacks')
else:
    mode = 'hand-written key table (the generated one has not landed)'
    sec = gw.split('## Config file (JSON)', 1)[1].split('\n## ', 1)[0]
    table = {}
    for r in sec.splitlines():
        if r.startswith('| `'):
            for k in re.findall(r'`([^`]+)`', r.split(' | ')[0]):
                if '*' not in k: table[k] = ''
    for key in table:
        if not any(e == key or e.endswith('.' + key) or e.startswith(key + '.') for e in entries): errors.append(f'tokgate.conf(5) lacks key {key}')
if not table: errors.append('no config keys found in docs/gateway.md')
if any(e == 'models[].no_such_key' for e in entries) or 'listen' not in entries:
    errors.append('negative control: the key check is broken')
for e in errors: print('FAIL:', e, file=sys.stderr)
if errors: sys.exit(1)
print(f'test_man: ok ({len(os.listdir(helpdir))} verbs, {nflags} flags in tokgate(1); '
      f'{len(table)} keys of the {mode} in tokgate.conf(5))')
PY
