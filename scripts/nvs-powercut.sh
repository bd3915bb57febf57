#!/usr/bin/env bash
# The exhaustive NVS power-cut campaign (docs/reliability.md): every mutating
# flash operation of the long workload on a 6-page and a 4-page partition,
# with several seeds for the torn write, every programmed byte of the short
# workload, and a second cut inside each recovery that writes. The cut points
# are split over the machine's cores. Extra arguments go to nvs_powercut
# (e.g. --size 0x4000, --mode ops, --strict).
#
#   scripts/nvs-powercut.sh                  # uses build/ (BUILD=dir to change)
#   BUILD=build-asan scripts/nvs-powercut.sh # the same under ASan+UBSan
#   SEEDS=10 JOBS=2 scripts/nvs-powercut.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
seeds=${SEEDS:-3}
jobs=${JOBS:-$(nproc)}

. scripts/powercut-common.sh
build_tool nvs_powercut
run_shards --seeds "$seeds" --recut "$@"

# The workloads (from the first shard), every failure and ESP-IDF gap met
# with its reproducer, then the totals over all shards.
grep -h -v -e '^summary:' -e '^FAIL' -e '^IDF' -e '^     ' -e 'trials,' "$logs/shard-0.log" || true
grep -h -e '^FAIL' -e '^IDF' -e '^     ' "$logs"/shard-*.log || true
awk '
  function after(text,   t) {   # the number right after `text` on this line
    if (!match($0, text " [0-9]+")) return 0
    t = substr($0, RSTART, RLENGTH); sub(/.* /, "", t); return t + 0
  }
  / trials, / && !/^summary:/ {
    name = $1; sub(":", "", name)
    if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    if (match($0, /: [0-9]+ cut points/)) points[name] += substr($0, RSTART + 2) + 0
    if (match($0, /= [0-9]+ trials/)) trials[name] += substr($0, RSTART + 2) + 0
    failures[name] += after("trials,")
    wrote[name] += after("recovery wrote in"); recut[name] += after("recovery cut in")
    both[name] += after("kept both in"); lost[name] += after("blob lost in")
    hidden[name] += after("hid a blob in")
  }
  END {
    for (k = 1; k <= n; k++) {
      m = order[k]
      printf "%-12s %6d cut points %6d trials %3d failures | recovery wrote %5d, recovery cut %5d | ESP-IDF gaps: both kept %2d, blob lost %2d | read-only hid a blob %d\n",
             m, points[m], trials[m], failures[m], wrote[m], recut[m], both[m], lost[m], hidden[m]
      tp += points[m]; tt += trials[m]; tf += failures[m]; tb += both[m]; tl += lost[m]
    }
    printf "total        %6d cut points %6d trials %3d failures | ESP-IDF gaps: %d type changes kept both values, %d blobs lost\n",
           tp, tt, tf, tb, tl
  }' "$logs"/shard-*.log
echo "wall time: $(( $(date +%s) - start )) s on $jobs job(s)"
exit $status
