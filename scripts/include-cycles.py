#!/usr/bin/env python3
"""include-cycles.py ROOT FILE...: prints one include circle among FILE...
(a .c and its .h count as one module; edges are #include "gateway/X"
lines), or nothing when the graph is acyclic. Used by
tests/gateway/test_structure.sh.

The module graph is stricter than the file graph (where only headers can
close a circle): a .c that calls into a module whose .c includes it back
is a circle here. One group is a single module by design: the config
(config.c: the struct's lifetime), its option table (options.c: what each
field is, which config.c frees by) and its reader (config_load.c)."""
import os
import re
import sys

root, paths = sys.argv[1], sys.argv[2:]


ONE_MODULE = {'options': 'config', 'config_load': 'config'}


def node(p):
    n = re.sub(r'\.[ch]$', '', os.path.relpath(p, root))
    return ONE_MODULE.get(n, n)


g = {}
for p in paths:
    with open(p, encoding='utf-8', errors='replace') as f:
        src = f.read()
    for inc in re.findall(r'#include "gateway/([^"]+)"', src):
        b = re.sub(r'\.[ch]$', '', inc)
        a, b = node(p), ONE_MODULE.get(b, b)
        if a != b:
            g.setdefault(a, set()).add(b)
state = {}


def dfs(v, stack):
    state[v] = 1
    stack.append(v)
    for w in sorted(g.get(v, ())):
        if state.get(w) == 1:
            print(' -> '.join(stack[stack.index(w):] + [w]))
            sys.exit(0)
        if not state.get(w):
            dfs(w, stack)
    state[v] = 2
    stack.pop()


for v in sorted(g):
    if not state.get(v):
        dfs(v, [])
