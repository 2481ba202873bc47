#!/usr/bin/env bash
# Authorizations per second and latency end to end over TCP against the UDP
# fast path, in one run, with the real programs (Release build): one switch
# (mastercard), two bank nodes (async), and cardholder-loadgen.
#   udp: loadgen --link udp, banks reached over UDP (the fast path)
#   tcp: loadgen --link tcp, banks reached over TCP (banks[].link: tcp)
# For each link kind: fresh LMDB, start the agents, offer each rate for
# --step-seconds, print the loadgen's SUMMARY line, check money conservation
# with cardholder-loadgen/ledger_check.py, stop the agents.
#
#   bash bench/tcp/tcp_vs_udp.sh [--build-dir DIR] [--rates "5000 20000 50000"]
#        [--step-seconds S] [--threads N] [--switch-workers N] [--base-port P] [--out DIR]
#        [--max-outstanding N]   (passed to the loadgen: its per-thread outstanding limit,
#                                 docs/loadgen.md; not given: the loadgen's default)
set -euo pipefail
umask 077 # results, logs and LMDB files: the owner's only
cd "$(dirname "$0")/../.."
root=$(pwd)
build=build-release
rates="5000 20000 50000"
step_seconds=5
threads=1
workers=1
base=16700
out=""
max_outstanding=()
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --rates) rates=$2; shift 2 ;;
    --step-seconds) step_seconds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --switch-workers) workers=$2; shift 2 ;;
    --base-port) base=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --max-outstanding) max_outstanding=(--max-outstanding "$2"); shift 2 ;;
    *) echo "tcp_vs_udp.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
for bin in switch/switch bank-node/bank-node cardholder-loadgen/cardholder-loadgen tools/http-keys tools/iso8583; do
  [ -x "$build/$bin" ] || { echo "tcp_vs_udp.sh: $build/$bin is missing (cmake -DCMAKE_BUILD_TYPE=Release -B $build, then build it)" >&2; exit 2; }
done
out=${out:-$(mktemp -d /tmp/tcp-vs-udp-XXXXXX)}
source "$(dirname "$0")/../../scripts/http-security.sh"
source "$(dirname "$0")/../../scripts/switch-drain.sh"
mkdir -p "$out"
pids=()
stop_all() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop_all EXIT

# The ecosystem on ports base..base+11; $1 = udp|tcp is how the switch reaches the banks.
write_config() {
  local link=$1 file=$2 dir=$3
  cat > "$file" <<YAML
pan_protection:
  key_file: $dir/pan.keys
banks:
  - name: big_bank
    institution_id: "10000000001"
    http: 127.0.0.1:$((base + 1))
    iso: 127.0.0.1:$((base + 2))
    tcp: {listen: 127.0.0.1:$((base + 3))}
    link: $link
    lmdb_path: $dir/big_bank
    durability: async
    networks:
      - network: mastercard
        bins: ["51051000"]
  - name: lil_bank
    institution_id: "20000000002"
    http: 127.0.0.1:$((base + 4))
    iso: 127.0.0.1:$((base + 5))
    tcp: {listen: 127.0.0.1:$((base + 6))}
    link: $link
    lmdb_path: $dir/lil_bank
    durability: async
    networks:
      - network: mastercard
        bins: ["51999100-51999199"]
networks:
  - name: mastercard
    major_industry_id: 5
    http: 127.0.0.1:$((base + 7))
    iso: 127.0.0.1:$((base + 8))
    tcp: {listen: 127.0.0.1:$((base + 9))}
    lmdb_path: $dir/mastercard
loadgen:
  cards_per_bank: 1000
  initial_balance: 100000000
  timeout_ms: 1000
http_security:
  tls_cert: $dir/secrets/http_cert.pem
  tls_key: $dir/secrets/http_key.pem
  ca: $dir/secrets/http_ca.pem
  secrets_file: $dir/secrets/http_keys
  agent_tokens_file: $dir/secrets/http_agent_tokens
  client_certs: $dir/secrets/agents
iso_mac:
  key_file: $dir/iso_mac.keys
YAML
  "$build/tools/iso8583" mac-keys --config "$file" # throwaway keys: every link MACed
  http_security_prepare "$dir" "$file" "$build/tools/http-keys"
}

wait_http() {
  for _ in $(seq 1 200); do api -sf "127.0.0.1:$1/stats" > /dev/null && return 0; sleep 0.05; done
  echo "tcp_vs_udp.sh: nothing answers on port $1" >&2; return 1
}

