#!/usr/bin/env bash
# Soak and fault run: two switches (mastercard, visa), two bank nodes and the
# cardholder load generator of bench/soak/soak.yaml on loopback, with faults
# injected for a bounded time, then a reconciliation of every answer against
# the banks' journals (docs/soak.md).
#
#   bash bench/soak/soak.sh [--duration S] [--rate N] [--short] [--build-dir DIR]
#                           [--no-build] [--run-dir DIR] [--switch-workers N] [--keep]
#
# Faults: slow (held back ~ the switch's bank timeout) and dropped bank answers
# (the banks' fault flags, in soak.yaml); duplicate and replayed 1100/1420
# (soak_replay.py); big_bank SIGKILLed and restarted at once (sync durability);
# big_bank SIGKILLed and kept down 30 s, the mastercard switch SIGKILLed and
# restarted meanwhile with advices for it in its store-and-forward queue and
# authorizations in flight at lil_bank (paused 0.3 s); the visa switch
# SIGKILLed and restarted likewise (big_bank paused); PUT /routes back and forth between
# equivalent tables all along; malformed datagram bursts at every agent
# (counted exactly) and a garbage flood at the mastercard switch (legitimate
# answers must keep flowing). After the load: a bounded wait until every
# switch's queue and pending table are empty, then the reconciliation.
# Full runs need --duration 60 or more (the 30 s outage ends under load).
# --short: 20 s at 100/s, smaller bursts, a 5 s outage (the ctest entry, tests/soak/).
# Prints one line per invariant ("ok" / "VIOLATION"); exit status 1 on any
# violation, 2 on a bad command line.
set -euo pipefail
umask 077 # dumps, outcomes, logs and LMDB files: the owner's only
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

duration=180
rate=200
short=0
build="$root/build-soak-rel"
build_first=1
run_dir=""
switch_workers=1
keep=0
usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --rate) rate=$2; shift 2 ;;
    --short) short=1; duration=20; rate=100; shift ;;
    --build-dir) build=$2; shift 2 ;;
    --no-build) build_first=0; shift ;;
    --run-dir) run_dir=$2; shift 2 ;;
    --switch-workers) switch_workers=$2; shift 2 ;;
    --keep) keep=1; shift ;;
    --help|-h) usage; exit 0 ;;
    *) echo "soak: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ "$duration" =~ ^[0-9]+$ && "$duration" -ge 10 && "$duration" -le 86400 ]] ||
  { echo "soak: --duration must be 10..86400 seconds" >&2; exit 2; }
[[ "$rate" =~ ^[0-9]+$ && "$rate" -ge 1 ]] || { echo "soak: --rate must be a positive integer" >&2; exit 2; }
[ $short = 1 ] || [ "$duration" -ge 60 ] ||
  { echo "soak: a full run needs --duration 60 or more (its 30 s bank outage must end under load); or --short" >&2
    exit 2; }

# The cardholders' side of a switch restart: a timed-out request is reversed with a
# 1420 and up to 7 repeats (1421), one cardholder timeout apart, i.e. from 0.5 s to
# 4 s after the request: a switch SIGKILLed and answering again within about 3.5 s
# still hears every reversal (a restart takes well under a second). Unanswered ones
# are excused only where the reconciliation can see that their switch was dead or
# flooded for their last attempt.
cardholder_timeout_ms=500
reversal_attempts=8
# The long bank outage, and when into it the mastercard switch is SIGKILLed.
outage_s=30
switch_kill_after_s=10
[ $short = 1 ] && { outage_s=5; switch_kill_after_s=2; }

config="$here/soak.yaml"
if [ "$build_first" = 1 ]; then
  echo "== building (Release) in $build"
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DISO_SANITIZE=OFF -DISO_TESTS=OFF -DISO_BENCH=ON >/dev/null
  cmake --build "$build" -j 2 --target switch bank-node cardholder-loadgen soak_ledger_dump pan-keys iso8583 http-keys >/dev/null
