#!/usr/bin/env bash
# test_metrics_promtool.sh: GET /metrics as Prometheus's own checker reads it
# (`promtool check metrics`, Debian's prometheus package, installed by
# scripts/setup.sh --test): no parse error, each family once, the lint
# rules (counters end in _total, units in names, help on every family).
# The daemon runs against an upstream that is not there, which is enough to
# have every family: pools, admission gauges, faults, the process metrics.
# The check is shown to fail on text with a family split in two.
set -euo pipefail
: "${TG_BIN:?}"
command -v promtool >/dev/null || { echo "FAIL promtool missing (scripts/setup.sh --test installs prometheus)"; exit 1; }
command -v curl >/dev/null || { echo "FAIL curl missing"; exit 1; }
work=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
printf '# HELP a_total A.\n# TYPE a_total counter\na_total 1\n# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a_total A.\n# TYPE a_total counter\na_total 2\n' > "$work/bad.txt"
if promtool check metrics < "$work/bad.txt" > "$work/bad.out" 2>&1; then
  echo "FAIL promtool accepted a family given twice"; cat "$work/bad.out"; exit 1
fi
port=$((20000 + RANDOM % 20000))
dead=$((port + 1))
"$TG_BIN" serve --listen 127.0.0.1:$port --upstream http://127.0.0.1:$dead --served-name m --context 4096 \
  --quiet 2> "$work/log" &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
# one refusal and one upstream fault so those families have samples
curl -s "http://127.0.0.1:$port/v1/chat/completions" -d '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":100000}' >/dev/null
curl -s "http://127.0.0.1:$port/v1/chat/completions" -d '{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5}' >/dev/null
curl -sf "http://127.0.0.1:$port/metrics" > "$work/metrics.txt"
if ! promtool check metrics < "$work/metrics.txt" > "$work/out" 2>&1; then
  echo "FAIL promtool check metrics:"; cat "$work/out"; exit 1
fi
[ -s "$work/out" ] && { echo "promtool notes:"; cat "$work/out"; }
for fam in tokgate_requests_total tokgate_admission_reserved_tokens tokgate_limit_tokens process_resident_memory_bytes tokgate_build_info; do
  n=$(grep -c "^# TYPE $fam " "$work/metrics.txt" || true)
  [ "$n" = 1 ] || { echo "FAIL family $fam typed $n times"; exit 1; }
done
echo "ok promtool check metrics: $(grep -c '^# TYPE' "$work/metrics.txt") families, each once"
