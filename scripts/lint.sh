#!/usr/bin/env bash
# scripts/lint.sh: `make lint`, the static checks every change keeps clean:
# cppcheck (warnings and portability; inline suppressions carry their reason
# in the source) and clang-tidy (.clang-tidy: the analyzer and the bug-prone
# checks) over every C source, against build/compile_commands.json. Exits
# non-zero on any finding. Not part of `make test` (it takes minutes on two
# cores); run it before sending a change.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
for t in cppcheck clang-tidy; do
  command -v "$t" >/dev/null || { echo "lint: $t not found (apt-get install cppcheck clang-tidy)"; exit 1; }
done
[ -f "$build/compile_commands.json" ] || cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
jobs=${JOBS:-$(nproc)}
echo "lint: cppcheck"
cppcheck --std=c11 --enable=warning,portability --inline-suppr --error-exitcode=1 -q -j"$jobs" \
  -I include -I src --suppress=missingIncludeSystem src/
echo "lint: clang-tidy"
# grep -v selects nothing when clang-tidy is clean: its status 1 is not a failure;
# a clang-tidy that fails (a finding, or a file it cannot compile) is one.
tidy_ok=1
find src -name '*.c' | sort | xargs -P "$jobs" -n 8 clang-tidy -p "$build" --quiet 2>&1 |
  { grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$|^Suppressed [0-9]+ warnings|^Use -header-filter|^Use -system-headers' || true; } |
  tee "$build/lint.log" || tidy_ok=0
if [ "$tidy_ok" = 0 ] || grep -q -E '(warning|error):' "$build/lint.log"; then echo "lint: findings above"; exit 1; fi
echo "lint: clean"
