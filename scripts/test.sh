#!/usr/bin/env bash
# Build and run every test: the normal build, then an ASan+UBSan build (clang)
# that also runs short smoke campaigns of every fuzz target.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh test
jobs=$(nproc)

echo "== build (gcc, -Werror) and test"
cmake -S . -B build -DPython3_EXECUTABLE=/usr/bin/python3 -DESIM_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

echo "== build (clang, ASan+UBSan, fuzz targets) and test"
CC=clang cmake -S . -B build-asan -DPython3_EXECUTABLE=/usr/bin/python3 -DESIM_WERROR=ON \
  -DESIM_SANITIZE=ON -DESIM_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug >/dev/null
cmake --build build-asan -j"$jobs"
ctest --test-dir build-asan --output-on-failure -j"$jobs"
