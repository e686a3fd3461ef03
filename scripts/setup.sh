#!/usr/bin/env bash
# setup.sh: the system packages treereward builds and tests with, on Debian/Ubuntu:
# a C++ toolchain and CMake (the addon), OpenBLAS (CPU matrix products), oneDNN (convolution and
# matrix products in float32 and bfloat16; loaded at run time when present) and Chromium (the
# annotation app's browser test). Installs only what is missing; needs root or sudo for apt.
set -euo pipefail
packages=(build-essential cmake python3 libopenblas-dev libdnnl-dev chromium)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -eq 0 ]; then
  echo "[setup] system packages present: ${packages[*]}"
  exit 0
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "[setup] installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
