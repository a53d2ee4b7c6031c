#!/usr/bin/env bash
# test_deb.sh: issue 15's packaging acceptance. `make deb` (scripts/build-deb.sh:
# dpkg-buildpackage, then lintian with no error allowed) builds the packages;
# `dpkg -i` installs tokgate and libtokgate0 into a clean Debian 12 root, and
# tokgate runs from it: --version, and `tokgate serve` with the packaged
# /etc/tokgate/tokgate.json answers /healthz.
#
# The clean root is a debootstrap minbase bookworm, not `dpkg --root` on an
# empty folder: an empty dpkg database has none of the package's
# dependencies (libc6, libjansson4, ...) and no /bin/sh for its maintainer
# scripts, so `dpkg --root` could only install with --force-depends, which
# proves nothing about the Depends line. In the minbase root, apt installs
# exactly the Depends of the built package (apt-get satisfy), then plain
# `dpkg -i` must succeed. debootstrap takes minutes, so the pristine root is
# kept as a tarball in $TG_CACHE/debian-root (made once, alongside the build)
# and unpacked fresh each run.
#
# Needs root (debootstrap, chroot) or passwordless sudo, the network (Debian
# archive), and scripts/setup.sh --deb. TG_SKIP_DEB=1 skips it.
set -euo pipefail
if [ "${TG_SKIP_DEB:-0}" = 1 ]; then
  echo "test_deb: SKIPPED (TG_SKIP_DEB=1): the Debian package is not built or installed"
  exit 0