fi
build=$(cd "$build" && pwd)
bank_bin="$build/bank-node/bank-node"
switch_bin="$build/switch/switch"
loadgen_bin="$build/cardholder-loadgen/cardholder-loadgen"
dump_bin="$build/bench/soak/soak_ledger_dump"
pan_keys_bin="$build/tools/pan-keys"
for b in "$bank_bin" "$switch_bin" "$loadgen_bin" "$dump_bin" "$pan_keys_bin" "$build/tools/http-keys"; do
  [ -x "$b" ] || { echo "soak: $b is missing (build it, or drop --no-build)" >&2; exit 2; }
done

# The ports are fixed by soak.yaml: two soak runs at once (say, ctest in two build
# directories) would answer each other's readiness checks and mix their traffic.
# One at a time, machine-wide; a bounded wait, then a clear refusal.
lock_file="${TMPDIR:-/tmp}/iso8583-soak-18000.lock"
exec 9>"$lock_file"
if ! flock -w 150 9; then
  echo "soak: another soak run has held $lock_file (ports 18100-18212) for 150 s; try again later" >&2
  exit 1
fi
busy=$(ss -Hlntu 2>/dev/null | awk '{print $5}' | grep -E ':18(101|102|111|112|201|202|211|212)$' || true)
if [ -n "$busy" ]; then
  echo "soak: ports of bench/soak/soak.yaml already in use by another program: $(echo $busy)" >&2
  exit 1
fi

[ -n "$run_dir" ] || run_dir="$root/var/soak-$(date -u +%Y%m%dT%H%M%SZ)-$$"
rm -rf "$run_dir"
mkdir -p "$run_dir"
run_dir=$(cd "$run_dir" && pwd)
# Throwaway MAC keys (soak.yaml's iso_mac.key_file, relative to the agents' directory).
# The acquirers' link runs without MACs: the soak's Python peers (duplicates,
# replays, garbage) cannot compute AES-CMAC with the standard library; the
# network-bank links are MACed.
(cd "$run_dir" && "$build/tools/iso8583" mac-keys --config "$config" && sed -i '/^acquirer:/d' iso_mac.keys)
# Throwaway PAN protection keys (soak.yaml's pan_protection.key_file, relative to the run directory).
bash "$root/scripts/pan-keys-for-run.sh" "$config" "$run_dir" "$pan_keys_bin"
checks="$run_dir/checks.txt"
: >"$checks"
check() { # ok(0|1) name text
  local word=VIOLATION
  [ "$1" = 1 ] && word=ok
  printf '%-10s %s: %s\n' "$word" "$2" "$3" | tee -a "$checks"
}
echo "== soak: ${duration}s at ${rate}/s, run directory $run_dir"
# TLS and API keys (soak.yaml's http_security): a throwaway CA and keys in $run_dir/secrets.
source "$root/scripts/http-security.sh"
http_security_prepare "$run_dir" "$config" "$build/tools/http-keys"

# Fixed by soak.yaml (the soak's port range 18000-18499).
declare -A http=([big_bank]=127.0.0.1:18101 [lil_bank]=127.0.0.1:18102 [mastercard]=127.0.0.1:18201 [visa]=127.0.0.1:18202)
declare -A iso=([big_bank]=127.0.0.1:18111 [lil_bank]=127.0.0.1:18112 [mastercard]=127.0.0.1:18211 [visa]=127.0.0.1:18212)
agents=(big_bank lil_bank mastercard visa)
declare -A pan_prefix=([mastercard]=5 [visa]=4) # first digit of the cards each switch serves