ledgers() {
  printf '{"big_bank": %s, "lil_bank": %s}\n' "$(api -sf "127.0.0.1:$((base + 1))/ledger")" \
    "$(api -sf "127.0.0.1:$((base + 4))/ledger")"
}

printf 'link\toffered/s\tachieved/s\tdecided/s\tp50\tp99\tp99.9\ttimeouts\tnot_sent\tmoney\n' > "$out/results.tsv"
for link in udp tcp; do
  dir="$out/$link"
  rm -rf "$dir"; mkdir -p "$dir"
  write_config "$link" "$dir/ecosystem.yaml" "$dir"
  "$build/tools/pan-keys" create "$dir/pan.keys" >/dev/null # throwaway keys for this run
  "$build/bank-node/bank-node" --config "$dir/ecosystem.yaml" --bank big_bank > "$dir/big_bank.log" 2>&1 & pids+=($!)
  "$build/bank-node/bank-node" --config "$dir/ecosystem.yaml" --bank lil_bank > "$dir/lil_bank.log" 2>&1 & pids+=($!)
  wait_http $((base + 1)); wait_http $((base + 4))
  "$build/switch/switch" --config "$dir/ecosystem.yaml" --network mastercard --workers "$workers" \
    > "$dir/switch.out" 2> "$dir/switch.log" & pids+=($!)
  wait_http $((base + 7))
  for rate in $rates; do
    ledgers > "$dir/before-$rate.json"
    "$build/cardholder-loadgen/cardholder-loadgen" --config "$dir/ecosystem.yaml" --link "$link" \
      --rate "$rate" --duration "$step_seconds" --threads "$threads" --report-dir "$dir/report-$rate" \
      --no-plots --no-progress "${max_outstanding[@]}" > "$dir/loadgen-$rate.txt" 2>&1 || true
    wait_switches_drained 120 "127.0.0.1:$((base + 7))" || true # reversal advices still repeated to the banks
    ledgers > "$dir/after-$rate.json"
    money=conserved
    python3 cardholder-loadgen/ledger_check.py --before "$dir/before-$rate.json" --after "$dir/after-$rate.json" \
      --summary "$dir/report-$rate/summary.json" > "$dir/ledger-$rate.txt" 2>&1 || money=NOT-CONSERVED
    summary=$(grep '^SUMMARY' "$dir/loadgen-$rate.txt" || echo "SUMMARY (none)")
    echo "$link $rate/s: $summary money=$money"
    python3 - "$dir/report-$rate/summary.json" "$link" "$rate" "$money" >> "$out/results.tsv" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
lat = s["latency_us"]
def ms(v): return "%.2f ms" % (v / 1000.0)
c = s["counts"]
# decided: answers that are a bank's or the checks' decision (9xx failures and shed requests excluded);
# not_sent: planned requests the generator declined or could not send (link congested, ...).
not_sent = sum(int(c.get(k, 0)) for k in ("unsent_behind", "unsent_tx_refused", "unsent_table_full",
                                           "not_sent_link_congested"))
print("\t".join([sys.argv[2], sys.argv[3], "%.0f" % s["throughput"], "%.0f" % s.get("decided_rate", 0),
                 ms(lat["p50"]), ms(lat["p99"]), ms(lat["p99_9"]), str(c["timeouts"]), str(not_sent), sys.argv[4]]))
PY
  done
  api -sf "127.0.0.1:$((base + 7))/stats" > "$dir/switch-stats.json" || true
  python3 - "$dir/switch-stats.json" "$link" <<'PY' || true
import json, sys
s = json.load(open(sys.argv[1]))
t, tcp = s.get("totals", {}), s.get("tcp", {})
print("%s switch (all steps): shed_stale=%s tx_dropped=%s pending_full=%s cardholder_reversals_forwarded=%s "
      "rx_paused_tx_backlog=%s tx_ring_full=%s" % (sys.argv[2], t.get("shed_stale", "-"), t.get("tx_dropped"),
      t.get("pending_full"), t.get("cardholder_reversals_forwarded"), tcp.get("rx_paused_tx_backlog", "-"),
      tcp.get("tx_ring_full", "-")))
PY
  stop_all
done
echo "results: $out/results.tsv"
column -t -s $'\t' "$out/results.tsv"
