# Sourced by scripts/ecosystem.sh and bench/tcp/tcp_vs_udp.sh, after
# scripts/http-security.sh (whose api it calls): waiting until the networks owe
# nothing, before the ledgers are read for the money check.
#
#   wait_switches_drained TIMEOUT_S HOST:PORT ...
#     Polls each switch's /stats until none has a pending transaction
#     (gauges.pending) or a reversal advice still queued for a bank
#     (saf.queued), on two polls in a row. Returns 0, or 1 (and says what is
#     still owed) after TIMEOUT_S. A fixed sleep read the ledgers while
#     advices were still being repeated to the banks, and the check then
#     reported debits that were about to be reversed as money not conserved.
wait_switches_drained() {
  local timeout=$1
  shift
  local deadline=$((SECONDS + timeout)) quiet=0 owed target
  while :; do
    owed=0
    for target in "$@"; do
      owed=$((owed + $(api -sf -m 5 "$target/stats" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(s.get("gauges", {}).get("pending", 0) + s.get("saf", {}).get("queued", 0))' 2>/dev/null || echo 1)))
    done
    if [ "$owed" = 0 ]; then
      quiet=$((quiet + 1))
      [ "$quiet" -ge 2 ] && return 0
    else
      quiet=0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "switches still owe $owed pending transaction(s) or queued advice(s) after ${timeout} s" >&2
      return 1
    fi
    sleep 0.2
  done
}