fi
src=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cache=${TG_CACHE:-$HOME/.cache/tokgate}
mirror=${TG_DEB_MIRROR:-http://deb.debian.org/debian}
fail() { echo "FAIL: $*" >&2; exit 1; }

for tool in dpkg-buildpackage dh lintian debootstrap; do
  command -v $tool >/dev/null || fail "$tool missing: run bash scripts/setup.sh --deb (or TG_SKIP_DEB=1)"
done
asroot=""
if [ "$(id -u)" != 0 ]; then
  sudo -n true 2>/dev/null || fail "needs root or passwordless sudo (debootstrap, chroot); TG_SKIP_DEB=1 skips"
  asroot="sudo -n"
fi

t0=$(date +%s)
tmp=$(mktemp -d)
root=$tmp/root
# Nothing is mounted in the root, so removing it is safe.
trap '$asroot rm -rf "$tmp"' EXIT

# 1. The pristine root, in the background while the packages build.
tarball=$cache/debian-root/bookworm-minbase.tar.gz
make_root() {
  mkdir -p "$cache/debian-root"
  exec 9>"$cache/debian-root/.lock"
  flock 9
  if [ ! -s "$tarball" ]; then
    local work=$cache/debian-root/work.$$
    $asroot rm -rf "$work"
    $asroot debootstrap --variant=minbase bookworm "$work" "$mirror" >"$tmp/debootstrap.log" 2>&1 ||
      { tail -20 "$tmp/debootstrap.log" >&2; $asroot rm -rf "$work"; return 1; }
    $asroot tar -C "$work" -I 'gzip -1' -cf "$tarball.tmp" . && $asroot mv "$tarball.tmp" "$tarball"
    $asroot rm -rf "$work"
  fi
  mkdir -p "$root"
  $asroot tar -C "$root" -xzf "$tarball"
}
make_root >"$tmp/root.log" 2>&1 &
root_pid=$!

# 2. The packages, exactly as `make deb` builds them (lintian included).
make -s -C "$src" deb DEBDIR="$tmp/deb" JOBS="${JOBS:-2}" >"$tmp/deb.log" 2>&1 ||
  { cat "$tmp/deb.log" >&2; fail "make deb"; }
grep -q '^build-deb: ok' "$tmp/deb.log" || fail "make deb did not finish"
grep '^[EW]: ' "$tmp/deb.log" || true
t1=$(date +%s)
deb=$tmp/deb/tokgate_0.1.0_amd64.deb
lib=$tmp/deb/libtokgate0_0.1.0_amd64.deb
[ -f "$deb" ] && [ -f "$lib" ] && [ -f "$tmp/deb/libtokgate-dev_0.1.0_amd64.deb" ] || fail "missing packages: $(ls "$tmp/deb")"
# What the package must hold (debian/tokgate.install, docs/service.md).
dpkg-deb -c "$deb" | awk '{print $6}' >"$tmp/contents"
for f in ./usr/bin/tokgate ./lib/systemd/system/tokgate.service ./etc/tokgate/tokgate.json \
         ./usr/share/man/man1/tokgate.1.gz ./usr/share/man/man5/tokgate.conf.5.gz \
         ./usr/share/doc/tokgate/copyright ./usr/share/doc/tokgate/examples/tokgate.json; do
  grep -qx "$f" "$tmp/contents" || fail "tokgate.deb lacks $f"
done

wait $root_pid || { cat "$tmp/root.log" >&2; fail "could not make the clean root (debootstrap $mirror)"; }
t2=$(date +%s)
in_root() { $asroot chroot "$root" "$@"; }
in_root test ! -e /usr/bin/tokgate || fail "the clean root is not clean"

# 3. Its dependencies from the archive, then dpkg -i of the built packages.
$asroot cp /etc/resolv.conf "$root/etc/resolv.conf"
$asroot cp "$deb" "$lib" "$root/tmp/"
depends=$(dpkg-deb -f "$deb" Depends)
in_root apt-get update -qq >"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "apt-get update in the root"; }
in_root env DEBIAN_FRONTEND=noninteractive apt-get satisfy -y -qq --no-install-recommends "$depends" \
  >>"$tmp/apt.log" 2>&1 || { cat "$tmp/apt.log" >&2; fail "installing the Depends ($depends)"; }
in_root dpkg -i "/tmp/$(basename "$deb")" "/tmp/$(basename "$lib")" >"$tmp/dpkg.log" 2>&1 ||
  { cat "$tmp/dpkg.log" >&2; fail "dpkg -i in the clean root"; }
status=$(in_root dpkg-query -W -f='${Status}' tokgate)
[ "$status" = "install ok installed" ] || fail "tokgate is '$status' after dpkg -i"
in_root dpkg-query -W -f='${Conffiles}\n' tokgate | grep '^ /etc/tokgate/tokgate.json ' >/dev/null ||
  fail "/etc/tokgate/tokgate.json is not a conffile"

# 4. tokgate from the root.
version=$(in_root tokgate --version)
[ "$version" = "tokgate 0.1.0" ] || fail "tokgate --version in the root says '$version'"
in_root tokgate --help | grep '^  serve ' >/dev/null || fail "tokgate --help in the root"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
in_root tokgate serve --config /etc/tokgate/tokgate.json --listen "127.0.0.1:$port" >"$tmp/serve.log" 2>&1 &
serve_pid=$!
ok=0
for _ in $(seq 50); do
  if curl -sf "http://127.0.0.1:$port/healthz" >"$tmp/health" 2>/dev/null; then ok=1; break; fi
  kill -0 $serve_pid 2>/dev/null || break
  sleep 0.1
done
$asroot pkill -TERM -P $serve_pid 2>/dev/null || true
kill -TERM $serve_pid 2>/dev/null || true
wait $serve_pid 2>/dev/null || true
[ $ok = 1 ] || { cat "$tmp/serve.log" >&2; fail "the packaged tokgate serve with /etc/tokgate/tokgate.json did not answer /healthz"; }
grep -q '"status":"ok"' "$tmp/health" || fail "/healthz: $(cat "$tmp/health")"
t3=$(date +%s)
echo "test_deb: ok: '$version' from a debootstrap minbase bookworm root after dpkg -i;" \
     "serve answered /healthz (build+lintian $((t1 - t0)) s, root $((t2 - t0)) s, install+run $((t3 - t2)) s)"
