#!/usr/bin/env bash
# test_structure.sh: the daemon's shape stays as issue 12 left it.
#  - no function in src/gateway over 120 lines (scripts/long-functions.sh);
#  - no include circle among the daemon's files: the graph of
#    #include "gateway/..." edges between src/gateway files is acyclic;
#  - `tokgate serve` (src/cli/cmd_serve.c) includes nothing of the daemon's
#    but gateway/daemon.h, and no other CLI file includes the daemon at all;
#  - client.c calls nothing above it by name (routes, proxy, server's run).
# Each check is shown to be able to fail on a planted bad input first.
set -euo pipefail
: "${TG_SOURCE_DIR:?}"
cd "$TG_SOURCE_DIR"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
files=$(find src/gateway -name '*.[ch]' | sort)

# 1. function length
printf 'static int f(void) {\n%s\n}\n' "$(yes '    x++;' | head -130)" > "$work/long.c"
[ -n "$(bash scripts/long-functions.sh 120 "$work/long.c")" ] || { echo "FAIL the length check misses a 132-line function"; exit 1; }
long=$(bash scripts/long-functions.sh 120 $files)
[ -z "$long" ] || { echo "FAIL functions over 120 lines:"; echo "$long"; exit 1; }
echo "ok no function over 120 lines in src/gateway"

# 2. include circles
cycles() { python3 scripts/include-cycles.py "$@"; }
mkdir -p "$work/src/gateway"
printf '#include "gateway/b.h"\n' > "$work/src/gateway/a.h"
printf '#include "gateway/a.h"\n' > "$work/src/gateway/b.c"
[ -n "$(cycles "$work/src/gateway" "$work"/src/gateway/*)" ] || { echo "FAIL the circle check misses a -> b -> a"; exit 1; }
cyc=$(cycles src/gateway $files)
[ -z "$cyc" ] || { echo "FAIL include circle: $cyc"; exit 1; }
echo "ok no include circle among $(echo "$files" | wc -l) daemon files"

# 3. the daemon's one header
incs=$(grep -ho '#include "gateway/[^"]*"' src/cli/*.c src/cli/*.h | sort -u)
[ "$incs" = '#include "gateway/daemon.h"' ] || { echo "FAIL the CLI includes of the daemon: $incs"; exit 1; }
echo "ok the CLI reaches the daemon through gateway/daemon.h only"

# 4. client.c calls up only through its hooks
up=$(grep -nE '\b(tg__route_dispatch|tg__exchange_[a-z_]+|tg__proxy_[a-z_]+|tg__models_[a-z_]+)\(' src/gateway/client.c || true)
[ -z "$up" ] || { echo "FAIL client.c calls up by name:"; echo "$up"; exit 1; }
echo "ok client.c calls nothing above it by name"
