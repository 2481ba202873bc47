#!/usr/bin/env bash
# Bounded libFuzzer runs: each target for 30 s or 4 million inputs, whichever
# comes first, from the committed seed corpus copied to a scratch directory
# (so that the run never rewrites the repository). Non-zero exit on a crash;
# the crashing input is left in <build>/fuzz-artifacts/<target>-crash-*.
#   usage: tests/fuzz/run.sh <fuzz build dir> [target ...] [-- extra libFuzzer flags]
#   targets: fuzz_decode (the codec and reassembler), fuzz_bank_request (the
#   bank's decode / parse / salvage / answer path); default: both.
set -euo pipefail
build=${1:?usage: run.sh <fuzz build dir> [target ...] [-- libFuzzer flags]}
shift
here=$(cd "$(dirname "$0")" && pwd)
targets=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do targets+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_decode fuzz_bank_request)

mkdir -p "$build/fuzz-artifacts"
for target in "${targets[@]}"; do
  bin=$build/tests/fuzz/$target
  [ -x "$bin" ] || { echo "run.sh: $bin not built (cmake --build $build --target $target)" >&2; exit 2; }
  work=$(mktemp -d)
  cp "$here"/corpus/* "$work"/
  echo "== $target"
  status=0
  "$bin" -max_total_time=30 -runs=4000000 -max_len=4096 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz-artifacts/$target-" -print_final_stats=1 "$@" "$work" || status=$?
  rm -rf "$work"
  [ "$status" = 0 ] || exit "$status"
done
