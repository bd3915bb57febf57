#!/usr/bin/env bash
# The exhaustive OTA power-cut campaign (docs/reliability.md): a cut at every
# mutating flash operation of the three OTA sessions (update, rollback, second
# update) with several seeds for the torn write, after every programmed byte
# (BYTE_STRIDE=1), two and more power-ups after each cut, and a second cut at
# each otadata write the recovery boot makes. The cut points are split over
# the machine's cores. Extra arguments go to ota_powercut (e.g. --scenario
# rollback, --mode ops, --boots 3).
#
#   scripts/ota-powercut.sh                   # uses build/ (BUILD=dir to change)
#   BUILD=build-asan scripts/ota-powercut.sh  # the same under ASan+UBSan
#   SEEDS=20 BYTE_STRIDE=7 JOBS=2 scripts/ota-powercut.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD:-build}
seeds=${SEEDS:-10}
byte_stride=${BYTE_STRIDE:-1}
jobs=${JOBS:-$(nproc)}

. scripts/powercut-common.sh
build_tool ota_powercut
run_shards --seeds "$seeds" --byte-stride "$byte_stride" --recut "$@"

# The sessions (from the first shard), every failure with its reproducer,
# then the totals over all shards.
grep -h -v -e '^summary:' -e '^FAIL' -e '^     ' -e 'trials,' "$logs/shard-0.log" || true
grep -h -e '^FAIL' -e '^     ' "$logs"/shard-*.log || true
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
    old[name] += after("old app in"); new[name] += after("the new in")
    wrote[name] += after("recovery wrote in"); recut[name] += after("recovery cut in")
  }
  END {
    for (k = 1; k <= n; k++) {
      m = order[k]
      printf "%-15s %6d cut points %7d trials %3d failures | first power-up: old %6d, new %4d | recovery wrote %4d, recovery cut %4d\n",
             m, points[m], trials[m], failures[m], old[m], new[m], wrote[m], recut[m]
      tp += points[m]; tt += trials[m]; tf += failures[m]
    }
    printf "total           %6d cut points %7d trials %3d failures\n", tp, tt, tf
  }' "$logs"/shard-*.log
echo "wall time: $(( $(date +%s) - start )) s on $jobs job(s)"
exit $status
