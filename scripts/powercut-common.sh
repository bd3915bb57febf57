# Shared by the power-cut campaigns (nvs-powercut.sh, ota-powercut.sh):
# build a sweep tool and run it split into one shard per job. Source it after
# setting `build` and `jobs`.

# build_tool NAME: configure $build when needed, build tools/NAME, set $tool.
build_tool() {
  if [ ! -f "$build/CMakeCache.txt" ]; then
    cmake -S . -B "$build" -DPython3_EXECUTABLE=/usr/bin/python3 -DESIM_WERROR=ON >/dev/null
  fi
  cmake --build "$build" --target "$1" -j"$jobs" >/dev/null
  tool="$build/tools/$1"
}

# run_shards ARG...: run "$tool ARG... --shard i/jobs" for every shard in
# parallel, each into $logs/shard-i.log; sets $logs (removed at exit),
# $start and $status (1 when a shard failed).
run_shards() {
  logs=$(mktemp -d)
  trap 'rm -rf "$logs"' EXIT
  start=$(date +%s)
  local pids=() i pid
  for ((i = 0; i < jobs; i++)); do
    "$tool" "$@" --shard "$i/$jobs" >"$logs/shard-$i.log" 2>&1 &
    pids+=($!)
  done
  status=0
  for pid in "${pids[@]}"; do
    wait "$pid" || status=1
  done
}
