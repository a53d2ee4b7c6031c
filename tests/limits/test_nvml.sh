#!/usr/bin/env bash
# test_nvml.sh: `--free-vram-mib nvml` reads free VRAM through NVML loaded with
# dlopen (limits/nvml.c). No GPU here, so TG_NVML_LIB points at a stand-in
# library (nvml_standin.c, compiled now) reporting fixed figures: the limits
# must equal those derived from the same figures given by hand, and a missing
# NVML must be a clear error naming it.
set -euo pipefail
: "${TG_BIN:?}" "${TG_SOURCE_DIR:?}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -shared -fPIC -O1 -o "$work/libnvml-standin.so" "$TG_SOURCE_DIR/tests/limits/nvml_standin.c"
cfg="$TG_SOURCE_DIR/tests/data/configs/Qwen3.6-27B"
"$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib 9254,12000 --json > "$work/want.json"
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 \
  "$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib nvml --json > "$work/got.json"
cmp "$work/want.json" "$work/got.json" || { echo "FAIL nvml figures differ from the same figures by hand"; diff "$work/want.json" "$work/got.json"; exit 1; }
grep -q '"binding": "vram"' "$work/got.json" || { echo "FAIL the VRAM ceiling should bind"; exit 1; }
echo "ok nvml: limits equal those from --free-vram-mib 9254,12000"
set +e
TG_NVML_LIB=/nonexistent/libnvidia-ml.so.1 "$TG_BIN" limits --model "$cfg" --free-vram-mib nvml > /dev/null 2> "$work/err"
st=$?
set -e
[ $st -eq 2 ] && grep -q "NVML not available" "$work/err" || { echo "FAIL missing NVML: exit $st, $(cat "$work/err")"; exit 1; }
echo "ok nvml: missing library is a clear error (exit 2)"
set +e
TG_NVML_LIB="$work/libnvml-standin.so" "$TG_BIN" limits --model "$cfg" --free-vram-mib nvml > /dev/null 2> "$work/err"
st=$?
set -e
[ $st -eq 2 ] && grep -q "Driver Not Loaded" "$work/err" || { echo "FAIL failing nvmlInit: exit $st, $(cat "$work/err")"; exit 1; }
echo "ok nvml: a failing nvmlInit names NVML's reason"
echo "3 passed, 0 failed"
