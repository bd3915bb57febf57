#!/usr/bin/env bash
# Install the Debian packages esp32sim needs, if any are missing.
# Usage: scripts/deps.sh [build|test]   ("test" adds clang for the sanitizer and fuzz builds,
# and sigrok-cli, which tests/cli/test_wave_cli.py uses to read our VCD files)
set -euo pipefail
need=(cmake make gcc pkg-config zlib1g-dev libmbedtls-dev python3 python3-dev python3-pytest libcmocka-dev libcjson-dev libcairo2-dev)
if [ "${1:-build}" = test ]; then
  need+=(clang libclang-rt-14-dev sigrok-cli)
fi
missing=()
for pkg in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "esp32sim: installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
