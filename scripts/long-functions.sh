#!/usr/bin/env bash
# long-functions.sh [MAX] FILE...: prints "file:line name length" for each
# function definition longer than MAX lines (default 120). A definition is a
# line that opens at column 0 with a name and '(' and ends with '{'; its end
# is the next line that is exactly '}'. That is the shape every tokgate
# source file uses (clang-format), so the count is exact for them.
set -euo pipefail
max=120
case "${1:-}" in ''|*[!0-9]*) ;; *) max=$1; shift;; esac
awk -v max="$max" '
  FNR == 1 { start = 0 }
  /^[A-Za-z_].*\(.*\{$/ && !/^(typedef|struct|enum|union|static const|const)[^(]*=/ { start = FNR; name = $0; next }
  /^\}/ && start { len = FNR - start + 1; if (len > max) { sub(/\(.*/, "", name); n = split(name, w, /[ *]+/); printf "%s:%d %s %d\n", FILENAME, start, w[n], len } start = 0 }
' "$@"
