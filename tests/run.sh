#!/usr/bin/env bash
# Installs everything the tests need, then runs every test (unit, AppTest, browser).
# Usage: bash tests/run.sh [extra pytest args]
# Other machines compute the last bits differently (tests/tolerances.py); to check that the suite holds there:
#   OMP_NUM_THREADS=1 bash tests/run.sh            # torch limited to one thread
#   ATEN_CPU_CAPABILITY=default bash tests/run.sh  # ATen without its AVX2/AVX-512 kernels
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
python3 -m pip install -q -r requirements-dev.txt
# Idle torch threads sleep instead of spinning: the suite stays fast when other work shares the cores.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
python3 -m pytest "$@"
