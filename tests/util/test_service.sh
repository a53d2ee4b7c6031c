#!/usr/bin/env bash
# test_service.sh: the systemd unit and the example config under etc/.
#  - etc/systemd/tokgate.service passes `systemd-analyze verify` with no
#    message at all (verify exits 0 even on a misspelt setting, so any output
#    fails), with its ExecStart pointed at the binary under test and the man
#    pages of its Documentation= found through MANPATH; it carries the
#    hardening docs/service.md promises, and reads /etc/tokgate/tokgate.json.
#    Without systemd-analyze this part is skipped with a message.
#  - etc/tokgate.json is accepted by `tokgate serve --config`: with its
#    upstreams moved to a port where nothing listens (and --listen on a free
#    port) it starts, answers /healthz, and stops on SIGTERM with status 0.
set -euo pipefail
src=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bin=${TG_BIN:-$src/build/tokgate}
unit=$src/etc/systemd/tokgate.service
fail() { echo "FAIL: $*" >&2; exit 1; }
tmp=$(mktemp -d)
pid=""
trap '[ -z "$pid" ] || kill -9 $pid 2>/dev/null; rm -rf "$tmp"' EXIT

# --- the unit -------------------------------------------------------------
for want in 'DynamicUser=yes' 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' \
            'NoNewPrivileges=yes' 'RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX' \
            'MemoryDenyWriteExecute=yes' 'SystemCallFilter=@system-service' 'Restart=on-failure' \
            'ExecReload=/bin/kill -HUP $MAINPID' \
            'ExecStart=/usr/bin/tokgate serve --config /etc/tokgate/tokgate.json'; do
  grep -qxF "$want" "$unit" || fail "the unit lacks '$want'"
done
grep -q '^LimitNOFILE=[0-9]' "$unit" || fail "the unit sets no LimitNOFILE"
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/man/man1" "$tmp/man/man5"
  cp "$src/man/tokgate.1" "$tmp/man/man1/"
  cp "$src/man/tokgate.conf.5" "$tmp/man/man5/"
  sed "s|^ExecStart=/usr/bin/tokgate |ExecStart=$bin |" "$unit" >"$tmp/tokgate.service"
  MANPATH=$tmp/man systemd-analyze verify "$tmp/tokgate.service" >"$tmp/verify" 2>&1 ||
    { cat "$tmp/verify" >&2; fail "systemd-analyze verify exits non-zero"; }
  [ ! -s "$tmp/verify" ] || { cat "$tmp/verify" >&2; fail "systemd-analyze verify has something to say"; }
  # Negative control: a misspelt value must be reported.
  sed 's/^ProtectSystem=strict/ProtectSystem=strikt/' "$tmp/tokgate.service" >"$tmp/bad.service"
  MANPATH=$tmp/man systemd-analyze verify "$tmp/bad.service" >"$tmp/verify" 2>&1 || true
  grep -q 'ProtectSystem\|protect system' "$tmp/verify" || fail "negative control: verify did not report a bad value"
  verified="systemd-analyze verify clean"
else
  echo "test_service: systemd-analyze not installed: unit verification SKIPPED (apt-get install systemd)"
  verified="verify skipped"
fi

# --- the example config ---------------------------------------------------
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
dead=$(freeport)   # bound and released: nothing listens there now
port=$(freeport)
# Only the upstream addresses change; every other key is the file's.
sed -E "s|\"upstream\": \"http://[^\"]*\"|\"upstream\": \"http://127.0.0.1:$dead\"|" \
  "$src/etc/tokgate.json" >"$tmp/tokgate.json"
[ "$(grep -c "127.0.0.1:$dead" "$tmp/tokgate.json")" -ge 1 ] || fail "no upstream in etc/tokgate.json to move"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$src/etc/tokgate.json" || fail "etc/tokgate.json is not JSON"
"$bin" serve --config "$tmp/tokgate.json" --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
pid=$!
up=0
for _ in $(seq 100); do
  if curl -sf "http://127.0.0.1:$port/healthz" >"$tmp/health" 2>/dev/null; then up=1; break; fi
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ $up = 1 ] || { cat "$tmp/serve.log" >&2; fail "tokgate serve --config etc/tokgate.json did not answer /healthz"; }
grep -q '"status":"ok"' "$tmp/health" || fail "/healthz: $(cat "$tmp/health")"
kill -TERM $pid
rc=0; wait $pid || rc=$?
pid=""
[ $rc = 0 ] || { cat "$tmp/serve.log" >&2; fail "tokgate serve exited $rc on SIGTERM"; }
grep -q 'stopped' "$tmp/serve.log" || fail "no 'stopped' in the log after SIGTERM"
echo "test_service: ok (unit: $verified; etc/tokgate.json: serve started, /healthz ok, stopped)"
