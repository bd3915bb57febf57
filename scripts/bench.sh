#!/usr/bin/env bash
# Run every benchmark against the build in build/ (made by build-and-run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== core flash path (C)"
build/bench/bench_flash
echo
echo "== esp32.Partition block I/O (Python binding)"
PYTHONPATH=build/python /usr/bin/python3 bench/bench_partition.py
echo
echo "== esp32sim run start-up"
/usr/bin/python3 bench/bench_startup.py build/esp32sim
