#!/usr/bin/env python3
"""include-cycles.py ROOT FILE...: prints one include circle among FILE...
(a .c and its .h count as one module; edges are #include "gateway/X"
lines), or nothing when the graph is acyclic. Used by
tests/gateway/test_structure.sh."""
import os
import re
import sys

root, paths = sys.argv[1], sys.argv[2:]


def node(p):
    return re.sub(r'\.[ch]$', '', os.path.relpath(p, root))


g = {}
for p in paths:
    with open(p, encoding='utf-8', errors='replace') as f:
        src = f.read()
    for inc in re.findall(r'#include "gateway/([^"]+)"', src):
        a, b = node(p), re.sub(r'\.[ch]$', '', inc)
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
