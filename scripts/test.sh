#!/usr/bin/env bash
# The test command: sets the machine up, then runs every test in a release build (numeric code is
# far too slow in debug builds; -enable-testing keeps @testable imports working).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --build-tests -Xswiftc -enable-testing
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
