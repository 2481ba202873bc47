#!/bin/sh
# The switch's fast path on DPDK against DPDK testpmd on the same PMD, in one run.
#   bench/switch/run.sh                      # 2,000,000 authorizations, testpmd 10 s
#   MESSAGES=500000 TESTPMD_SECONDS=5 bench/switch/run.sh
# Needs no hugepages and no NIC (--no-huge, ring/null vdevs); testpmd uses lcores 0-1.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build-bench-switch}
MESSAGES=${MESSAGES:-2000000}
TESTPMD_SECONDS=${TESTPMD_SECONDS:-10}
OUT=$(mktemp -d /tmp/iso-dpdk-bench-run.XXXXXX)
trap 'rm -rf "$OUT"' EXIT

echo "== build (RelWithDebInfo: -O2 -march=native, no sanitizers) in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DISO_SANITIZE=OFF -DISO_TESTS=OFF >"$OUT/cmake.log" 2>&1 ||
	{ cat "$OUT/cmake.log"; exit 1; }
cmake --build "$BUILD" -j2 --target switch_fast_path >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }

echo "== machine"
lscpu | grep -E '^(Model name|CPU\(s\)|Thread|Core|Socket|CPU max MHz|CPU MHz|L1d|L2|L3|Hypervisor)' || true
echo "DPDK $(pkg-config --modversion libdpdk), $(uname -sr)"

echo "== switch worker: $MESSAGES authorizations over the DPDK port (ring-backed ethdev pair)"
"$BUILD/bench/switch/switch_fast_path" --messages "$MESSAGES" 2>"$OUT/switch.err" | tee "$OUT/switch.out" ||
	{ grep -v '^EAL' "$OUT/switch.err"; exit 1; }
switch_cpd=$(sed -n 's/^RESULT cycles_per_datagram=\([0-9.]*\).*/\1/p' "$OUT/switch.out")

echo "== the DPDK port alone (echo worker, same wire): its share of the figure above"
"$BUILD/bench/switch/switch_fast_path" --messages "$MESSAGES" --port-only 2>"$OUT/port.err" | tee "$OUT/port.out" ||
	{ grep -v '^EAL' "$OUT/port.err"; exit 1; }
port_cpd=$(sed -n 's/^RESULT port_cycles_per_datagram=\([0-9.]*\).*/\1/p' "$OUT/port.out")

# testpmd stops on SIGINT and prints its forward statistics, with --record-core-cycles
# the busy cycles per forwarded packet. Ring vdevs without arguments are loopbacks:
# --tx-first puts the first bursts in flight, io forwarding keeps them going.
testpmd_run() { # name, forward mode, vdev args...
	name=$1 mode=$2
	shift 2
	timeout -s INT "$TESTPMD_SECONDS" dpdk-testpmd --no-huge --no-pci -m 512 -l 0-1 \
		--file-prefix "iso-dpdk-testpmd-$$" --log-level lib.eal:warning "$@" -- \
		--forward-mode="$mode" --tx-first --record-core-cycles --stats-period 1 \
		--total-num-mbufs 8192 </dev/null >"$OUT/testpmd-$name.out" 2>&1 || true
	rm -rf "/var/run/dpdk/iso-dpdk-testpmd-$$"
	sed -n 's/.*CPU cycles\/packet=\([0-9.]*\).*/\1/p' "$OUT/testpmd-$name.out" | tail -1
}
echo "== dpdk-testpmd, $TESTPMD_SECONDS s each, 1 forwarding lcore"
ring_io=$(testpmd_run ring-io io --vdev net_ring0 --vdev net_ring1)
ring_macswap=$(testpmd_run ring-macswap macswap --vdev net_ring0 --vdev net_ring1)
null_io=$(testpmd_run null-io io --vdev net_null0 --vdev net_null1)
echo "  net_ring io       cycles/packet ${ring_io:-?}"
echo "  net_ring macswap  cycles/packet ${ring_macswap:-?}"
echo "  net_null io       cycles/packet ${null_io:-?}"
if [ -z "$ring_io" ]; then
	echo "testpmd gave no cycles/packet; its output:"
	tail -30 "$OUT/testpmd-ring-io.out"
	exit 1
fi

echo "== ratio (switch cycles per datagram forwarded / testpmd io cycles per packet, net_ring)"
awk -v s="$switch_cpd" -v p="$port_cpd" -v t="$ring_io" -v m="$ring_macswap" 'BEGIN {
	printf "  switch %.1f / testpmd io %.2f = %.1fx   (target: within 5x)\n", s, t, s / t
	if (m > 0) printf "  switch %.1f / testpmd macswap %.2f = %.1fx\n", s, m, s / m
	printf "  port alone %.1f / testpmd io %.2f = %.1fx\n", p, t, p / t
	if (m > 0) printf "  port alone %.1f / testpmd macswap %.2f = %.1fx\n", p, m, p / m
}'
