#!/usr/bin/env bash
# End-to-end load sweep: starts the switches and bank nodes of the config
# (fresh LMDB, banks in the given durability mode), then offers increasing
# open-loop rates with cardholder-loadgen until the ecosystem saturates, and
# prints per step the achieved authorizations/s and latency percentiles.
# Writes sweep-<mode>.tsv and gnuplot pictures in the output directory.
#
#   bash bench/macro/sweep.sh [--modes "async sync"] [--rates "5000 10000 ..."]
#        [--step-seconds S] [--max-seconds S] [--target ecosystem|reflector]
#        [--config FILE] [--build-dir DIR] [--out DIR] [--threads N]
#        [--switch-workers N] [--dataplane socket|dpdk] [--no-build]
#        [--loadgen-args "more cardholder-loadgen options"]
#
# --target reflector replaces every switch by bench/macro's iso-reflector (no
# banks): the ceiling of the load generator and the kernel UDP path alone.
# --dataplane dpdk runs everything in a network namespace of its own: the
# generator and the switches on DPDK net_af_packet ports over veth pairs, the
# banks (or reflectors) on kernel sockets behind a bridge (root, iproute2, ethtool).
# "achieved" counts decisions only (approved or declined): an answer with a 9xx
# action code (911 issuer timed out, 912 unavailable) is a failure, not a rate.
# A step saturates when under 90% of the offered rate is decided in time,
# more than 1% time out or fail with 9xx, or p99 exceeds 1 s; the sweep of a
# mode stops there.
set -euo pipefail
umask 077 # reports, logs and LMDB files: the owner's only
cd "$(dirname "$0")/../.."
root=$(pwd)

config=config/ecosystem.yaml
build=build
modes="async sync"
rates="5000 10000 20000 50000 100000 150000 200000 250000 300000 400000 500000 1000000"
step_seconds=3
max_seconds=240
target=ecosystem
threads=1
switch_workers=1
dataplane=socket
out=""
build_first=1
extra_loadgen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --config) config=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --step-seconds) step_seconds=$2; shift 2 ;;
    --max-seconds) max_seconds=$2; shift 2 ;;
    --target) target=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --switch-workers) switch_workers=$2; shift 2 ;;
    --dataplane) dataplane=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) build_first=0; shift ;;
    --loadgen-args) read -r -a extra_loadgen <<<"$2"; shift 2 ;;
    --help|-h) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sweep: unknown option '$1'" >&2; exit 2 ;;
  esac
done
config=$(realpath "$config")
[ "$target" = reflector ] && modes=reflector
stamp=$(date -u +%Y%m%dT%H%M%SZ)
out=${out:-$root/reports/sweep-$stamp}
mkdir -p "$out"
out=$(realpath "$out")
if [ "$target" = reflector ]; then
  # The reflectors cannot sign (see start_agents): the acquirers' links may run without MACs.
  sed 's/^  allow_unprotected: false/  allow_unprotected: true/' "$config" >"$out/config-reflector.yaml"
  config="$out/config-reflector.yaml"
fi

if [ "$build_first" = 1 ]; then
  echo "== building (Release) in $build/"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DISO_SANITIZE=OFF -DISO_TESTS=OFF -DISO_BENCH=ON >/dev/null
  cmake --build "$build" -j 2 --target switch bank-node cardholder-loadgen iso-reflector pan-keys iso8583 http-keys >/dev/null
fi
build=$(realpath "$build")
loadgen="$build/cardholder-loadgen/cardholder-loadgen"
# With --no-build, a program the build lacks would only show as a step with no answers.
needed=(cardholder-loadgen/cardholder-loadgen tools/pan-keys tools/iso8583 tools/http-keys)
if [ "$target" = reflector ]; then needed+=(bench/macro/iso-reflector); else needed+=(switch/switch bank-node/bank-node); fi
for program in "${needed[@]}"; do
  [ -x "$build/$program" ] || { echo "sweep: $build/$program is missing (build it, or drop --no-build)" >&2; exit 2; }
done
source "$root/scripts/http-security.sh"

