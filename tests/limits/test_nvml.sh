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
# issue 20: the model's own cards. --gpus (index or UUID) or
# CUDA_VISIBLE_DEVICES picks them; the result must equal the same card's
# figure given by hand. recipe reads the same way.
"$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib 12000 --json > "$work/want1.json"
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 \
  "$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib nvml --gpus 1 --json > "$work/got1.json"
cmp "$work/want1.json" "$work/got1.json" || { echo "FAIL --gpus 1 is not card 1's figure"; diff "$work/want1.json" "$work/got1.json"; exit 1; }
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 \
  "$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib nvml --gpus GPU-5a1d0000-0000-4000-8000-000000000001 --json > "$work/got2.json"
cmp "$work/want1.json" "$work/got2.json" || { echo "FAIL --gpus UUID is not card 1's figure"; exit 1; }
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 CUDA_VISIBLE_DEVICES=1 \
  "$TG_BIN" limits --model "$cfg" --tp 2 --free-vram-mib nvml --json > "$work/got3.json"
cmp "$work/want1.json" "$work/got3.json" || { echo "FAIL CUDA_VISIBLE_DEVICES=1 is not card 1's figure"; exit 1; }
echo "ok nvml: --gpus by index and by UUID, and CUDA_VISIBLE_DEVICES, read the named card"
"$TG_BIN" recipe --engine vllm --model "$cfg" --tp 2 --free-vram-mib 12000 --json > "$work/rwant.json"
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 \
  "$TG_BIN" recipe --engine vllm --model "$cfg" --tp 2 --free-vram-mib nvml --gpus 1 --json > "$work/rgot.json"
cmp "$work/rwant.json" "$work/rgot.json" || { echo "FAIL recipe --gpus 1"; diff "$work/rwant.json" "$work/rgot.json"; exit 1; }
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,12000 \
  "$TG_BIN" recipe --engine vllm --model "$cfg" --tp 2 --gpus 1 --json > "$work/rgot2.json"
cmp "$work/rwant.json" "$work/rgot2.json" || { echo "FAIL recipe --gpus 1 without --free-vram-mib"; exit 1; }
echo "ok nvml: tokgate recipe reads the model's own card (--gpus alone reads NVML)"
set +e
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,lost \
  "$TG_BIN" limits --model "$cfg" --free-vram-mib nvml --gpus 1 > /dev/null 2> "$work/err"
st=$?
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254,lost \
  "$TG_BIN" limits --model "$cfg" --free-vram-mib nvml --gpus 0 --json > "$work/got4.json"
st0=$?
TG_NVML_LIB="$work/libnvml-standin.so" TG_NVML_STANDIN_FREE_MIB=9254 \
  "$TG_BIN" limits --model "$cfg" --free-vram-mib nvml --gpus 3 > /dev/null 2> "$work/err3"
st3=$?
set -e
[ $st -eq 2 ] && grep -q "GPU is lost" "$work/err" || { echo "FAIL lost card: exit $st, $(cat "$work/err")"; exit 1; }
[ $st0 -eq 0 ] || { echo "FAIL a lost card 1 must not stop reading card 0: exit $st0"; exit 1; }
[ $st3 -eq 2 ] && grep -q "card '3' is not among the 1 card(s)" "$work/err3" || { echo "FAIL unknown card: exit $st3, $(cat "$work/err3")"; exit 1; }
echo "ok nvml: a lost card and an unknown card are clear errors naming them; the other card still reads"
echo "7 passed, 0 failed"