# --- processes: everything started is stopped by its pid, whatever happens ---
declare -A pid_of=()
all_pids=()
helper_pids=()
orphan_guard=()
command -v setpriv >/dev/null 2>&1 && orphan_guard=(setpriv --pdeathsig TERM --)
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  for p in "${all_pids[@]}"; do kill -CONT "$p" 2>/dev/null || true; done # a bank paused mid-fault
  for p in "${helper_pids[@]}" "${all_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for p in "${helper_pids[@]}" "${all_pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.1
  done
  for p in "${helper_pids[@]}" "${all_pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
  if [ $status -eq 0 ] && [ $keep = 0 ]; then
    rm -rf "$run_dir"/big_bank "$run_dir"/lil_bank "$run_dir"/mastercard "$run_dir"/visa
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

start_agent() { # name
  local name=$1 log="$run_dir/$1.log"
  case $name in
    big_bank|lil_bank)
      (cd "$run_dir" && exec "${orphan_guard[@]}" "$bank_bin" --config "$config" --bank "$name" >>"$log" 2>&1) & ;;
    *)
      # 4096 pending slots (see soak.yaml): used in turn, they are all touched early in the run.
      (cd "$run_dir" && exec "${orphan_guard[@]}" "$switch_bin" --config "$config" --network "$name" \
        --workers "$switch_workers" --pending 4096 >>"$log" 2>&1) & ;;
  esac
  pid_of[$name]=$!
  all_pids+=("$!")
  echo "$name ${pid_of[$name]}" >>"$run_dir/pids.txt"
}
wait_ready() { # name: bounded poll of /stats
  local name=$1
  for _ in $(seq 1 300); do
    kill -0 "${pid_of[$name]}" 2>/dev/null || { echo "soak: $name exited during start-up:" >&2; tail -n 20 "$run_dir/$name.log" >&2; return 1; }
    api -sf -m 1 "${http[$name]}/stats" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "soak: $name not ready after 30 s" >&2
  return 1
}
stat_of() { # name key: a counter of /stats (the switch's under "totals")
  api -sf -m 5 "${http[$1]}/stats" |
    python3 -c 'import json,sys; d=json.load(sys.stdin); d=d.get("totals",d); print(int(d.get(sys.argv[1],0)))' "$2"
}
memory_of() { # pid -> "VmHWM VmRSS RssAnon" in kB (RssAnon: the heap and tables, not LMDB's mapped file)
  awk '/^VmHWM/{h=$2} /^VmRSS/{r=$2} /^RssAnon/{a=$2} END{print h+0, r+0, a+0}' "/proc/$1/status" 2>/dev/null ||
    echo "0 0 0"
}
declare -A rss_start=()
note_memory_start() { # name
  rss_start[${pid_of[$1]}]="$1 $(memory_of "${pid_of[$1]}")"
}

for a in "${agents[@]}"; do start_agent "$a"; done
for a in "${agents[@]}"; do wait_ready "$a"; done
for a in "${agents[@]}"; do note_memory_start "$a"; done
echo "== agents up: $(for a in "${agents[@]}"; do printf '%s=%s ' "$a" "${pid_of[$a]}"; done)"

start_s=$(date +%s.%N)
at() { # fraction of the duration: sleep until then (the schedule of the run)
  local wait
  wait=$(python3 -c "import sys,time; print(max(0.0, float(sys.argv[1]) + float(sys.argv[2]) * float(sys.argv[3]) - time.time()))" \
    "$start_s" "$1" "$duration")
  sleep "$wait"
}

# --- load, replays, route flips ----------------------------------------------
(cd "$run_dir" && exec "${orphan_guard[@]}" "$loadgen_bin" --config "$config" --rate "$rate" --duration "$duration" \
  --timeout-ms "$cardholder_timeout_ms" --reversal-attempts "$reversal_attempts" --threads 1 --no-progress --no-plots \
  --report-dir "$run_dir/report" --outcomes "$run_dir/outcomes.txt" --seed 17 >"$run_dir/loadgen.log" 2>&1) &
