#!/usr/bin/env bash
# Installs everything tokgate needs on a fresh Debian 12 machine, idempotently.
#   scripts/setup.sh          build dependencies (Debian packages)
#   scripts/setup.sh --bench  plus nginx, wrk, hyperfine (bench/ compares against them)
#   scripts/setup.sh --deb    plus what `make deb` needs (dpkg-dev, debhelper,
#                             devscripts, lintian) and debootstrap (tests/util/test_deb.sh)
#   scripts/setup.sh --test   plus test material: reference tokenizers, real
#                             tokenizer files and chat-template renderer (npm),
#                             and llama.cpp's source with its vocab test vectors
# Test material goes to $TG_CACHE/fixtures (default ~/.cache/tokgate), outside
# the repository, so a fresh clone reuses it and nothing is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
want_test=0 want_bench=0 want_deb=0
[ "${1:-}" = "--test" ] && want_test=1 && want_deb=1
[ "${1:-}" = "--bench" ] && want_test=1 && want_bench=1
[ "${1:-}" = "--deb" ] && want_deb=1

pkgs=(build-essential cmake pkg-config git ca-certificates
      libjansson-dev libpcre2-dev libutf8proc-dev libevent-dev unicode-data)
if [ $want_test = 1 ]; then
  pkgs+=(clang libclang-rt-dev nodejs npm python3 jq curl
        groff-base man-db systemd    # tests/util: test_man.sh, test_service.sh
        prometheus                   # promtool: tests/gateway/test_metrics_promtool.sh
        haproxy                      # deploy/haproxy.cfg: tests/gateway/test_gateway_fleet.sh
        chromium)                    # headless: tests/gateway/test_gateway_observe.sh (/status)
fi
# make deb; tests/util/test_deb.sh (in --test: the suite runs it unless TG_SKIP_DEB=1).
if [ $want_deb = 1 ]; then
  pkgs+=(dpkg-dev debhelper devscripts lintian fakeroot debootstrap python3 curl)
fi
if [ $want_bench = 1 ]; then
  pkgs+=(nginx wrk hyperfine)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian on some machines: accept them when present.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=(); for p in "${missing[@]}"; do case $p in nodejs|npm) ;; *) tmp+=("$p");; esac; done
  missing=("${tmp[@]+"${tmp[@]}"}")
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
[ $want_test = 1 ] || exit 0

cache=${TG_CACHE:-$HOME/.cache/tokgate}
fx=$cache/fixtures
mkdir -p "$fx"

# npm reference material, pinned by tests/fixtures/package-lock.json.
if ! cmp -s "$here/tests/fixtures/package-lock.json" "$fx/package-lock.json" || [ ! -d "$fx/node_modules" ]; then
  echo "setup: npm ci (reference tokenizers, tokenizer files, jinja) into $fx"
  cp "$here/tests/fixtures/package.json" "$here/tests/fixtures/package-lock.json" "$fx/"
  # a failed install must not look done next time (the lock is what is compared)
  (cd "$fx" && npm ci --no-audit --no-fund --loglevel=error) || { rm -f "$fx/package-lock.json"; exit 1; }
fi

# opencode (tests/gateway/test_gateway_opencode.sh), in a folder of its own and
# outside the lock: its npm package lists every platform's binary as an
# optional dependency, and npm ci refuses a lock written on one platform that
# lacks the others' (npm cannot resolve them all here). Pinned by version.
oc_version=1.18.33
if [ ! -f "$fx/opencode/.tokgate-$oc_version" ]; then
  echo "setup: npm install opencode-ai@$oc_version into $fx/opencode"
  rm -rf "$fx/opencode" && mkdir -p "$fx/opencode"
  echo '{"private": true}' > "$fx/opencode/package.json" # else npm installs into $fx's project
  (cd "$fx/opencode" && npm install --no-save --no-audit --no-fund --loglevel=error "opencode-ai@$oc_version")
  touch "$fx/opencode/.tokgate-$oc_version"
fi

# llama.cpp source (vocab GGUFs with .inp/.out vectors, templates), from the
# git bundle inside node-llama-cpp's npm package.
nlc_version=3.22.1
if [ ! -f "$fx/llama.cpp/.tokgate-$nlc_version" ]; then
  echo "setup: fetching llama.cpp source from node-llama-cpp@$nlc_version"
  work=$(mktemp -d)
  (cd "$work" && npm pack "node-llama-cpp@$nlc_version" --silent >/dev/null && tar xzf node-llama-cpp-*.tgz)
  rm -rf "$fx/llama.cpp"
  git clone -q "$work/package/llama/gitRelease.bundle" "$fx/llama.cpp" 2>/dev/null
  touch "$fx/llama.cpp/.tokgate-$nlc_version"
  rm -rf "$work"
fi
echo "setup: ok (fixtures in $fx)"
