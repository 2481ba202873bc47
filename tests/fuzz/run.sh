#!/usr/bin/env bash
# Bounded libFuzzer run of the decoder: 30 s or 4 million inputs, whichever
# comes first, from the committed seed corpus copied to a scratch directory
# (so that the run never rewrites the repository). Non-zero exit on a crash;
# the crashing input is left in <build>/fuzz-artifacts/.
#   usage: tests/fuzz/run.sh <fuzz build dir> [extra libFuzzer flags]
set -euo pipefail
build=${1:?usage: run.sh <fuzz build dir>}
shift
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/tests/fuzz/fuzz_decode
[ -x "$bin" ] || { echo "run.sh: $bin not built (cmake --build $build --target fuzz_decode)" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here"/corpus/* "$work"/
mkdir -p "$build/fuzz-artifacts"

"$bin" -max_total_time=30 -runs=4000000 -max_len=4096 -rss_limit_mb=2048 \
	-artifact_prefix="$build/fuzz-artifacts/" -print_final_stats=1 "$@" "$work"