loadgen_pid=$!
helper_pids+=("$loadgen_pid")
"${orphan_guard[@]}" python3 "$here/soak_replay.py" --switch "mastercard=${iso[mastercard]}" --switch "visa=${iso[visa]}" \
  --bank "${iso[big_bank]}" --bank "${iso[lil_bank]}" --cards 51051000:1000:0:0 --cards 51999100:1000:0:1 \
  --cards 41111111:1000:1:0 --duration "$((duration - 2))" --rate 5 --log "$run_dir/replay.log" \
  >"$run_dir/replay.out" 2>&1 &
replay_pid=$!
helper_pids+=("$replay_pid")

# Two equivalent tables per network (the same cards reach the same banks), swapped all along.
mastercard_tables=(
  '[{"low":"51051000","bank":"big_bank"},{"low":"51999100","high":"51999199","bank":"lil_bank"}]'
  '[{"low":"51051000","high":"51051000","bank":"big_bank","host":"127.0.0.1","port":18111},{"low":"51999100","high":"51999149","bank":"lil_bank"},{"low":"51999150","high":"51999199","bank":"lil_bank"}]'
)
visa_tables=(
  '[{"low":"41111111","bank":"big_bank"}]'
  '[{"low":"4111111100","high":"4111111199","bank":"big_bank"}]'
)
flip_routes() { # until the end of the run; not at a switch the schedule has SIGKILLed (down.NAME)
  local end ok=0 failed=0 skipped=0 i=0 net
  end=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$start_s" "$duration")
  while python3 -c "import sys,time; sys.exit(time.time() >= float(sys.argv[1]))" "$end"; do
    for pair in "mastercard ${mastercard_tables[$((i % 2))]}" "visa ${visa_tables[$((i % 2))]}"; do
      net=${pair%% *}
      if [ -e "$run_dir/down.$net" ]; then
        skipped=$((skipped + 1))
      elif api -sf -m 5 -X PUT -d "${pair#* }" "${http[$net]}/routes" >/dev/null; then
        ok=$((ok + 1))
      elif [ -e "$run_dir/down.$net" ]; then
        skipped=$((skipped + 1)) # killed while we asked
      else
        failed=$((failed + 1))
      fi
    done
    i=$((i + 1))
    sleep 0.5
  done
  echo "$ok $failed $skipped" >"$run_dir/route-flips.txt"
}
flip_routes &
flip_pid=$!
helper_pids+=("$flip_pid")

sample_memory() { # VmRSS of every agent at 20 points of the run: flat, or still growing at the end?
  local step end
  step=$(python3 -c "import sys; print(max(1.0, float(sys.argv[1]) / 20))" "$duration")
  end=$(python3 -c "import sys; print(float(sys.argv[1]) + float(sys.argv[2]))" "$start_s" "$duration")
  echo "# seconds name pid VmHWM_kB VmRSS_kB RssAnon_kB" >"$run_dir/memory-series.tsv"
  while python3 -c "import sys,time; sys.exit(time.time() >= float(sys.argv[1]))" "$end"; do
    local t
    t=$(python3 -c "import sys,time; print('%.0f' % (time.time() - float(sys.argv[1])))" "$start_s")
    # pids.txt: the latest line per name is the live instance (agents are restarted).
    tac "$run_dir/pids.txt" | awk '!seen[$1]++' | while read -r name pid; do
      echo "$t $name $pid $(memory_of "$pid")"
    done >>"$run_dir/memory-series.tsv"
    sleep "$step"
  done
}
sample_memory &
helper_pids+=("$!")
memory_pid=$!

