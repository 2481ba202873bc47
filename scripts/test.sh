#!/usr/bin/env bash
# Installs what is missing, then:
#   1. builds everything in Release (warnings are errors there too: -O2 finds
#      things -O0 does not), without running it;
#   2. runs a short bounded libFuzzer run of the decoder (clang build);
#   3. builds the test build (ASan + UBSan) and runs every test through ctest:
#      criterion unit tests and end-to-end tests that start the real programs.
# ctest runs last, so its summary closes the output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Every program the tests call, checked before anything runs (scripts/programs.tsv).
bash scripts/check-programs.sh

jobs=$(nproc)
echo "== Release build (compile check)"
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-release -j "$jobs" >/dev/null

echo "== fuzzing: decoder and bank request path (bounded)"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DISO_FUZZ=ON -DISO_TESTS=OFF -DISO_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_decode fuzz_bank_request >/dev/null
bash tests/fuzz/run.sh build-fuzz

echo "== test build (ASan + UBSan)"
cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DISO_SANITIZE=ON -DISO_BENCH=OFF >/dev/null
cmake --build build-test -j "$jobs" >/dev/null

# Leak checks on; UBSan findings are fatal. ctest also fails any test whose
# output carries a sanitizer report (see iso_add_test in CMakeLists.txt).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
ctest --test-dir build-test --output-on-failure -j 1
