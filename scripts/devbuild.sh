#!/usr/bin/env bash
# Fast developer build: compiles the extension in build/dev (incremental, ninja) and drops
# it into python/tnfast/, so that `PYTHONPATH=python pytest` runs against the source tree.
# Options are passed to CMake, e.g.  scripts/devbuild.sh -DTNFAST_SANITIZE=ON -DTNFAST_BUILD_BENCH=ON
# TNFAST_INSTALL_DIR (default python/tnfast) is where the extension is dropped.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${TNFAST_BUILD_DIR:-build/dev}
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-Release} \
  -Dpybind11_DIR="$(python3 -m pybind11 --cmakedir)" -DPython_EXECUTABLE="$(command -v python3)" "$@" >/dev/null
cmake --build "$BUILD" -j "${JOBS:-2}"
DEST=${TNFAST_INSTALL_DIR:-python/tnfast}
for so in "$BUILD"/_core*.so; do cp -f "$so" "$DEST/.$(basename "$so").tmp" && mv -f "$DEST/.$(basename "$so").tmp" "$DEST/$(basename "$so")"; done
