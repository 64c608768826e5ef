#!/usr/bin/env bash
# The main job on the built-in defaults: runs the shipped orientation-attention protocol on the shipped
# checkpoint and writes its results to Reports/orientation-attention/. Pass another protocol file (and
# `ephys run` options) to run that instead: bash scripts/run.sh Protocols/width-attention.yaml --seed 2
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
swift build -c release --product ephys
protocol="${1:-Protocols/orientation-attention.yaml}"
[ $# -gt 0 ] && shift
.build/release/ephys run "$protocol" "$@"
