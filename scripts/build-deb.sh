#!/usr/bin/env bash
# build-deb.sh: `make deb`. Builds the Debian packages (tokgate, libtokgate0,
# libtokgate-dev; debian/ describes them) with dpkg-buildpackage on a copy of
# the tree, so nothing is written into the worktree or beside it (dpkg-buildpackage
# puts its output in the parent folder), then runs lintian, which must report
# no error (warnings are printed).
#   DEBDIR   output folder (default build-deb): DEBDIR/src/tokgate-VERSION is
#            the copy, DEBDIR/*.deb the packages
#   JOBS     parallel build jobs (default: nproc)
#   TG_DEB_LINTIAN=0  skip lintian
# Needs scripts/setup.sh --deb (dpkg-dev, debhelper, devscripts, lintian).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${DEBDIR:-build-deb}
case $out in /*) ;; *) out=$here/$out ;; esac
jobs=${JOBS:-$(nproc)}
for tool in dpkg-buildpackage dh; do
  command -v $tool >/dev/null || { echo "build-deb: $tool missing: bash scripts/setup.sh --deb" >&2; exit 2; }
done
version=$(dpkg-parsechangelog -l "$here/debian/changelog" -S Version)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)

rm -rf "$out/src"
mkdir -p "$out/src/tokgate-$version"
# The sources dpkg-buildpackage sees: the tracked and untracked-but-not-ignored
# files of the worktree as they are now (build folders are ignored), or every
# file but build folders outside git.
if git -C "$here" rev-parse --git-dir >/dev/null 2>&1; then
  (cd "$here" && git ls-files -z --cached --others --exclude-standard |
     while IFS= read -r -d '' f; do [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"; done |
     tar --null -T - -cf -) | tar -C "$out/src/tokgate-$version" -xf -
else
  (cd "$here" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -C "$out/src/tokgate-$version" -xf -
fi

echo "build-deb: dpkg-buildpackage in $out/src/tokgate-$version"
(cd "$out/src/tokgate-$version" &&
   DEB_BUILD_OPTIONS="nocheck parallel=$jobs ${DEB_BUILD_OPTIONS:-}" \
   dpkg-buildpackage -b -us -uc >"$out/build.log" 2>&1) ||
  { tail -40 "$out/build.log" >&2; echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2; exit 1; }
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out"/
changes=$out/tokgate_${version}_${arch}.changes
ls -1 "$out"/*.deb

if [ "${TG_DEB_LINTIAN:-1}" != 0 ]; then
  command -v lintian >/dev/null || { echo "build-deb: lintian missing: bash scripts/setup.sh --deb" >&2; exit 2; }
  echo "build-deb: lintian $changes"
  # --fail-on error: warnings and infos are shown, only errors fail.
  lintian --fail-on error --tag-display-limit 0 "$changes" | tee "$out/lintian.log" ||
    { echo "build-deb: lintian reports errors (E: lines above)" >&2; exit 1; }
fi
echo "build-deb: ok"
