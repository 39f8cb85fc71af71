#!/usr/bin/env bash
# Sanitizer job: builds the compiled core with AddressSanitizer and UndefinedBehaviorSanitizer in
# its own build directory (build/asan), installs it into a copy of the Python package there (the
# developer build in python/tnfast is left alone), and runs the C++-heavy tests under it.
# Any ASan/UBSan report aborts the test process, so the job fails on the first finding.
#   scripts/sanitize_ci.sh                 # the default test selection
#   scripts/sanitize_ci.sh tests/test_mpo.py -k apply    # pytest arguments override it
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${TNFAST_SAN_BUILD_DIR:-build/asan}
PKG="$BUILD/pkg"
# a fresh copy of the Python sources (no compiled extension from the developer build)
rm -rf "$PKG" && mkdir -p "$PKG" && cp -r python/tnfast "$PKG/tnfast"
rm -rf "$PKG"/tnfast/_core*.so "$PKG"/tnfast/.*.tmp
find "$PKG" -name __pycache__ -prune -exec rm -rf {} +
# -O1: instrumented code compiles several times faster than at -O3 and still runs the tests in minutes
TNFAST_BUILD_DIR="$BUILD" TNFAST_INSTALL_DIR="$PKG/tnfast" BUILD_TYPE=Release \
  scripts/devbuild.sh -DTNFAST_SANITIZE=ON "-DCMAKE_CXX_FLAGS_RELEASE=${SAN_OPT_FLAGS:--O1 -DNDEBUG}"
CXX_BIN=${CXX:-g++}
ASAN_LIB=$("$CXX_BIN" -print-file-name=libasan.so)
UBSAN_LIB=$("$CXX_BIN" -print-file-name=libubsan.so)
if [ "$#" -eq 0 ]; then
  set -- tests/test_tensortrain.py tests/test_sweep_env.py tests/test_linalg.py tests/test_maxvol.py \
    tests/test_mpo.py tests/test_prrlu.py tests/test_cross.py tests/test_rss.py tests/test_grids.py \
    tests/test_robustness.py tests/test_interrupt.py tests/test_fuzz.py tests/test_nn_mpo.py
fi
# Python itself is not instrumented: the runtimes are preloaded, leak checking is off (the
# interpreter keeps its allocations to exit), and the first error aborts the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TNFAST_SANITIZED=1
LD_PRELOAD="$ASAN_LIB $UBSAN_LIB" PYTHONPATH="$PKG" python3 -m pytest -q -p no:cacheprovider -m "not slow" "$@"
