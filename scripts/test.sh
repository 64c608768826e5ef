#!/usr/bin/env bash
# The test command: sets the machine up, then runs every test in a release build (numeric code is
# far too slow in debug builds; -enable-testing keeps @testable imports working).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# Python peers of the NWB output (pynwb's validator, pynapple's loader), pinned, in a virtual environment.
if ! .venv-nwb/bin/python -c "import pynwb, pynapple" >/dev/null 2>&1; then
  echo "test: installing pynwb 4.2.0 and pynapple 0.11.4 into .venv-nwb"
  python3 -m venv .venv-nwb
  .venv-nwb/bin/python -m pip install --quiet --disable-pip-version-check pynwb==4.2.0 pynapple==0.11.4
fi
export EPHYS_REQUIRE_NWB_PYTHON=1
# A real one-node Slurm (Debian's slurm-wlm 22.05 and munge) for the sharded-run test, which starts and
# stops its own daemons (scripts/slurm/local-cluster.sh); the test fails rather than skips here.
slurm_missing=()
for p in slurm-wlm munge; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || slurm_missing+=("$p")
done
if [ ${#slurm_missing[@]} -gt 0 ]; then
  echo "test: installing ${slurm_missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${slurm_missing[@]}" >/dev/null
fi
export EPHYS_REQUIRE_SLURM=1
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