# --- faults on a schedule ----------------------------------------------------
burst=1200
flood_s=10
[ $short = 1 ] && { burst=300; flood_s=3; }
malformed_burst() { # name: a paced burst; the agent's malformed counter must grow by exactly what was sent
  local name=$1 before after sent
  before=$(stat_of "$name" malformed)
  sent=$(python3 "$here/soak_garbage.py" --target "${iso[$name]}" --count "$burst" --rate 1500 --seed "$RANDOM" |
    tee -a "$run_dir/garbage.log" | sed -n 's/^soak_garbage: sent \([0-9]*\) .*/\1/p')
  for _ in $(seq 1 50); do
    after=$(stat_of "$name" malformed)
    [ "$after" -ge $((before + sent)) ] && break
    sleep 0.1
  done
  check "$([ "$after" -eq $((before + sent)) ] && echo 1 || echo 0)" "malformed counted ($name)" \
    "sent $sent malformed datagrams, /stats malformed grew by $((after - before)) (from $before to $after); process alive"
}
now_s() { date +%s.%N; }
sleep_until() { # unix time
  sleep "$(python3 -c "import sys,time; print(max(0.0, float(sys.argv[1]) - time.time()))" "$1")"
}
plus_s() { python3 -c "import sys; print('%.3f' % (float(sys.argv[1]) + float(sys.argv[2])))" "$1" "$2"; }
saf_of() { # switch key: a value of its /stats "saf" section ("?" when it does not answer)
  api -sf -m 2 "${http[$1]}/stats" 2>/dev/null |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["saf"][sys.argv[1]])' "$2" 2>/dev/null || echo "?"
}
declare -A killed_at=()
kill_agent() { # name: SIGKILL, reaped and forgotten
  local name=$1 old=${pid_of[$1]} what="" last=""
  rss_end_killed="$rss_end_killed$name $old $(memory_of "$old")"$'\n'
  case $name in
    mastercard|visa)
      touch "$run_dir/down.$name" # the route flips leave it alone until it is back
      # Its counters as last read (just before the kill), for the totals of the store-and-forward queue.
      last=$(api -sf -m 2 "${http[$name]}/stats" || echo '{}')
      ;;
  esac
  killed_at[$name]=$(now_s)
  # Reaped at once, quietly (bash otherwise reports the "Killed" job at its next command substitution).
  { kill -KILL "$old" && wait "$old"; } 2>/dev/null || true
  if [ -n "$last" ]; then
    printf '{"network": "%s", "stats": %s}\n' "$name" "$last" >>"$run_dir/switch-stats-killed.jsonl"
    what=$(python3 -c 'import json,sys; s=json.loads(sys.argv[1]).get("saf",{}); print(" with %s advice(s) queued, %s on disk" % (s.get("queued","?"), s.get("on_disk","?")))' "$last")
  fi
  echo "== $(date -u +%T) SIGKILL $name (pid $old)$what"
  # Reaped: its pid may be reused by anyone now, so the cleanup must never signal it.
  local kept=() p
  for p in "${all_pids[@]}"; do [ "$p" = "$old" ] || kept+=("$p"); done
  all_pids=("${kept[@]}")
}
revive_agent() { # name: start on the same store, wait until it answers
  local name=$1 back
  start_agent "$name"
  wait_ready "$name"
  back=$(now_s)
  note_memory_start "$name"
  case $name in
    mastercard|visa)
      # Its cardholders could not reach it from the kill until now (soak_reconcile.py --unreachable).
      echo "${pan_prefix[$name]} ${killed_at[$name]} $back $name-killed" >>"$run_dir/unreachable.txt"
      rm -f "$run_dir/down.$name"
      ;;
  esac
  echo "== $(date -u +%T) $name restarted (pid ${pid_of[$name]}) after $(python3 -c \
    "import sys; print('%.1f' % (float(sys.argv[2]) - float(sys.argv[1])))" "${killed_at[$name]}" "$back") s down"
}
kill_and_restart() { # name
  kill_agent "$1"
  revive_agent "$1"
}
kill_switch_mid_flight() { # switch bank: the bank paused (SIGSTOP) 0.3 s, less than the switch's bank
  # timeout, so that the switch dies with authorizations forwarded and unanswered; resumed at once,
  # the bank approves them to nobody, and their cardholders' reversals reach the restarted switch,
  # which has forgotten them (the bank finds each original by DE 12, 32, 37 and 41).
  local switch=$1 bank=$2
  kill -STOP "${pid_of[$bank]}"
  sleep 0.3
  kill_agent "$switch"
  kill -CONT "${pid_of[$bank]}"
  echo "== $(date -u +%T) $bank had been paused 0.3 s (SIGSTOP, SIGCONT): authorizations in flight at the kill"
  revive_agent "$switch"
}
bank_outage() { # big_bank down for $outage_s; the mastercard switch SIGKILLed and restarted meanwhile
  local t0 queued
  t0=$(now_s)
  kill_agent big_bank
  sleep_until "$(plus_s "$t0" "$switch_kill_after_s")"
  # Advices for the dead bank are in mastercard's queue (its timeouts): kill it with them (bounded wait).
  for _ in $(seq 1 50); do
    queued=$(saf_of mastercard queued)
    [[ "$queued" =~ ^[0-9]+$ ]] && [ "$queued" -gt 0 ] && break
    sleep 0.1
  done
  kill_switch_mid_flight mastercard lil_bank
  echo "== $(date -u +%T) mastercard reloaded $(saf_of mastercard loaded) advice(s) from its store"
  sleep_until "$(plus_s "$t0" "$outage_s")"
  revive_agent big_bank
}
rss_end_killed=""
: >"$run_dir/unreachable.txt"
: >"$run_dir/switch-stats-killed.jsonl"

