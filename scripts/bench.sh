#!/usr/bin/env bash
# Run every benchmark against the build in build/ (made by build-and-run.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== core flash path (C)"
build/bench/bench_flash
echo
echo "== app image verification (SHA-256)"
build/bench/bench_image
echo
echo "== boots in a reset loop (C core: bootloader + NVS mount)"
build/bench/bench_boot
echo
echo "== ESP-IDF heap (C): the firmware allocation trace on esim_tlsf and on glibc malloc/free"
build/bench/bench_heap bench/traces/firmware_boot.trace
echo
echo "== boots in a reset loop (esp32sim run: bootloader, NVS, boot.py, main.py)"
/usr/bin/python3 bench/bench_boot.py build/esp32sim
echo
echo "== a simulated day of one-minute deep-sleep cycles (esp32sim run, 1,441 boots)"
/usr/bin/python3 bench/bench_sleep_day.py build/esp32sim
echo
echo "== RMT pulses, a 1,000-pixel NeoPixel frame, VCD size (Python binding)"
PYTHONPATH=build/python /usr/bin/python3 bench/bench_rmt.py build/esp32sim
echo
echo "== esp32.Partition block I/O (Python binding)"
PYTHONPATH=build/python /usr/bin/python3 bench/bench_partition.py
echo
echo "== esp32sim run start-up"
/usr/bin/python3 bench/bench_startup.py build/esp32sim
echo
echo "== ULP-FSM emulator (C): instructions per second, real-time factor, a day of 10 ms sampling"
build/bench/bench_ulp
PYTHONPATH=build/python /usr/bin/python3 bench/bench_ulp_day.py
echo
echo "== NVS engine (C): the shared NVS workloads W1-W6, speed and flash traffic per op"
build/bench/bench_nvs
# Instruction counts are exactly repeatable where wall times are not; they
# take about two minutes under callgrind (NVS_CALLGRIND=0 skips them).
if [ "${NVS_CALLGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
  echo
  echo "== NVS engine: instructions per operation (callgrind, inside the timed loop only)"
  nvs_instructions() {   # workload, timed function, operations
    local n
    n=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect="$2" \
          build/bench/bench_nvs --only "$1" 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
    awk -v id="$1" -v n="$n" -v ops="$3" 'BEGIN { printf "%-8s %12.0f instructions/op\n", id, n / ops }'
  }
  nvs_instructions W1 timed_w1 5000
  nvs_instructions W2 timed_w2 200000
  nvs_instructions get50 timed_w2 200000
  nvs_instructions W3 timed_w3 100000
  nvs_instructions W4 timed_w4 5000
  nvs_instructions W5a timed_w5 1000
  nvs_instructions W5b timed_w5 100
  nvs_instructions W6-24k timed_w6 1
  nvs_instructions W6-1m timed_w6 1
  nvs_instructions table timed_table 200000
fi
