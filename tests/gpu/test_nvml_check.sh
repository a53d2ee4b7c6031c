#!/usr/bin/env bash
# test_nvml_check.sh: tokgate's NVML readings (limits/nvml.c, libnvidia-ml
# loaded with dlopen) against nvidia-smi's on a machine with NVIDIA GPUs
# (issue 20). Prints both side by side, per card: index, UUID, free and total
# MiB, and fails when a UUID differs or a figure differs by more than
# TG_NVML_TOLERANCE_MIB (default 8) MiB. Free memory moves while other
# processes allocate, so nvidia-smi is read before and after tokgate and
# tokgate's free figure may lie anywhere between the two readings, widened
# by the tolerance.
#
# Where there is no nvidia-smi, or it answers no GPU (no driver, no card),
# it exits 77: ctest reports the test as skipped (SKIP_RETURN_CODE in
# CMakeLists.txt). By hand: TG_BIN=build/tokgate bash tests/gpu/test_nvml_check.sh
set -uo pipefail
TG_BIN=${TG_BIN:-build/tokgate}
tol=${TG_NVML_TOLERANCE_MIB:-8}
unset TG_NVML_LIB # the real libnvidia-ml.so.1, never a stand-in

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "SKIP: no nvidia-smi on this machine (no NVIDIA driver): nothing to compare"
  exit 77
fi
smi() { nvidia-smi --query-gpu=index,uuid,memory.free,memory.total --format=csv,noheader,nounits 2>&1; }
if ! before=$(smi) || [ -z "$before" ] || ! printf '%s\n' "$before" | grep -q '^[0-9]'; then
  echo "SKIP: nvidia-smi reports no GPU: $before"
  exit 77
fi
echo "== nvidia-smi --query-gpu=index,uuid,memory.free,memory.total --format=csv"
nvidia-smi --query-gpu=index,uuid,memory.free,memory.total --format=csv
echo "== $TG_BIN limits --list-gpus"
ours=$("$TG_BIN" limits --list-gpus)
rc=$?
printf '%s\n' "$ours"
after=$(smi)
if [ $rc -ne 0 ]; then
  echo "FAIL: tokgate limits --list-gpus exited $rc while nvidia-smi sees GPUs"
  exit 1
fi

# One line per card: index uuid free total (MiB), from each source.
norm_smi() { printf '%s\n' "$1" | awk -F', *' '/^[0-9]/ {print $1, $2, $3, $4}'; }
norm_ours() { printf '%s\n' "$1" | awk -F', *' '/^[0-9]/ {sub(/ MiB/, "", $3); sub(/ MiB/, "", $4); print $1, $2, $3, $4}'; }
paste -d' ' <(norm_smi "$before") <(norm_ours "$ours") <(norm_smi "$after") > /tmp/tg_nvml_check.$$ 
fails=0 cards=0
echo "== per card: index | uuid | free MiB nvidia-smi before / tokgate / after | total MiB nvidia-smi / tokgate"
while read -r i1 u1 f1 t1 i2 u2 f2 t2 i3 u3 f3 t3; do
  cards=$((cards + 1))
  lo=$(( (f1 < f3 ? f1 : f3) - tol )) hi=$(( (f1 > f3 ? f1 : f3) + tol ))
  dt=$(( t1 > t2 ? t1 - t2 : t2 - t1 ))
  verdict=ok
  if [ "$i1" != "$i2" ] || [ "$u1" != "$u2" ]; then verdict="FAIL (index/uuid differ)"
  elif [ -z "$f2" ] || [ "$f2" -lt "$lo" ] || [ "$f2" -gt "$hi" ]; then verdict="FAIL (free outside $lo..$hi)"
  elif [ "$dt" -gt "$tol" ]; then verdict="FAIL (total differs by $dt MiB)"
  fi
  [ "$verdict" = ok ] || fails=$((fails + 1))
  printf '%s | %s | %s / %s / %s | %s / %s | %s\n' "$i1" "$u1" "$f1" "$f2" "$f3" "$t1" "$t2" "$verdict"
done < /tmp/tg_nvml_check.$$
rm -f /tmp/tg_nvml_check.$$
n_ours=$(norm_ours "$ours" | wc -l)
if [ "$n_ours" -ne "$cards" ]; then
  echo "FAIL: nvidia-smi lists $cards card(s), tokgate $n_ours"
  exit 1
fi
echo "$cards card(s), $fails differ by more than $tol MiB"
[ "$fails" -eq 0 ]