pids=()
kinds=()
run_dir=""
keep_logs=0
stop_agents() {
  [ ${#pids[@]} -gt 0 ] || return 0
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  pids=()
  kinds=()
  if [ "$keep_logs" = 1 ]; then
    echo "sweep: agent logs kept in $run_dir" >&2
  else
    rm -rf "$run_dir"
  fi
  run_dir=""
}
# --dataplane dpdk: everything in one network namespace made for the sweep,
# around a bridge: the generator and (for --target ecosystem) the switches on
# DPDK net_af_packet ports over veth pairs, the banks (or the reflectors) on
# kernel sockets bound to the bridge, addresses from the benchmarking range
# 198.18.30.0/24 that never leave the namespace. Needs root, iproute2, ethtool.
netns=""
in_ns=()
loadgen_dpdk=()
eal=(--no-huge --no-pci -l 0 -m 512)
teardown_netns() {
  [ -n "$netns" ] && ip netns del "$netns" 2>/dev/null || true
  netns=""
}
trap 'status=$?; [ $status -eq 0 ] || keep_logs=1; stop_agents; teardown_netns; exit $status' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
mapfile -t agents < <("$loadgen" --config "$config" --list-agents)
[ ${#agents[@]} -gt 0 ] || { echo "${0##*/}: no agents in $config (see the error above)" >&2; exit 1; }
# Outside a namespace of its own, the sweep's ports must be free: UDP sockets
# bind with SO_REUSEPORT and a second run would silently share traffic.
if [ "$dataplane" != dpdk ]; then
  for line in "${agents[@]}"; do
    read -r _kind name h iso <<<"$line"
    if [ -n "$(ss -Hltn "sport = :${h##*:}" 2>/dev/null)$(ss -Hlun "sport = :${iso##*:}" 2>/dev/null)" ]; then
      echo "sweep: a port of $name ($h, $iso) is already in use (another run?)" >&2
      exit 1
    fi
  done
fi
if [ "$dataplane" = dpdk ]; then
  netns="lgsweep-$$"
  in_ns=(ip netns exec "$netns")
  ip netns add "$netns"
  ip -n "$netns" link set lo up
  ip -n "$netns" link add br0 type bridge
  ip -n "$netns" link set br0 up
  # A packet socket sees the kernel's partial UDP checksums: no TX offload on the kernel side.
  ip netns exec "$netns" ethtool -K br0 tx off >/dev/null
  add_veth() { # name: <name>A for DPDK, <name>B on the bridge
    ip -n "$netns" link add "${1}A" type veth peer name "${1}B"
    ip -n "$netns" link set "${1}B" master br0
    ip -n "$netns" link set "${1}A" up
    ip -n "$netns" link set "${1}B" up
    ip netns exec "$netns" ethtool -K "${1}B" tx off >/dev/null
  }
  derived="$out/config-dpdk.yaml"
  cp "$config" "$derived"
  b=0 n=0
  for line in "${agents[@]}"; do
    read -r kind name _h iso <<<"$line"
    if [ "$kind" = bank ]; then
      address="198.18.30.$((10 + b))"; b=$((b + 1))
      ip -n "$netns" addr add "$address/24" dev br0
    else
      address="198.18.30.$((1 + n))"
      if [ "$target" = reflector ]; then
        ip -n "$netns" addr add "$address/24" dev br0
      else
        add_veth "sw$n"
      fi
      n=$((n + 1))
    fi
    sed -i "s/iso: ${iso%:*}:${iso#*:}\([^0-9]\|\$\)/iso: $address:${iso#*:}\1/" "$derived"
  done
  add_veth lg
  config="$derived"
  mapfile -t agents < <("$loadgen" --config "$config" --list-agents)
  loadgen_dpdk=(--dataplane dpdk --dpdk-address 198.18.30.100 -- "${eal[@]}" --vdev net_af_packet0,iface=lgA,framecnt=4096)
  dpdk_modes=""
  for mode in $modes; do dpdk_modes+="$mode-dpdk "; done
  modes=$dpdk_modes
fi

# The agents die with this script even if it is killed outright (no trap runs).
guard=()
command -v setpriv >/dev/null 2>&1 && guard=(setpriv --pdeathsig TERM --)

stats_urls=() # "name http-host:port" of the running agents, for save_stats
start_agents() { # mode
  local mode=$1 http=() line kind name h iso n=0 dpdk=()
  stats_urls=()
  run_dir="$root/var/sweep-$stamp-$mode-$$"
  mkdir -p "$run_dir"
  # Throwaway MAC keys for every link, where the config's relative key_file points.
  (cd "$run_dir" && "$build/tools/iso8583" mac-keys --config "$config" --if-missing)
  # A reflector echoes requests as answers and cannot sign them: its acquirers' links run without MACs.
  [ "${mode%-dpdk}" = reflector ] && sed -i '/^acquirer:/d' "$run_dir/iso_mac.keys"
  [ "${mode%-dpdk}" = reflector ] || bash "$root/scripts/pan-keys-for-run.sh" "$config" "$run_dir" "$build/tools/pan-keys"
  # TLS and API keys for this mode's agents (the config's http_security; scripts/http-security.sh).
  http_security_prepare "$run_dir" "$config" "$build/tools/http-keys"
  for line in "${agents[@]}"; do
    read -r kind name h iso <<<"$line"
    if [ "${mode%-dpdk}" = reflector ]; then
      [ "$kind" = network ] || continue
      (cd "$run_dir" && exec "${guard[@]}" "${in_ns[@]}" "$build/bench/macro/iso-reflector" --host "${iso%:*}" --port "${iso#*:}" \
        --seconds "$max_seconds" >"$run_dir/reflector-$name.log" 2>&1) &
      pids+=("$!")
      kinds+=(network)
      continue
    fi
    if [ "$kind" = bank ]; then
      (cd "$run_dir" && exec "${guard[@]}" "${in_ns[@]}" "$build/bank-node/bank-node" --config "$config" --bank "$name" \
        --durability "${mode%-dpdk}" >"$run_dir/bank-$name.log" 2>&1) &
    else
      dpdk=()
      [ -n "$netns" ] && dpdk=(--dataplane dpdk -- "${eal[@]}" --vdev "net_af_packet0,iface=sw${n}A,framecnt=4096")
      n=$((n + 1))
      (cd "$run_dir" && exec "${guard[@]}" "${in_ns[@]}" "$build/switch/switch" --config "$config" --network "$name" \
        --workers "$switch_workers" "${dpdk[@]}" >"$run_dir/switch-$name.log" 2>&1) &
    fi
    pids+=("$!")
    kinds+=("$kind")
    http+=("$h")
    stats_urls+=("$name $h")
  done
  if [ "${mode%-dpdk}" = reflector ]; then sleep 0.5; return 0; fi
  for h in "${http[@]}"; do
    for i in $(seq 1 300); do
      "${in_ns[@]}" curl "${api_options[@]}" -sf -m 1 "$api_scheme://$h/stats" >/dev/null 2>&1 && break
      [ "$i" = 300 ] && { echo "sweep: $api_scheme://$h/stats not ready after 30 s (logs in $run_dir)" >&2; exit 1; }
      sleep 0.1
    done
  done
}

# Every agent's /stats after a step (cumulative since the agents started), so
# that a step's 9xx answers can be traced: pending_full and bank_unavailable in
# a switch, failed_items or a full map in a bank.
save_stats() { # step directory
  local entry name h
  for entry in "${stats_urls[@]}"; do
    read -r name h <<<"$entry"
    "${in_ns[@]}" curl "${api_options[@]}" -sf -m 2 "$api_scheme://$h/stats" >"$1/stats-$name.json" 2>/dev/null ||
      rm -f "$1/stats-$name.json"
  done
}

# CPU clock ticks (user + system) the agents of a kind have used so far, from /proc.
tick=$(getconf CLK_TCK)
cpu_of() { # kind
  local total=0 i f fields
  for i in "${!pids[@]}"; do
    [ "${kinds[$i]}" = "$1" ] || continue
    # The subshell exec'd the agent, so its pid is the agent's; utime and stime are fields 14 and 15.
    f=$(sed 's/^.*) //' "/proc/${pids[$i]}/stat" 2>/dev/null) || continue
    read -r -a fields <<<"$f"
    total=$((total + fields[11] + fields[12]))
  done
  echo "$total"
}

deadline=$(( $(date +%s) + max_seconds ))
printf "%-14s %9s %9s %9s %9s %9s %9s %9s %8s %8s %9s %7s %7s %7s\n" mode offered achieved p50_us p90_us p99_us \
  p99.9_us max_us timeouts fail_9xx lag_p99_us sw_cpu bank_cpu lg_cpu
echo "(achieved: answers that are a decision per second, 9xx failures such as 911/912 not counted;"
echo " cpu: microseconds of CPU per answered authorization, all processes of the kind, idle spinning included)"
for mode in $modes; do
  tsv="$out/sweep-$mode.tsv"
  echo "# offered achieved p50_us p90_us p99_us p99_9_us max_us timeouts sent lag_p99_us sw_cpu_us bank_cpu_us lg_cpu_us fail_9xx" >"$tsv"
  start_agents "$mode"
  for rate in $rates; do
    if [ $(( $(date +%s) + step_seconds + 5 )) -gt "$deadline" ]; then
      echo "sweep: time budget of ${max_seconds}s reached" >&2
      break
    fi
    step="$out/$mode-$rate"
    sw0=$(cpu_of network)
    bank0=$(cpu_of bank)
    (cd "$run_dir" && exec "${in_ns[@]}" "$loadgen" --config "$config" --rate "$rate" --duration "$step_seconds" \
      --threads "$threads" --timeout-ms 1000 --report-dir "$step" --no-progress --no-plots "${extra_loadgen[@]}" "${loadgen_dpdk[@]}" \
      >"$step.log" 2>&1) ||
      { echo "sweep: loadgen failed at $rate/s (see $step.log)" >&2; break; }
    sw1=$(cpu_of network)
    bank1=$(cpu_of bank)
    save_stats "$step"
    row=$(python3 - "$step/summary.json" "$rate" $((sw1 - sw0)) $((bank1 - bank0)) "$tick" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
l, c = s["latency_us"], s["counts"]
sw, bank, tick = (float(x) for x in sys.argv[3:6])
n = max(c["answered"], 1)
per = lambda seconds: round(seconds * 1e6 / n, 1)
# achieved: decisions only; an answer of 911 (issuer timed out) or 912 (unavailable) is a failure.
print(sys.argv[2], round(s["decided_rate"]), l["p50"], l["p90"], l["p99"], l["p99_9"], l["max"], c["timeouts"],
      c["sent"], s["send_lag_us"]["p99"], per(sw / tick), per(bank / tick), per(s["cpu_user_s"] + s["cpu_system_s"]),
      c["answered"] - c["decided"])
EOF
)
    echo "$row" >>"$tsv"
    read -r offered achieved p50 p90 p99 p999 max timeouts sent lag sw_cpu bank_cpu lg_cpu failed <<<"$row"
    printf "%-14s %9s %9s %9.1f %9.1f %9.1f %9.1f %9.1f %8s %8s %9.1f %7s %7s %7s\n" "$mode" "$offered" "$achieved" "$p50" \
      "$p90" "$p99" "$p999" "$max" "$timeouts" "$failed" "$lag" "$sw_cpu" "$bank_cpu" "$lg_cpu"
    saturated=$(python3 -c "import sys; o,a,t,f,s,p=map(float,sys.argv[1:]); print(int(a < 0.9*o or t + f > 0.01*max(s,1) or p > 1e6))" \
      "$offered" "$achieved" "$timeouts" "$failed" "$sent" "$p99")
    [ "$saturated" = 1 ] && { echo "sweep: $mode saturated at $rate/s offered" >&2; break; }
  done
  stop_agents
done

# Pictures: achieved vs offered, and p99 vs achieved, one line per mode.
plot_lines() { # column expression, title suffix
  local sep="" line="plot "
  for mode in $modes; do
    line+="$sep'sweep-$mode.tsv' using $1 with linespoints linewidth 2 title '$mode$2'"
    sep=", "
  done
  echo "$line"
}
cat >"$out/sweep.gp" <<EOF
set terminal pngcairo size 900,560 noenhanced
set grid
set key top left
set output 'sweep-throughput.png'
set title 'End-to-end authorizations: achieved vs offered (open loop)'
set logscale xy
set xlabel 'offered authorizations/s'
set ylabel 'decided in time (9xx excluded) /s'
$(plot_lines 1:2 "")
set output 'sweep-latency.png'
set title 'Latency from intended send time vs achieved rate'
set xlabel 'achieved authorizations/s'
set ylabel 'latency (us)'
$(plot_lines 2:5 " p99"), $(plot_lines 2:3 " p50" | sed 's/^plot //')
EOF
(cd "$out" && gnuplot sweep.gp) || echo "sweep: gnuplot failed (script left in $out)" >&2
echo "== results in $out (sweep-*.tsv, sweep-throughput.png, sweep-latency.png, per-step reports)"
