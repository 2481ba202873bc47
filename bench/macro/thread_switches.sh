#!/usr/bin/env bash
# Context switches and CPU per authorization, per agent thread, while a sweep
# step runs: the count of sleeps and wake-ups an authorization costs, which
# (unlike latency) hardly moves with the machine's other load.
#
#   bash bench/macro/thread_switches.sh --build-dir DIR --rate R [--seconds S]
#
# Run it beside a sweep step of rate R started from DIR (sweep.sh
# --build-dir DIR --rates R --step-seconds >= S + 5): it finds the agents
# by their executables' paths under DIR (so another build's agents on the
# machine are not counted), waits 2 s, then samples /proc for S seconds
# (default 10) and prints, per thread: CPU ms, voluntary and involuntary
# context switches, and both per authorization (R x S authorizations).
set -euo pipefail
build=""
rate=""
seconds=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --help|-h) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "thread_switches: unknown option '$1'" >&2; exit 2 ;;
  esac
done
[ -n "$build" ] && [ -n "$rate" ] || { echo "thread_switches: --build-dir and --rate are required" >&2; exit 2; }
build=$(realpath "$build")
pattern="$build/(switch/switch|bank-node/bank-node|cardholder-loadgen/cardholder-loadgen|bench/macro/iso-reflector) "
for _ in $(seq 600); do # bounded: 60 s for the generator to start
  pgrep -f "$build/cardholder-loadgen/cardholder-loadgen " >/dev/null && break
  sleep 0.1
done
sleep 2
pids=$(pgrep -f "$pattern" || true)
[ -n "$pids" ] || { echo "thread_switches: no agent of $build is running" >&2; exit 1; }
tick=$(getconf CLK_TCK)

# One line per thread: pid/tid name cpu_ticks voluntary nonvoluntary
sample() {
  for p in $pids; do
    name=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | sed -E 's/.*--(network|bank) ([A-Za-z0-9_-]+).*/\2/; s|^/[^ ]*/||; s| .*||') || continue
    for t in /proc/"$p"/task/*; do
      [ -r "$t/stat" ] || continue
      cpu=$(sed 's/^.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
      sw=$(awk '/^voluntary_ctxt_switches/{v=$2} /^nonvoluntary_ctxt_switches/{n=$2} END{print v, n}' "$t/status" 2>/dev/null) || continue
      echo "$p/${t##*/} $name/$(cat "$t/comm" 2>/dev/null) $cpu $sw"
    done
  done
}
before=$(sample | sort)
sleep "$seconds"
after=$(sample | sort)
auths=$((rate * seconds))
printf "%-34s %8s %9s %9s %10s %10s %12s\n" thread cpu_ms voluntary involuntary vol/auth invol/auth cpu_us/auth
join <(echo "$before") <(echo "$after") | awk -v tick="$tick" -v auths="$auths" '
  { cpu = ($7 - $3) * 1000 / tick; v = $8 - $4; n = $9 - $5
    if (cpu == 0 && v < auths / 100) next
    printf "%-34s %8d %9d %9d %10.2f %10.2f %12.1f\n", $2, cpu, v, n, v / auths, n / auths, cpu * 1000 / auths
    total_cpu += cpu; tv += v; tn += n }
  END { printf "%-34s %8d %9d %9d %10.2f %10.2f %12.1f\n", "all", total_cpu, tv, tn, tv / auths, tn / auths, total_cpu * 1000 / auths }'
