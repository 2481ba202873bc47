#!/usr/bin/env bash
# The main job: installs what is missing, builds a Release build in build/,
# starts every switch and bank node of the config on loopback with fresh LMDB
# directories, runs the cardholder load generator for a bounded time, prints
# its report and checks that money is conserved (banks' ledgers against what
# the cardholders saw). Stops everything it started, also on failure.
#
#   bash scripts/ecosystem.sh [--rate N] [--duration S] [--config FILE]
#                             [--threads N] [--switch-workers N] [--keep]
#                             [--build-dir DIR] [--no-build]
#                             [-- extra cardholder-loadgen options]
#
# Exit status: 0 when the run completed and money is conserved, 1 otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

config=config/ecosystem.yaml
build=build
loadgen_args=()
switch_workers=1
keep=0
build_first=1
usage() { sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rate|--duration|--threads|--max-requests|--arrivals|--timeout-ms)
      [ $# -ge 2 ] || { echo "ecosystem: $1 needs a value" >&2; exit 2; }
      loadgen_args+=("$1" "$2"); shift 2 ;;
    --config) config=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --switch-workers) switch_workers=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build_first=0; shift ;;
    --help|-h) usage; exit 0 ;;
    --) shift; loadgen_args+=("$@"); break ;;
    *) echo "ecosystem: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
config=$(realpath "$config")

if [ "$build_first" = 1 ]; then
  bash scripts/install-deps.sh
  bash scripts/check-programs.sh
  echo "== building (Release) in $build/"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DISO_SANITIZE=OFF -DISO_TESTS=OFF -DISO_BENCH=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target switch bank-node cardholder-loadgen iso8583 >/dev/null
fi
build=$(realpath "$build")
loadgen="$build/cardholder-loadgen/cardholder-loadgen"

