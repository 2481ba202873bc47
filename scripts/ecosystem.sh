#!/usr/bin/env bash
# The main job, and a long-running ecosystem.
#
#   bash scripts/ecosystem.sh [OPTIONS] [-- extra cardholder-loadgen options]
#       installs what is missing, builds a Release build, starts every switch and
#       bank node of the config with fresh LMDB directories, runs the cardholder
#       load generator for a bounded time, prints its report, checks that money is
#       conserved, and stops everything it started (also on failure).
#   bash scripts/ecosystem.sh up [OPTIONS]
#       builds, starts every agent and leaves them running: pids, logs, stores and
#       the config in use under var/up (var/up-N with --port-base N, or --dir).
#   bash scripts/ecosystem.sh status [--dir DIR | --port-base N]
#       each agent of that ecosystem: pid, running or not, answering /stats or not.
#   bash scripts/ecosystem.sh down [--dir DIR | --port-base N]
#       SIGTERM to each agent (SIGKILL after 10 s); logs and stores are kept.
#
# Options:
#   --config FILE        the ecosystem (default config/ecosystem.yaml; the seed's
#                        layout works too)
#   --port-base N        every port of the config moved so that the lowest is N
#                        (iso8583-config move-ports): a second ecosystem beside the first
#   --dir DIR            up/status/down: where the running ecosystem lives
#   --switch-workers N   workers per switch (default 1)
#   --build-dir DIR      where to build (default build/); --no-build uses it as it is
#   --no-build           skip installing and building
#   --rate N, --duration S, --threads N, --max-requests N, --arrivals A,
#   --timeout-ms N       main job: passed to the load generator
#   --keep               main job: keep the agents' logs and stores after success
#   --help               this text
#
# Exit status: 0 when it went well (main job: money conserved; status: every
# agent running and answering), 1 otherwise, 2 for a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
umask 077
source scripts/http-security.sh
source scripts/switch-drain.sh

usage() { sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; }
fail_usage() { echo "ecosystem: $*" >&2; exit 2; }

command=run
case "${1:-}" in
  up|status|down) command=$1; shift ;;
esac

config=config/ecosystem.yaml
build=build
loadgen_args=()
switch_workers=1
keep=0
build_first=1
port_base=""
dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rate|--duration|--threads|--max-requests|--arrivals|--timeout-ms)
      [ $# -ge 2 ] || fail_usage "$1 needs a value"
      [ "$command" = run ] || fail_usage "$1 is for the main job, not '$command'"
      loadgen_args+=("$1" "$2"); shift 2 ;;
    --config|--build-dir|--switch-workers|--port-base|--dir)
      [ $# -ge 2 ] || fail_usage "$1 needs a value"
      case "$1" in
        --config) config=$2 ;;
        --build-dir) build=$2 ;;
        --switch-workers) switch_workers=$2 ;;
        --port-base) port_base=$2 ;;
        --dir) dir=$2 ;;
      esac
      shift 2 ;;
    --keep) keep=1; shift ;;
    --no-build) build_first=0; shift ;;
    --help|-h) usage; exit 0 ;;
    --) shift; loadgen_args+=("$@"); break ;;
    *) fail_usage "unknown option '$1' (see --help)" ;;
  esac
done
if [ -n "$port_base" ] && ! [[ "$port_base" =~ ^[0-9]+$ && "$port_base" -ge 1 && "$port_base" -le 65535 ]]; then
  fail_usage "--port-base $port_base: a port (1..65535) is expected"
fi
[ -n "$dir" ] || dir="var/up${port_base:+-$port_base}"
mkdir -p "$(dirname "$dir")"
dir=$(realpath -m "$dir")

# --- status and down: read what up wrote ------------------------------------
agents_file="$dir/agents" # one line per agent: kind name pid http
if [ "$command" = status ] || [ "$command" = down ]; then
  if [ ! -s "$agents_file" ]; then
    echo "ecosystem: nothing is up in ${dir#$root/} (no $agents_file)" >&2
    exit 1
  fi
  mapfile -t started <"$agents_file"
fi

if [ "$command" = status ]; then
  http_security_load "$dir" # https with the run's CA and operator key, when it has them
  healthy=0
  printf '%-7s %-12s %-8s %-22s %s\n' kind name pid http state
  for line in "${started[@]}"; do
    read -r kind name pid http <<<"$line"
    if ! kill -0 "$pid" 2>/dev/null; then
      state="not running (log: ${dir#$root/}/$kind-$name.log)"; healthy=1
    elif api -sf -m 2 "$http/stats" >/dev/null 2>&1; then
      state=running
    else
      state="running, not answering /stats"; healthy=1
    fi
    printf '%-7s %-12s %-8s %-22s %s\n' "$kind" "$name" "$pid" "$http" "$state"
  done
  exit "$healthy"
