#!/usr/bin/env bash
# The limits part of tokgate's job (`make limits-demo`): installs build deps, builds,
# and derives a real model's usable limits from its published config and a GPU's
# free memory. The full main job is scripts/gateway-demo.sh (`make demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
make -s build >/dev/null 2>&1 || make build
cfg=tests/data/configs/Qwen3.6-27B
echo "== tokgate inspect $cfg"
./build/tokgate inspect "$cfg"
echo
echo "== tokgate limits: Qwen3.6-27B split over two cards (tp 2), 9254 MiB free on the tightest (helexa's example)"
./build/tokgate limits --model "$cfg" --free-vram-mib 9254,12000 --tp 2 --table
echo
echo "== the same as JSON (what the gateway advertises)"
./build/tokgate limits --model "$cfg" --free-vram-mib 9254,12000 --tp 2 --json