mapfile -t agents < <("$loadgen" --config "$config" --list-agents)
[ ${#agents[@]} -gt 0 ] || { echo "${0##*/}: no agents in $config (see the error above)" >&2; exit 1; }

# UDP sockets bind with SO_REUSEPORT: a second ecosystem on the same ports would
# silently share traffic with the first. Refuse to start instead.
busy=()
for line in "${agents[@]}"; do
  read -r _kind name http iso <<<"$line"
  [ -z "$(ss -Hltn "sport = :${http##*:}" 2>/dev/null)" ] || busy+=("$name http $http")
  [ -z "$(ss -Hlun "sport = :${iso##*:}" 2>/dev/null)" ] || busy+=("$name iso $iso")
done
if [ ${#busy[@]} -gt 0 ]; then
  echo "ecosystem: ports already in use (another ecosystem running?): ${busy[*]}" >&2
  exit 1
fi

stamp=$(date -u +%Y%m%dT%H%M%SZ)
run_dir="$root/var/ecosystem-$stamp-$$"
report_dir="$root/reports/$stamp"
mkdir -p "$run_dir" "$report_dir"
# MAC keys for every link (iso_mac.key_file, relative to the agents' working
# directory): fresh throwaway keys unless the file is already there.
(cd "$run_dir" && "$build/tools/iso8583" mac-keys --config "$config" --if-missing)

# --- process bookkeeping: everything started is stopped, whatever happens ----
pids=()
names=()
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    echo "== stopping ${#pids[@]} agent(s)"
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # Bounded wait for a clean exit (they flush LMDB on SIGTERM), then SIGKILL.
    for _ in $(seq 1 100); do
      alive=0
      for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
      [ $alive -eq 0 ] && break
      sleep 0.1
    done
    for i in "${!pids[@]}"; do
      if kill -0 "${pids[$i]}" 2>/dev/null; then
        echo "ecosystem: ${names[$i]} (pid ${pids[$i]}) ignored SIGTERM for 10 s: SIGKILL" >&2
        kill -KILL "${pids[$i]}" 2>/dev/null || true
      fi
      wait "${pids[$i]}" 2>/dev/null || true
    done
  fi
  if [ $status -ne 0 ]; then
    echo "ecosystem: failed (status $status); agent logs kept in $run_dir" >&2
  elif [ $keep -eq 0 ]; then
    rm -rf "$run_dir"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Even if this script is killed outright (no trap runs), the agents get SIGTERM
# from the kernel when it dies: setpriv sets their parent-death signal.
orphan_guard=()
command -v setpriv >/dev/null 2>&1 && orphan_guard=(setpriv --pdeathsig TERM --)
start_agent() { # name, log, command...
  local name=$1 log=$2
  shift 2
  (cd "$run_dir" && exec "${orphan_guard[@]}" "$@" >"$log" 2>&1) &
  pids+=("$!")
  names+=("$name")
}

# --- start every agent of the config ----------------------------------------
bank_http=()
network_http=()
for line in "${agents[@]}"; do
  read -r kind name http _iso <<<"$line"
  if [ "$kind" = bank ]; then
    start_agent "bank $name" "$run_dir/bank-$name.log" "$build/bank-node/bank-node" --config "$config" --bank "$name"
    bank_http+=("$name=$http")
  else
    start_agent "switch $name" "$run_dir/switch-$name.log" "$build/switch/switch" --config "$config" \
      --network "$name" --workers "$switch_workers"
    network_http+=("$name=$http")
  fi
done

wait_ready() { # name, http endpoint, pid index
  local name=$1 http=$2 index=$3
  for _ in $(seq 1 300); do
    if ! kill -0 "${pids[$index]}" 2>/dev/null; then
      echo "ecosystem: $name exited during start-up:" >&2
      tail -n 20 "$run_dir"/*"${name#* }".log >&2 || true
      return 1
    fi
    curl -sf -m 1 "http://$http/stats" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "ecosystem: $name not ready on http://$http/stats after 30 s" >&2
  return 1
}
echo "== waiting for ${#pids[@]} agents to answer /stats"
i=0
for entry in "${bank_http[@]}" "${network_http[@]}"; do
  wait_ready "${names[$i]}" "${entry#*=}" "$i"
  i=$((i + 1))
done

ledgers() { # -> JSON {"bank": ledger} on stdout
  local sep="" out="{"
  for entry in "${bank_http[@]}"; do
    out+="$sep\"${entry%%=*}\": $(curl -sf -m 5 "http://${entry#*=}/ledger")"
    sep=", "
  done
  echo "$out}"
}
switch_stats() {
  local sep="" out="{"
  for entry in "${network_http[@]}"; do
    out+="$sep\"${entry%%=*}\": $(curl -sf -m 5 "http://${entry#*=}/stats")"
    sep=", "
  done
  echo "$out}"
}
ledgers >"$report_dir/ledger-before.json"
summary=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(", ".join("%s %d accounts, balance %d" % (k, v["accounts"], v["total_balance"]) for k, v in d.items()))' "$report_dir/ledger-before.json")
echo "== ledgers before: $summary"

# --- the load ---------------------------------------------------------------
echo "== load (a line per second: sent, answered, rate, p99)"
# From the agents' directory: the config's relative paths (the MAC key file) are theirs.
(cd "$run_dir" && "${orphan_guard[@]}" "$loadgen" --config "$config" --report-dir "$report_dir" "${loadgen_args[@]}")

# Network reversal advices retry for a while after the load: wait (bounded)
# until no switch has a pending transaction and the ledgers stop moving.
previous=""
for _ in $(seq 1 100); do
  current=$(ledgers)
  pending=$(switch_stats | python3 -c 'import json,sys; print(sum(v.get("gauges",{}).get("pending",0) for v in json.load(sys.stdin).values()))')
  [ "$pending" = 0 ] && [ "$current" = "$previous" ] && break
  previous=$current
  sleep 0.2
done
ledgers >"$report_dir/ledger-after.json"
switch_stats >"$report_dir/switch-stats.json"

echo "== checks"
check=0
python3 cardholder-loadgen/ledger_check.py --before "$report_dir/ledger-before.json" \
  --after "$report_dir/ledger-after.json" --summary "$report_dir/summary.json" \
  --switch-stats "$report_dir/switch-stats.json" | tee "$report_dir/ledger-check.txt" || check=1
echo "== report in ${report_dir#$root/}/"
exit "$check"
