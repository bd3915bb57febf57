#!/usr/bin/env bash
# Build everything (installing missing Debian packages first), then run the
# main job: a MicroPython example on the default simulated board.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh build
# Debian's interpreter, deliberately: python3-dev and python3-pytest install there.
cmake -S . -B build -DPython3_EXECUTABLE=/usr/bin/python3 -DESIM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
exec build/esp32sim run examples/partitions.py
