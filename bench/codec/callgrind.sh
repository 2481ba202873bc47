#!/usr/bin/env bash
# Instructions per message of iso_decode and iso_encode, counted by callgrind,
# for hosts where perf_event_open has no hardware counters (VMs).
#
# Builds bench_codec at the same -O2 as the release build, but for x86-64-v3
# instead of -march=native: valgrind 3.19 cannot execute AVX-512 code.
#   usage: bench/codec/callgrind.sh [build dir, default build-callgrind]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-callgrind}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Callgrind "-DCMAKE_C_FLAGS=-O2 -g -march=x86-64-v3" \
	-DISO_TESTS=OFF >/dev/null
cmake --build "$build" --target bench_codec -j2 >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
printf '%-11s %-6s %10s\n' case op instr/msg
for c in 1100-ascii 1110-ascii 1100-bcd 1110-bcd; do
	valgrind --tool=callgrind --callgrind-out-file="$out/$c" \
		"$build/bench/codec/bench_codec" --case "$c" --iterations 100000 --batches 1 >/dev/null 2>&1
	# Inclusive cost of the benchmark loop's call edge into the codec (the
	# one with the most calls), divided by its call count.
	callgrind_annotate --inclusive=yes "$out/$c" 2>/dev/null |
		grep -E '=> .*:iso_(de|en)code \(' | sed 's/,//g' |
		awk -v c="$c" '{ n = $NF; gsub(/[(x)]/, "", n); op = ($0 ~ /iso_decode/) ? "decode" : "encode";
			if (n + 0 > calls[op]) { calls[op] = n + 0; cost[op] = $1 } }
			END { for (op in cost) printf "%-11s %-6s %10.0f\n", c, op, cost[op] / calls[op] }' |
		sort -k2
done
