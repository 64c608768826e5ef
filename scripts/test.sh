#!/usr/bin/env bash
# The test command: sets the machine up, then runs every test in a release build (numeric code is
# far too slow in debug builds; -enable-testing keeps @testable imports working).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh slurm-wlm munge
# Python peers of the NWB output (pynwb's validator, pynapple's loader), pinned, in a virtual environment.
if ! .venv-nwb/bin/python -c "import pynwb, pynapple" >/dev/null 2>&1; then
  echo "test: installing pynwb 4.2.0 and pynapple 0.11.4 into .venv-nwb"
  python3 -m venv .venv-nwb
  .venv-nwb/bin/python -m pip install --quiet --disable-pip-version-check pynwb==4.2.0 pynapple==0.11.4
fi
export EPHYS_REQUIRE_NWB_PYTHON=1
# A real one-node Slurm (Debian's slurm-wlm 22.05 and munge, installed by setup.sh above) for the
# sharded-run test, which starts and stops its own daemons (scripts/slurm/local-cluster.sh); the test
# fails rather than skips here.
export EPHYS_REQUIRE_SLURM=1
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
