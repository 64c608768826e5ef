#!/usr/bin/env bash
# The main job on the built-in defaults: for now, train the engine's smoke CNN on the MNIST subset and
# report its held-out accuracy (the orientation-attention report replaces this as the workbench grows).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product ephys
.build/release/ephys train smoke-cnn "$@"
