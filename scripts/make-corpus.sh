#!/usr/bin/env bash
# make-corpus.sh: assembles the mixed text corpus the tokenizer exactness tests
# (tests/tokenizer/test_hf_corpus.*) and the benchmark (bench/run.sh) run over.
#
# Sources, all from this machine (bash + coreutils + gzip only):
#   man-<lang>  man pages of every language directory under /usr/share/man
#               (man-en = the man1..man9 sections), decompressed roff source
#   include     C headers from /usr/include
#   python      Python sources from /usr/lib/python3*/
#   licenses    /usr/share/common-licenses
#   emoji       Debian unicode-data's emoji test data (/usr/share/unicode/emoji)
# Each group is capped (bytes of text) so no language or kind dominates.
# Files that are not valid UTF-8 (iconv -f utf-8 -t utf-8 fails) are skipped.
#
# Deterministic: file lists are sorted bytewise (LC_ALL=C), then shuffled with a
# fixed random source so a capped group samples its whole alphabet rather than
# the first letters; caps and chunk sizes are fixed. The same machine state
# gives the same corpus.
#
# Output, under ${TG_CACHE:-~/.cache/tokgate}/corpus/ (outside the repository):
#   docs/<group>-NNNNN.txt  documents of at most $chunk bytes, cut on line
#                           boundaries (split -C); a chunk that is not valid
#                           UTF-8 (a line longer than the chunk was cut inside a
#                           character) is dropped
#   corpus.tgdocs           all documents in one file, in name order, format:
#                             "TGDOCS 1\n" then per document
#                             "<name>\t<byte length>\n<bytes>\n"
#   corpus.txt              the documents concatenated (for the benchmark)
#   SUMMARY                 bytes and documents per group
# A stamp (hash of this script) makes a second run a no-op; --force rebuilds.
set -euo pipefail
export LC_ALL=C

cache=${TG_CACHE:-$HOME/.cache/tokgate}
out=$cache/corpus
chunk=32768                      # document size bound (bytes)
cap_lang=$((768 * 1024))         # each non-English man page language
cap_en=$((3 * 1024 * 1024))      # English man pages
cap_include=$((4 * 1024 * 1024))
cap_python=$((4 * 1024 * 1024))
cap_licenses=$((2 * 1024 * 1024))
cap_emoji=$((4 * 1024 * 1024))
min_total=$((20 * 1000 * 1000))

stamp=$(sha256sum "$0" | cut -c1-16)
if [ "${1:-}" != "--force" ] && [ -f "$out/STAMP" ] && [ "$(cat "$out/STAMP")" = "$stamp" ]; then
  exit 0
fi

tmp=$out.tmp.$$
rm -rf "$tmp"
mkdir -p "$tmp/docs" "$tmp/stream"
trap 'rm -rf "$tmp"' EXIT

# A fixed stream of pseudo-random bytes for shuf: deterministic, no /dev/urandom.
seed=$tmp/seed
head -c 1048576 < <(yes tokgate-corpus-seed) > "$seed"

# add_group NAME CAP < file-list: appends valid UTF-8 files (decompressing .gz)
# to the group's stream until CAP bytes are reached.
add_group() {
  local name=$1 cap=$2 total=0 f size
  local s=$tmp/stream/$name one=$tmp/one
  : > "$s"
  while IFS= read -r f; do
    # Past the cap, keep reading (no break) so the writer sees no SIGPIPE.
    [ "$total" -ge "$cap" ] && continue
    case $f in
      *.gz) gzip -dc -- "$f" > "$one" 2>/dev/null || continue ;;
      *) cat -- "$f" > "$one" 2>/dev/null || continue ;;
    esac
    size=$(stat -c %s "$one")
    [ "$size" -gt 0 ] || continue
    iconv -f utf-8 -t utf-8 "$one" > /dev/null 2>&1 || continue
    cat "$one" >> "$s"
    total=$((total + size))
  done
  rm -f "$one"
}

# sorted_list DIR FIND-ARGS...: regular files (symlinks followed), sorted, shuffled.
sorted_list() {
  local dir=$1; shift
  find -L "$dir" -type f "$@" 2>/dev/null | sort | shuf --random-source="$seed"
}

for d in /usr/share/man/*/; do
  lang=$(basename "$d")
  case $lang in man[0-9]*) continue ;; esac
  sorted_list "$d" | add_group "man-$lang" "$cap_lang"
done
find -L /usr/share/man -mindepth 1 -maxdepth 1 -type d -name 'man[0-9]*' -print0 2>/dev/null |
  sort -z | xargs -0 -I{} find -L {} -type f 2>/dev/null | sort | shuf --random-source="$seed" |
  add_group man-en "$cap_en"
sorted_list /usr/include -name '*.h' | add_group include "$cap_include"
for d in /usr/lib/python3*/; do [ -d "$d" ] && find -L "$d" -type f -name '*.py' 2>/dev/null; done |
  sort -u | shuf --random-source="$seed" | add_group python "$cap_python"
sorted_list /usr/share/common-licenses | add_group licenses "$cap_licenses"
if [ ! -d /usr/share/unicode/emoji ]; then
  echo "make-corpus: /usr/share/unicode/emoji missing: install Debian package unicode-data" >&2
  exit 1
fi
find -L /usr/share/unicode/emoji -type f -name '*.txt' | sort | add_group emoji "$cap_emoji"

# Cut every stream into documents on line boundaries; drop invalid chunks.
for s in "$tmp"/stream/*; do
  name=$(basename "$s")
  [ -s "$s" ] || continue
  split -C "$chunk" -d -a 5 --additional-suffix=.txt "$s" "$tmp/docs/$name-"
  rm -f "$s"
done
for f in "$tmp"/docs/*.txt; do
  iconv -f utf-8 -t utf-8 "$f" > /dev/null 2>&1 || rm -f "$f"
done

# Pack, concatenate, summarize.
{
  printf 'TGDOCS 1\n'
  for f in "$tmp"/docs/*.txt; do
    printf '%s\t%s\n' "$(basename "$f" .txt)" "$(stat -c %s "$f")"
    cat "$f"
    printf '\n'
  done
} > "$tmp/corpus.tgdocs"
cat "$tmp"/docs/*.txt > "$tmp/corpus.txt"
total=$(stat -c %s "$tmp/corpus.txt")
declare -A gbytes=() gdocs=()
for f in "$tmp"/docs/*.txt; do
  n=$(basename "$f"); g=${n%-*}
  gbytes[$g]=$(( ${gbytes[$g]:-0} + $(stat -c %s "$f") )); gdocs[$g]=$(( ${gdocs[$g]:-0} + 1 ))
done
{
  for g in $(printf '%s\n' "${!gbytes[@]}" | sort); do
    printf '%-12s %9d bytes %5d docs\n' "$g" "${gbytes[$g]}" "${gdocs[$g]}"
  done
  printf 'total %d bytes, %d docs\n' "$total" "$(ls "$tmp/docs" | wc -l)"
} > "$tmp/SUMMARY"
if [ "$total" -lt "$min_total" ]; then
  cat "$tmp/SUMMARY" >&2
  echo "make-corpus: only $total bytes of text, below the $min_total minimum" >&2
  exit 1
fi
echo "$stamp" > "$tmp/STAMP"
rm -f "$seed"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
cat "$out/SUMMARY"
