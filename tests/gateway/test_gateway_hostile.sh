#!/usr/bin/env bash
# test_gateway_hostile.sh: the hostile raw-socket corpus (tests/gateway/hostile/
# *.jsonl, every file there) against tokgate in front of the REAL llama-server
# (the tiny model), run by hostile_run.js: each case's bytes on a fresh socket,
# the status, error code and named limit checked, and a good request after
# each (200: the daemon keeps serving). One line per failed case and a count.
#
# The tokgate the cases meet ("setup" default): a config file with two model
# sections on the same llama-server, "tiny" and "tiny-b" (so a request without
# a model is ambiguous), the documented default limits (max_request_line 8192,
# max_header_bytes 32768, max_headers 100) but a body limit of 65536 bytes,
# and short request deadlines so the trickle cases stay quick:
# --header-timeout 2 --header-timeout-max 4 --body-timeout 2
# --body-timeout-max 4 --client-timeout 3 (min_rate its default, 500).
# Files other parts add may name another setup; each is started below.
source "$(dirname "$0")/lib.sh"

find_llama_server
tiny_model
start_llama L "$model" -np 2
cat >"$work/hostile.json" <<EOF
{"models": [
  {"name": "tiny", "upstream": "$L", "model": "$model"},
  {"name": "tiny-b", "upstream": "$L", "model": "$model"}
]}
EOF
start_tokgate H --config "$work/hostile.json" --max-body-bytes 65536 --discovery-interval 1 \
  --header-timeout 2 --header-timeout-max 4 --body-timeout 2 --body-timeout-max 4 --client-timeout 3
for i in $(seq 1 100); do
  curl -s "http://127.0.0.1:$PORT_H/v1/models" | grep -q '"tiny-b"' && curl -s "http://127.0.0.1:$PORT_H/v1/limits" | grep -q '"context"' && break
  sleep 0.1
done

corpus=$here/hostile
n=$(cat "$corpus"/*.jsonl | grep -cv '^\s*\(#.*\)\?$')
check "the corpus holds at least 90 cases ($n)" [ "$n" -ge 90 ]
t0=$(date +%s)
if node "$here/hostile_run.js" --target default="$PORT_H" --model tiny --jobs 4 "$corpus" >"$work/hostile.out" 2>&1; then ok
else fail "hostile corpus: $(grep -c '^FAIL' "$work/hostile.out") case(s) failed"; fi
cat "$work/hostile.out"
echo "corpus run took $(( $(date +%s) - t0 )) s"

stop_tokgate H
finish
