#!/usr/bin/env bash
# test_install.sh: `make install` honours PREFIX and DESTDIR every time.
# Two installs from the same, already configured build folder with different
# prefixes (the bug: CMAKE_INSTALL_PREFIX was fixed when build/ was
# configured, so the second PREFIX was ignored) must each put exactly the
# expected files under DESTDIR/PREFIX, with tokgate.pc and the unit naming
# that prefix; CONFDIR also installs the example config (and never over an
# existing one). The installed binary runs, and a program builds against the
# installed headers and library through the installed tokgate.pc.
set -euo pipefail
src=${TG_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
bld=${TG_BUILD_DIR:-$src/build}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# The expected files under a prefix (README, docs/service.md); lib/ is
# CMAKE_INSTALL_LIBDIR of the build folder.
libdir=$(sed -n 's/^CMAKE_INSTALL_LIBDIR:[A-Z]*=//p' "$bld/CMakeCache.txt")
expected() {
  local p=$1
  printf '%s\n' "$p/bin/tokgate" \
    "$p/$libdir/libtokgate.a" "$p/$libdir/libtokgate.so" "$p/$libdir/libtokgate.so.0" \
    "$p/$libdir/libtokgate.so.0.1.0" "$p/$libdir/pkgconfig/tokgate.pc" \
    "$p/lib/systemd/system/tokgate.service" \
    "$p/share/man/man1/tokgate.1" "$p/share/man/man5/tokgate.conf.5" \
    "$p/share/doc/tokgate/service.md" \
    "$p/share/doc/tokgate/examples/tokgate.json" "$p/share/doc/tokgate/examples/tokgate.service"
  for h in "$src"/include/tokgate/*.h; do echo "$p/include/tokgate/$(basename "$h")"; done
}

install_to() { # DESTDIR PREFIX [CONFDIR]
  make -s -C "$src" install BUILD="$bld" JOBS=2 DESTDIR="$1" PREFIX="$2" CONFDIR="${3:-}" >"$tmp/log" 2>&1 ||
    { cat "$tmp/log" >&2; fail "make install DESTDIR=$1 PREFIX=$2"; }
}

check_tree() { # DESTDIR PREFIX [CONFDIR]
  local d=$1 p=$2 c=${3:-}
  { expected "$p"; [ -z "$c" ] || echo "$c/tokgate.json"; } | sort >"$tmp/want"
  (cd "$d" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$tmp/got"
  diff -u "$tmp/want" "$tmp/got" || fail "files under DESTDIR for PREFIX=$p differ from the expected list"
  grep -qx "prefix=$p" "$d$p/$libdir/pkgconfig/tokgate.pc" || fail "tokgate.pc does not say prefix=$p"
  grep -qx "ExecStart=$p/bin/tokgate serve --config /etc/tokgate/tokgate.json" \
    "$d$p/lib/systemd/system/tokgate.service" || fail "the unit's ExecStart is not $p/bin/tokgate"
  "$d$p/bin/tokgate" --version | grep '^tokgate [0-9]' >/dev/null || fail "installed tokgate --version"
  cmp -s "$src/man/tokgate.1" "$d$p/share/man/man1/tokgate.1" || fail "man page differs"
}

install_to "$tmp/one" /usr
check_tree "$tmp/one" /usr
install_to "$tmp/two" /opt/tokgate /etc/tokgate
check_tree "$tmp/two" /opt/tokgate /etc/tokgate
cmp -s "$src/etc/tokgate.json" "$tmp/two/etc/tokgate/tokgate.json" || fail "CONFDIR copy differs from etc/tokgate.json"
# A reinstall keeps the operator's config.
echo '{"listen": "127.0.0.1:9"}' >"$tmp/two/etc/tokgate/tokgate.json"
install_to "$tmp/two" /opt/tokgate /etc/tokgate
grep -q '127.0.0.1:9' "$tmp/two/etc/tokgate/tokgate.json" || fail "a reinstall overwrote an existing config"
# And the first prefix again, after the second: still honoured.
install_to "$tmp/three" /usr/local
check_tree "$tmp/three" /usr/local

# A consumer program through the installed tokgate.pc (sysroot = DESTDIR).
san=""
grep -q '^TG_SANITIZE:BOOL=ON' "$bld/CMakeCache.txt" && san="-fsanitize=address,undefined"
cat >"$tmp/use.c" <<'C'
#include <stdio.h>
#include <tokgate/error.h>
int main(void) { puts(tg_status_str(TG_OK)); return 0; }
C
export PKG_CONFIG_SYSROOT_DIR="$tmp/one" PKG_CONFIG_LIBDIR="$tmp/one/usr/$libdir/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/lib/pkgconfig:/usr/share/pkgconfig"
[ "$(pkg-config --modversion tokgate)" = "0.1.0" ] || fail "pkg-config --modversion tokgate"
# shellcheck disable=SC2046
cc -std=c11 $san -o "$tmp/use" "$tmp/use.c" $(pkg-config --cflags --libs tokgate) || fail "building against the installed library"
LD_LIBRARY_PATH="$tmp/one/usr/$libdir" "$tmp/use" >"$tmp/out" || fail "running against the installed library"
[ -s "$tmp/out" ] || fail "the consumer printed nothing"
LD_LIBRARY_PATH="$tmp/one/usr/$libdir" ldd "$tmp/use" | grep -F "$tmp/one/usr/$libdir/libtokgate.so.0" >/dev/null || fail "the consumer did not load the installed libtokgate.so.0"
echo "test_install: ok (PREFIX=/usr, /opt/tokgate with CONFDIR, /usr/local; consumer via tokgate.pc)"