fi

stop_pids() { # pid..., SIGTERM then a bounded wait (they flush LMDB on SIGTERM), then SIGKILL
  local pid
  for pid in "$@"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "$@"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.1
  done
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then
      echo "ecosystem: pid $pid ignored SIGTERM for 10 s: SIGKILL" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

if [ "$command" = down ]; then
  pids=()
  for line in "${started[@]}"; do
    read -r _kind _name pid _http <<<"$line"
    pids+=("$pid")
  done
  echo "== stopping ${#pids[@]} agent(s) of ${dir#$root/}"
  stop_pids "${pids[@]}"
  rm -f "$agents_file"
  echo "down: logs and stores kept in ${dir#$root/}"
  exit 0
fi

# --- run and up: build, the config, the agents -------------------------------
if [ "$build_first" = 1 ]; then
  bash scripts/install-deps.sh
  bash scripts/check-programs.sh
  echo "== building (Release) in $build/"
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DISO_SANITIZE=OFF -DISO_TESTS=OFF -DISO_BENCH=OFF >/dev/null
  cmake --build "$build" -j "$(nproc)" --target switch bank-node cardholder-loadgen iso8583-config pan-keys iso8583 http-keys >/dev/null
fi
build=$(realpath "$build")
loadgen="$build/cardholder-loadgen/cardholder-loadgen"

if [ "$command" = up ]; then
  if [ -s "$agents_file" ]; then
    echo "ecosystem: ${dir#$root/} is up already (bash scripts/ecosystem.sh down${port_base:+ --port-base $port_base} first)" >&2
    exit 1
  fi
  run_dir=$dir
else
  stamp=$(date -u +%Y%m%dT%H%M%SZ)
  run_dir="$root/var/ecosystem-$stamp-$$"
  report_dir="$root/reports/$stamp"
  mkdir -p "$report_dir"
fi
mkdir -p "$run_dir"

# The config the agents get: as given, or moved to other ports.
config=$(realpath "$config")
if [ -n "$port_base" ]; then
  "$build/tools/iso8583-config" move-ports --base "$port_base" "$config" >"$run_dir/ecosystem.yaml"
  config="$run_dir/ecosystem.yaml"
fi

# MAC keys for every link (iso_mac.key_file, relative to the agents' working
# directory, the run directory): fresh throwaway keys unless the file is there.
(cd "$run_dir" && "$build/tools/iso8583" mac-keys --config "$config" --if-missing)

mapfile -t agents < <("$loadgen" --config "$config" --list-agents)
[ ${#agents[@]} -gt 0 ] || { echo "${0##*/}: no agents in $config (see the error above)" >&2; exit 1; }

# TLS and API keys for this run (the config's http_security): a throwaway CA,
# a key per agent, an operator key for the calls below (scripts/http-security.sh).
http_security_prepare "$run_dir" "$config" "$build/tools/http-keys"
[ "$api_scheme" = https ] && echo "== HTTP APIs over TLS with API keys (CA and keys in ${run_dir#$root/}/secrets)"

# UDP sockets bind with SO_REUSEPORT: a second ecosystem on the same ports would
# silently share traffic with the first. Refuse to start instead.
busy=()
for line in "${agents[@]}"; do
  read -r _kind name http iso <<<"$line"
  [ -z "$(ss -Hltn "sport = :${http##*:}" 2>/dev/null)" ] || busy+=("$name http $http")
  [ -z "$(ss -Hlun "sport = :${iso##*:}" 2>/dev/null)" ] || busy+=("$name iso $iso")
done
if [ ${#busy[@]} -gt 0 ]; then
  echo "ecosystem: ports already in use (another ecosystem running? try --port-base): ${busy[*]}" >&2
  exit 1
fi

# PAN protection keys where the config's pan_protection.key_file says (relative: in the run
# directory), made unless there (an `up` directory keeps its own); docs/data-protection.md.
bash "$root/scripts/pan-keys-for-run.sh" "$config" "$run_dir" "$build/tools/pan-keys"

# --- process bookkeeping -----------------------------------------------------
pids=()
names=()
https=()
if [ "$command" = run ]; then
  # Everything started is stopped, whatever happens.
  cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ ${#pids[@]} -gt 0 ]; then
      echo "== stopping ${#pids[@]} agent(s)"
      stop_pids "${pids[@]}"
      for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    fi
    if [ $status -ne 0 ]; then
      echo "ecosystem: failed (status $status); agent logs kept in $run_dir" >&2
    elif [ $keep -eq 0 ]; then
      rm -rf "$run_dir"
    fi
    exit $status
  }
  # Even if this script is killed outright (no trap runs), the agents get
  # SIGTERM from the kernel when it dies: setpriv sets their parent-death signal.
  launcher=()
  command -v setpriv >/dev/null 2>&1 && launcher=(setpriv --pdeathsig TERM --)
else
  # up: the agents outlive this script, in a session of their own; a failed start stops them.
  cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [ $status -ne 0 ] && [ ${#pids[@]} -gt 0 ]; then
      echo "ecosystem: up failed; stopping what started (logs in ${run_dir#$root/})" >&2
      stop_pids "${pids[@]}"
      rm -f "$agents_file"
    fi
    exit $status
  }
  launcher=(setsid)
fi
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_agent() { # kind, name, http, command...
  local kind=$1 name=$2 http=$3
  shift 3
  (cd "$run_dir" && exec "${launcher[@]}" "$@" </dev/null >"$run_dir/$kind-$name.log" 2>&1) &
  pids+=("$!")
  names+=("$kind $name")
  https+=("$http")
  [ "$command" = up ] && echo "$kind $name $! $http" >>"$agents_file"
  return 0
}

# --- start every agent of the config ------------------------------------------
bank_http=()
network_http=()
for line in "${agents[@]}"; do
  read -r kind name http _iso <<<"$line"
  if [ "$kind" = bank ]; then
    start_agent bank "$name" "$http" "$build/bank-node/bank-node" --config "$config" --bank "$name"
    bank_http+=("$name=$http")
  else
    start_agent switch "$name" "$http" "$build/switch/switch" --config "$config" \
      --network "$name" --workers "$switch_workers"
    network_http+=("$name=$http")
  fi
done

wait_ready() { # index
  local i=$1
  for _ in $(seq 1 300); do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "ecosystem: ${names[$i]} exited during start-up:" >&2
      tail -n 20 "$run_dir/${names[$i]/ /-}.log" >&2 || true
      return 1
    fi
    api -sf -m 1 "${https[$i]}/stats" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "ecosystem: ${names[$i]} not ready on $api_scheme://${https[$i]}/stats after 30 s" >&2
  return 1
}
echo "== waiting for ${#pids[@]} agents to answer /stats"
for i in "${!pids[@]}"; do
  wait_ready "$i"
done

if [ "$command" = up ]; then
  echo "up: ${#pids[@]} agents running in ${run_dir#$root/} (config $config)"
  for i in "${!pids[@]}"; do
    printf '  %-18s pid %-8s %s://%s\n' "${names[$i]}" "${pids[$i]}" "$api_scheme" "${https[$i]}"
  done
  if [ "$api_scheme" = https ]; then
    echo "  call:   curl ${api_options[*]} $api_scheme://${https[0]}/stats  (other keys: docs/api.md)"
  fi
  echo "  pay:    (cd $run_dir && $loadgen --config $config --rate 100 --duration 5)"
  echo "  status: bash scripts/ecosystem.sh status --dir ${run_dir#$root/}"
  echo "  stop:   bash scripts/ecosystem.sh down --dir ${run_dir#$root/}"
  exit 0
fi

ledgers() { # -> JSON {"bank": ledger} on stdout
  local sep="" out="{"
  for entry in "${bank_http[@]}"; do
    out+="$sep\"${entry%%=*}\": $(api -sf -m 5 "${entry#*=}/ledger")"
    sep=", "
  done
  echo "$out}"
}
switch_stats() {
  local sep="" out="{"
  for entry in "${network_http[@]}"; do
    out+="$sep\"${entry%%=*}\": $(api -sf -m 5 "${entry#*=}/stats")"
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
(cd "$run_dir" && exec "${launcher[@]}" "$loadgen" --config "$config" --report-dir "$report_dir" "${loadgen_args[@]}")

# Network reversal advices retry for a while after the load: wait (bounded)
# until no switch has a pending transaction or an advice queued for a bank.
wait_switches_drained 120 "${network_http[@]#*=}" || echo "== the money check below may count advices still in flight"
ledgers >"$report_dir/ledger-after.json"
switch_stats >"$report_dir/switch-stats.json"

echo "== checks"
check=0
python3 cardholder-loadgen/ledger_check.py --before "$report_dir/ledger-before.json" \
  --after "$report_dir/ledger-after.json" --summary "$report_dir/summary.json" \
  --switch-stats "$report_dir/switch-stats.json" | tee "$report_dir/ledger-check.txt" || check=1
echo "== report in ${report_dir#$root/}/"
exit "$check"
