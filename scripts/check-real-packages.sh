#!/usr/bin/env bash
# Run real public MicroPython packages, unchanged, on the simulated board:
# micropython-esp32-ulp's ESP32 examples and micropython-lib packages that
# need only the core, machine and esp32 (tests/real). They are not part of
# the test suite because they are not ours to vendor and CI has no network.
#
# usage: scripts/check-real-packages.sh [DIR]
# DIR (default $ESIM_REAL_PACKAGES, else .real-packages) holds checkouts
# named micropython-esp32-ulp/ and micropython-lib/; missing ones are
# cloned from GitHub.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-${ESIM_REAL_PACKAGES:-.real-packages}}
mkdir -p "$dir"
for repo in micropython-esp32-ulp micropython-lib; do
  if [ ! -d "$dir/$repo" ]; then
    git clone -q --depth 1 "https://github.com/micropython/$repo" "$dir/$repo" || {
      echo "check-real-packages: cannot fetch $repo; put a checkout of it in $dir/$repo" >&2
      exit 2
    }
  fi
done
scripts/deps.sh test
cmake -S . -B build -DPython3_EXECUTABLE=/usr/bin/python3 >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
ESIM_REAL_PACKAGES=$(cd "$dir" && pwd) ESP32SIM=$PWD/build/esp32sim \
  /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/real
