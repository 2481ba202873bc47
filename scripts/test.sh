#!/usr/bin/env bash
# Installs what is missing, builds the test build (ASan + UBSan) and runs every
# test: criterion unit tests and end-to-end tests through ctest, then a short
# bounded libFuzzer run of the decoder (clang build).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh

jobs=$(nproc)
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DISO_SANITIZE=ON -DISO_BENCH=OFF >/dev/null
cmake --build build-test -j "$jobs"

# LSan needs ptrace-free leak checks; DPDK maps memory ASan must not track.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-test --output-on-failure -j 1

CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DISO_FUZZ=ON -DISO_TESTS=OFF -DISO_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_decode
bash tests/fuzz/run.sh build-fuzz
