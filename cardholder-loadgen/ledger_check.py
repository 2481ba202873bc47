#!/usr/bin/env python3
"""Money conservation after a load run: the banks' /ledger before and after,
against what the cardholders (the load generator's summary.json) saw.

Ledger semantics (storage/store.h, struct ledger_totals): approved_* counts the
journal entries still debited, reversed_* the ones approved and then reversed
(by the cardholder's 1420 or the network's 1420 advice after a bank timeout).

Checks, each printed with its numbers:
  1. inside each bank: created_total - total_balance == approved_amount;
  2. across the run:   balance_before == balance_after + gross_approved - reversed,
                       gross_approved = d(approved) + d(reversed);
  3. cardholders:      d(approved_count) == cardholder approvals (000 within the
                       timeout), d(approved_amount) == their amounts. A bank may
                       hold more only where a reversal's outcome is unknown
                       (cardholder reversal without 1430, network reversal
                       still pending or queued for store and forward); fewer is
                       always wrong. With --exact not even that: after the
                       networks have drained, not one debit more.
Exit status 0 when every check passes, 1 otherwise.
"""
import argparse
import json
import sys


def load(path):
    with open(path) as f:
        return json.load(f)


def total(ledgers, key):
    return sum(int(v.get(key, 0)) for v in ledgers.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", required=True, help='{"bank": /ledger JSON, ...} before the run')
    ap.add_argument("--after", required=True, help="same, after the run")
    ap.add_argument("--summary", required=True, help="the load generator's summary.json")
    ap.add_argument("--switch-stats", help='{"network": /stats JSON, ...} after the run')
    ap.add_argument("--exact", action="store_true",
                    help="the banks' debits must equal the cardholders' approvals, to the minor unit")
    a = ap.parse_args()

    before, after, summary = load(a.before), load(a.after), load(a.summary)
    switches = load(a.switch_stats) if a.switch_stats else {}
    failures = []

    def check(ok, text):
        print(("  ok    " if ok else "  FAIL  ") + text)
        if not ok:
            failures.append(text)

    print("money conservation:")
    for bank in sorted(after):
        l = after[bank]
        inside = int(l["created_total"]) - int(l["total_balance"])
        check(inside == int(l["approved_amount"]),
              f"{bank}: created {l['created_total']} - balance {l['total_balance']} = {inside}"
              f" == still-debited approvals {l['approved_amount']}")

    d = {k: total(after, k) - total(before, k)
         for k in ("total_balance", "approved_count", "approved_amount", "reversed_count", "reversed_amount",
                   "declined_count", "tombstones")}
    gross_count = d["approved_count"] + d["reversed_count"]
    gross_amount = d["approved_amount"] + d["reversed_amount"]
    balance_before, balance_after = total(before, "total_balance"), total(after, "total_balance")
    check(balance_before == balance_after + gross_amount - d["reversed_amount"],
          f"balances {balance_before} before == {balance_after} after + {gross_amount} approved"
          f" ({gross_count} authorizations) - {d['reversed_amount']} reversed ({d['reversed_count']})")

    c = summary["counts"]
    seen_count, seen_amount = int(c["approved"]), int(c["approved_amount"])
    unknown_cardholder = int(c["reversals_unanswered"])
    totals = {}
    for stats in switches.values():
        for k, v in stats.get("totals", {}).items():
            if isinstance(v, int):
                totals[k] = totals.get(k, 0) + v
    pending = sum(int(s.get("gauges", {}).get("pending", 0)) for s in switches.values())
    queued = sum(int(s.get("saf", {}).get("queued", 0)) for s in switches.values())
    unknown_network = pending + queued
    extra = d["approved_count"] - seen_count
    print("cardholders against the banks:")
    print(f"  banks: {d['approved_count']} still debited for {d['approved_amount']},"
          f" {d['reversed_count']} reversed for {d['reversed_amount']}, {d['declined_count']} declined,"
          f" {d['tombstones']} reversals of unknown originals")
    print(f"  cardholders: {seen_count} approved within the timeout for {seen_amount};"
          f" {c['timeouts']} timed out -> {c['reversals_sent']} reversals, {c['reversals_answered']} answered"
          f" {summary.get('reversal_action_codes', {})}, {unknown_cardholder} unanswered;"
          f" network 911 answers: {summary.get('action_codes', {}).get('911', 0)}")
    if switches:
        acknowledged = sum(int(s.get("saf", {}).get("acknowledged", 0)) for s in switches.values())
        print(f"  networks: {totals.get('timed_out', 0)} bank timeouts, {totals.get('reversals', 0)} reversal"
              f" advices, {acknowledged} acknowledged by the banks since start,"
              f" {pending} still pending, {queued} advices still queued for store and forward")
    if a.exact:
        check(pending == 0 and queued == 0,
              f"networks drained: {pending} transactions pending, {queued} advices queued")
    if extra == 0:
        check(d["approved_amount"] == seen_amount,
              f"banks' new debits {d['approved_count']} == cardholders' approvals {seen_count},"
              f" amounts {d['approved_amount']} == {seen_amount}")
    elif extra > 0 and a.exact:
        check(False, f"banks hold {extra} debit(s) more than cardholders saw approved"
                     f" ({d['approved_amount'] - seen_amount} in amount): customers charged for what they"
                     " were told was not approved")
    elif extra > 0:
        check(extra <= unknown_cardholder + unknown_network,
              f"banks hold {extra} debit(s) more than cardholders saw approved; reversals with unknown"
              f" outcome: {unknown_cardholder} cardholder 1420 without 1430 + {unknown_network} network"
              f" reversals pending or queued")
    else:
        check(False, f"cardholders saw {seen_count} approvals but the banks hold only {d['approved_count']}"
                     " new debits: money moved without a debit")
    lost = int(c.get("unsent_tx_refused", 0)) + int(c.get("unsent_behind", 0)) + int(c.get("unsent_table_full", 0))
    lost += int(c.get("not_sent_link_congested", 0))
    if lost:
        print(f"  note: {lost} planned request(s) were never sent (generator limits, see summary.txt)")
    print("RESULT: " + ("money conserved" if not failures else f"{len(failures)} check(s) failed"))
    return 0 if not failures else 1


if __name__ == "__main__":
    sys.exit(main())