if [ $short = 1 ]; then
  t_bank_kill=0.30 t_flood=0.45 t_outage=0.65 t_visa_kill=""
else
  t_bank_kill=0.20 t_flood=0.30 t_outage=0.45 t_visa_kill=0.75
fi
at 0.10
for a in "${agents[@]}"; do malformed_burst "$a"; done
at $t_bank_kill
kill_and_restart big_bank
at $t_flood
flood_target=mastercard
flood_before=$(stat_of $flood_target malformed)
flood_start=$(date +%s.%N)
flood_line=$(python3 "$here/soak_garbage.py" --target "${iso[$flood_target]}" --seconds "$flood_s" --rate 20000 --seed 5)
flood_end=$(date +%s.%N)
echo "${pan_prefix[$flood_target]} $flood_start $flood_end $flood_target-flooded" >>"$run_dir/unreachable.txt"
echo "$flood_line" >>"$run_dir/garbage.log"
flood_sent=$(sed -n 's/^soak_garbage: sent \([0-9]*\) .*/\1/p' <<<"$flood_line")
sleep 0.5
flood_after=$(stat_of $flood_target malformed)
flood_counted=$((flood_after - flood_before))
check "$([ "$flood_counted" -gt 0 ] && [ "$flood_counted" -le "$flood_sent" ] && kill -0 "${pid_of[$flood_target]}" && echo 1 || echo 0)" \
  "flood counted ($flood_target)" \
  "$flood_sent garbage datagrams in ${flood_s} s, $flood_counted counted malformed (a shortfall would be what the kernel dropped from a full socket buffer), process alive"
at $t_outage
bank_outage
if [ -n "$t_visa_kill" ]; then
  at $t_visa_kill
  kill_switch_mid_flight visa big_bank
fi
at 0.85
for a in "${agents[@]}"; do malformed_burst "$a"; done

# --- the end of the load: settle, measure, stop ------------------------------
loadgen_status=0
wait "$loadgen_pid" || loadgen_status=$?
wait "$replay_pid" || true
wait "$flip_pid" || true
wait "$memory_pid" || true
helper_pids=()
check "$([ $loadgen_status = 0 ] && echo 1 || echo 0)" "load generator" \
  "exit status $loadgen_status; $(grep '^SUMMARY' "$run_dir/loadgen.log" | cut -c9- || true)"
