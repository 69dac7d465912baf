#!/usr/bin/env bash
# Installs every Debian 12 package tfbench, its backends and its tests use. Run as root.
# Nothing is downloaded at build or run time; this script is the only install step.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs=(
  # build
  build-essential cmake ninja-build pkg-config git
  # JSON (config.json, safetensors headers, results files)
  libcjson-dev
  # sanitizers and fuzzing (clang's libFuzzer and runtimes)
  clang libclang-rt-14-dev
  # SIMD on Arm, proven under emulation
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static
  # oneDNN (v2.6 C API)
  libdnnl-dev
  # OpenCL through the ICD loader, PoCL as the CPU device
  ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo
  # Vulkan through the loader, lavapipe as the CPU device, glslc for SPIR-V, validation layer for tests
  libvulkan-dev mesa-vulkan-drivers glslc vulkan-validationlayers vulkan-tools
  # kernel microbenchmarks and reports
  libbenchmark-dev gnuplot-nox
  # test tooling
  python3
)

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install-deps.sh: must run as root (apt-get)" >&2
  exit 2
fi

# Skip apt entirely when everything is already there (fast re-runs in CI and development).
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/install-deps.sh: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "ci/install-deps.sh: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