read -r flips_ok flips_failed flips_skipped <"$run_dir/route-flips.txt"
check "$([ "$flips_failed" = 0 ] && [ "$flips_ok" -gt 0 ] && echo 1 || echo 0)" "route changes" \
  "$flips_ok PUT /routes accepted, $flips_failed failed ($flips_skipped not sent: the switch was SIGKILLed)"

switch_stats() {
  printf '{"mastercard": %s, "visa": %s}\n' "$(api -sf -m 5 "${http[mastercard]}/stats")" \
    "$(api -sf -m 5 "${http[visa]}/stats")"
}
# Bounded: until no switch holds a queued advice or a pending transaction and the ledgers stop moving.
drain_start=$(now_s)
drain_deadline=$(plus_s "$drain_start" 120)
previous=""
drained=0
for _ in $(seq 1 600); do
  left=$(switch_stats 2>/dev/null | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
    print(sum(int(v["gauges"]["pending"]) + int(v["saf"]["queued"]) for v in d.values()))
except Exception:
    print("?")' || echo "?")
  ledger=$(api -sf -m 5 "${http[big_bank]}/ledger")$(api -sf -m 5 "${http[lil_bank]}/ledger") || ledger=""
  if [ "$left" = 0 ] && [ -n "$ledger" ] && [ "$ledger" = "$previous" ]; then
    drained=1
    break
  fi
  previous=$ledger
  python3 -c "import sys,time; sys.exit(time.time() >= float(sys.argv[1]))" "$drain_deadline" || break
  sleep 0.2
done
drain_s=$(python3 -c "import sys,time; print('%.1f' % (time.time() - float(sys.argv[1])))" "$drain_start")
if [ $drained = 1 ]; then
  echo "== drained ${drain_s} s after the load: no advice queued, nothing pending, ledgers still"
else
  echo "== not drained after ${drain_s} s (advices queued + transactions pending: $left); the reconciliation says what"
fi
switch_stats >"$run_dir/switch-stats.json"
printf '{"big_bank": %s, "lil_bank": %s}\n' "$(api -sf -m 5 "${http[big_bank]}/stats" || echo null)" \
  "$(api -sf -m 5 "${http[lil_bank]}/stats" || echo null)" >"$run_dir/bank-stats.json"
python3 - "$run_dir/bank-stats.json" <<'PY' || true
import json, sys
banks = json.load(open(sys.argv[1]))
print("== banks (since their last start): reversals found by DE 12/32/37/41 under another STAN (a switch "
      "restarted): %s; reversals credited: %s" % tuple(
          ", ".join("%s %s" % (n, (b or {}).get(k, "?")) for n, b in sorted(banks.items()))
          for k in ("reversals_by_keys_but_stan", "reversals_credited")))
PY

echo "== memory (kB): name pid  VmHWM start -> end  VmRSS start -> end  RssAnon start -> end"
memory_lines=""
for a in "${agents[@]}"; do
  p=${pid_of[$a]}
  read -r _n hwm0 rss0 anon0 <<<"${rss_start[$p]}"
  read -r hwm1 rss1 anon1 <<<"$(memory_of "$p")"
  memory_lines+=$(printf '%-10s %7s  %8s -> %8s  %8s -> %8s  %8s -> %8s' "$a" "$p" "$hwm0" "$hwm1" "$rss0" "$rss1" \
    "$anon0" "$anon1")$'\n'
done
while read -r n p hwm rss anon; do
  [ -n "$n" ] || continue
  read -r _n hwm0 rss0 anon0 <<<"${rss_start[$p]}"
  memory_lines+=$(printf '%-10s %7s  %8s -> %8s  %8s -> %8s  %8s -> %8s  (SIGKILLed)' "$n" "$p" "$hwm0" "$hwm" \
    "$rss0" "$rss" "$anon0" "$anon")$'\n'
done <<<"$rss_end_killed"
printf '%s' "$memory_lines" | tee "$run_dir/memory.txt"
# Growth over the second half of the run, when tables sized at start have been touched.
python3 - "$run_dir/memory-series.tsv" <<'PY' | tee -a "$run_dir/memory.txt"
import sys
rows = [l.split() for l in open(sys.argv[1]) if not l.startswith("#")]
last_t = max((int(r[0]) for r in rows), default=0)
for name in ("big_bank", "lil_bank", "mastercard", "visa"):
    mine = [(int(r[0]), int(r[2]), int(r[4]), int(r[5])) for r in rows if r[1] == name]
    pid = mine[-1][1] if mine else None
    half = [(t, rss, anon) for t, p, rss, anon in mine if p == pid and t >= last_t / 2]
    if len(half) >= 2:
        (t0, rss0, anon0), (t1, rss1, anon1) = half[0], half[-1]
        print("%-10s over the second half (t=%d..%d s): VmRSS %d -> %d kB (%+d), RssAnon %d -> %d kB (%+d)" % (
            name, t0, t1, rss0, rss1, rss1 - rss0, anon0, anon1, anon1 - anon0))
PY

# Stop every agent cleanly: each must exit 0 with no sanitizer report.
for a in "${agents[@]}"; do kill -TERM "${pid_of[$a]}"; done
for a in "${agents[@]}"; do
  status=0
  wait "${pid_of[$a]}" || status=$?
  check "$([ $status = 0 ] && echo 1 || echo 0)" "clean exit ($a)" "pid ${pid_of[$a]} exit status $status after SIGTERM"
done
all_pids=()
reports=$(grep -l -E 'ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error: |AddressSanitizer:DEADLYSIGNAL' \
  "$run_dir"/*.log 2>/dev/null || true)
crashes=$(cat "$run_dir"/*.log | grep -c -E 'Segmentation fault|core dumped|Aborted|SUMMARY: .*Sanitizer' || true)
check "$([ -z "$reports" ] && [ "$crashes" = 0 ] && echo 1 || echo 0)" "no crash or sanitizer report" \
  "logs of every process scanned${reports:+; reports in: $reports}"

for b in big_bank lil_bank; do
  "$dump_bin" "$run_dir/$b" "$run_dir/var/keys/pan.keys" >"$run_dir/$b.dump"
done
echo "== reconciliation"
set +e
unreachable_args=()
while read -r prefix from to _what; do
  [ -n "$prefix" ] && unreachable_args+=(--unreachable "$prefix" "$from" "$to")
done <"$run_dir/unreachable.txt"
python3 "$here/soak_reconcile.py" --outcomes "$run_dir/outcomes.txt" --summary "$run_dir/report/summary.json" \
  --replay "$run_dir/replay.log" --dump "big_bank=$run_dir/big_bank.dump" --dump "lil_bank=$run_dir/lil_bank.dump" \
  --initial-balance 100000000 --switch-stats "$run_dir/switch-stats.json" \
  --earlier-switch-stats "$run_dir/switch-stats-killed.jsonl" \
  --cardholder-timeout-ms "$cardholder_timeout_ms" --reversal-attempts "$reversal_attempts" "${unreachable_args[@]}" \
  --flood "${pan_prefix[mastercard]}" "$flood_start" "$flood_end" --flood-min 0.9 | tee "$run_dir/reconcile.txt"
reconcile_status=${PIPESTATUS[0]}
set -e
grep -E '^(ok|VIOLATION) ' "$run_dir/reconcile.txt" >>"$checks" || true
# A reconciliation that died half way (a missing file, malformed JSON) must not pass for a clean one.
grep -q '^RESULT: ' "$run_dir/reconcile.txt" ||
  check 0 "reconciliation" "soak_reconcile.py stopped before its result (exit status $reconcile_status)"
violations=$(grep -c '^VIOLATION' "$checks" || true)
echo "SOAK: $(grep -c '^ok' "$checks") invariants ok, $violations violation(s); files in $run_dir"
[ "$violations" = 0 ]
