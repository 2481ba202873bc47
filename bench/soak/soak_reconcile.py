#!/usr/bin/env python3
"""Reconciles a soak run (bench/soak/soak.sh): what the cardholders and the
replayer saw against the banks' journals and balances, read from LMDB after the
banks stopped (soak_ledger_dump). One line per invariant, "ok" or "VIOLATION",
with its counts; exit status 1 when any invariant is violated.

Transactions are matched on (DE 32, DE 12, DE 37, DE 41): the switch gives each
transaction its own DE 11 towards the bank, so the bank's STAN is not the
cardholder's; DE 37 is unique per request in a run (load generator: thread +
sequence; replayer: 9<kind>...; malformed traffic: 97...).

Invariants:
  outcome file complete      a line per request the load generator sent
  money conserved            per bank: sum of balances == created - approved + reversed (gross)
  accounts                   each account: balance == initial - its still-debited journal entries
                             (no debit without an entry, every reversal credited exactly once)
  one decision per txn       at most one approved/declined/reversed entry per transaction
  journal entries explained  every entry belongs to a load generator or replayer transaction
  cardholder approvals       every 000 the cardholders got in time is a still-debited entry
                             with the same PAN and amount
  cardholder refusals        no refusal the cardholders got (911, 912, 100, ...) is debited
  cardholder reversals       no accepted (400) or unknown-original (914) cardholder reversal
                             left its original debited; every cardholder reversal was answered
                             400 or 914, except where its outcome is legitimately unknown (below)
  declined but debited       the headline: customers told no (a refusal, or a timeout whose
                             reversal was answered or went unanswered without excuse) whose
                             money is still debited after the drain; must be 0
  replayer                   the replayer's duplicates were answered consistently, and the
                             journal shows what its answers promised
  store and forward drained  (with --switch-stats) on every switch: no advice queued, on disk
                             or in the exception queue, no transaction pending, the store healthy
  flood                      (with --flood) the answered share of the flooded switch's
                             requests during the flood is at least --flood-min

Legitimately unknown: a cardholder reversal that got no 1430 in all its attempts
because its switch could not hear it: its last attempt (the 1100's intended send
time + attempts x cardholder timeout) falls within an --unreachable window of
its network (the switch SIGKILLed until it answered again, or flooded), give or
take --slack-s. Such a customer was told nothing; it is counted, with how many
of them ended debited, and allowed. Without --unreachable nothing is excused.
"""
import argparse
import json
import sys
from collections import defaultdict

DECISIONS = ("approved", "declined", "reversed")


class Report:
    def __init__(self):
        self.violations = 0

    def line(self, ok, name, text):
        if not ok:
            self.violations += 1
        print("%-10s %s: %s" % ("ok" if ok else "VIOLATION", name, text))


def read_outcomes(path):
    start_unix_ns, rows = 0, []
    with open(path) as f:
        for line in f:
            if line.startswith("# start_unix_ns"):
                start_unix_ns = int(line.split()[2])
                continue
            if line.startswith("#") or not line.strip():
                continue
            p = line.split()
            rows.append({"acquirer": p[0], "stan": p[1], "local_time": p[2], "rrn": p[3], "terminal": p[4],
                         "pan": p[5], "amount": int(p[6]), "intended_ms": int(p[7]), "code": p[8],
                         "reversal_stan": p[9], "reversal_code": p[10]})
    return start_unix_ns, rows


def read_dump(path):
    created, accounts, journal = 0, {}, []
    with open(path) as f:
        for line in f:
            p = line.split()
            if p[0] == "meta" and p[1] == "created_total":
                created = int(p[2])
            elif p[0] == "account":
                accounts[p[1]] = int(p[2])
            elif p[0] == "journal":
                journal.append({"acquirer": p[1], "stan": p[2], "local_time": p[3], "rrn": p[4], "terminal": p[5],
                                "state": p[6], "reversal_seen": p[7], "action": p[8], "approval": p[9],
                                "pan": p[10], "account": p[11], "amount": int(p[12])})
    return created, accounts, journal


def read_replay(path):
    txns, violations, stats = [], [], {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p:
                continue
            if p[0] == "txn":
                txns.append({"kind": p[1], "acquirer": p[2], "stan": p[3], "local_time": p[4], "rrn": p[5],
                             "terminal": p[6], "pan": p[7], "amount": int(p[8]), "code": p[9],
                             "reversal_code": p[10], "expect": p[11]})
            elif p[0] == "violation":
                violations.append(line[len("violation "):].strip())
            elif p[0] == "stats":
                stats = dict(kv.split("=") for kv in p[1:])
    return txns, violations, stats


def key4(r):
    return (r["acquirer"], r["local_time"], r["rrn"], r["terminal"])


def sample(items, n=3):
    items = list(items)
    return "" if not items else " e.g. " + "; ".join(items[:n])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--outcomes", required=True, help="the load generator's --outcomes file")
    ap.add_argument("--summary", required=True, help="the load generator's summary.json")
    ap.add_argument("--replay", help="soak_replay.py's log")
    ap.add_argument("--dump", action="append", required=True, help="BANK=FILE: soak_ledger_dump output")
    ap.add_argument("--initial-balance", type=int, required=True, help="every generated account's opening balance")
    ap.add_argument("--switch-stats", help='{"network": /stats JSON} after the run')
    ap.add_argument("--flood", nargs=3, metavar=("PAN_PREFIX", "START_UNIX", "END_UNIX"),
                    help="the flooded switch's PAN first digit and the flood's wall-clock window")
    ap.add_argument("--flood-min", type=float, default=0.9)
    ap.add_argument("--unreachable", nargs=3, action="append", default=[],
                    metavar=("PAN_PREFIX", "START_UNIX", "END_UNIX"),
                    help="the switch of these cards could not hear its cardholders in this wall-clock window "
                         "(SIGKILLed until it answered again, or flooded); repeatable")
    ap.add_argument("--cardholder-timeout-ms", type=int, help="the load generator's --timeout-ms")
    ap.add_argument("--reversal-attempts", type=int, help="the load generator's --reversal-attempts")
    ap.add_argument("--slack-s", type=float, default=1.0,
                    help="leeway around an --unreachable window for the last reversal attempt's time")
    ap.add_argument("--earlier-switch-stats", action="append", default=[],
                    help="FILE: JSON lines {\"network\": N, \"stats\": /stats} of switch instances SIGKILLed during "
                         "the run (their last /stats), for the store-and-forward totals")
    a = ap.parse_args()
    if a.unreachable and (not a.cardholder_timeout_ms or not a.reversal_attempts):
        ap.error("--unreachable needs --cardholder-timeout-ms and --reversal-attempts")
    report = Report()

    start_unix_ns, outcomes = read_outcomes(a.outcomes)
    summary = json.load(open(a.summary))
    sent = int(summary["counts"]["sent"])
    # The lines must tell the same story as the generator's own counters.
    line_codes = defaultdict(int)
    line_reversals = defaultdict(int)
    for r in outcomes:
        line_codes[r["code"]] += 1
        if r["reversal_code"] != "-":
            line_reversals[r["reversal_code"]] += 1
    summary_codes = {k: int(v) for k, v in summary.get("action_codes", {}).items() if int(v)}
    summary_codes["timeout"] = int(summary["counts"].get("timeouts", 0))
    summary_reversals = {k: int(v) for k, v in summary.get("reversal_action_codes", {}).items() if int(v)}
    summary_reversals["none"] = int(summary["counts"].get("reversals_unanswered", 0))
    same = ({k: v for k, v in line_codes.items() if v} == {k: v for k, v in summary_codes.items() if v} and
            {k: v for k, v in line_reversals.items() if v} == {k: v for k, v in summary_reversals.items() if v})
    report.line(len(outcomes) == sent and same, "outcome file complete",
                "%d lines for %d requests sent; codes %s, reversals %s%s" % (
                    len(outcomes), sent, " ".join("%s=%d" % kv for kv in sorted(line_codes.items())),
                    " ".join("%s=%d" % kv for kv in sorted(line_reversals.items())) or "-",
                    "" if same else " (the summary says %s, reversals %s)" % (summary_codes, summary_reversals)))

    journal_by_key = defaultdict(list)
    total_entries = 0
    for entry in a.dump:
        bank, path = entry.split("=", 1)
        created, accounts, journal = read_dump(path)
        total_entries += len(journal)
        debited = defaultdict(int)
        approved_amount = reversed_amount = approved_n = reversed_n = 0
        unknown_states = 0
        for j in journal:
            j["bank"] = bank
            journal_by_key[key4(j)].append(j)
            if j["state"] == "approved":
                debited[j["account"]] += j["amount"]
                approved_amount += j["amount"]
                approved_n += 1
            elif j["state"] == "reversed":
                reversed_amount += j["amount"]
                reversed_n += 1
            elif j["state"] not in ("declined", "tombstone"):
                unknown_states += 1
        balance = sum(accounts.values())
        gross = approved_amount + reversed_amount
        report.line(balance == created - gross + reversed_amount and unknown_states == 0,
                    "money conserved (%s)" % bank,
                    "start %d - approved %d (%d) + reversed %d (%d) = %d, balances sum to %d%s" % (
                        created, gross, approved_n + reversed_n, reversed_amount, reversed_n,
                        created - gross + reversed_amount, balance,
                        ", %d entries in an unknown state" % unknown_states if unknown_states else ""))
        wrong = ["%s: balance %d, expected %d" % (acc, bal, a.initial_balance - debited.get(acc, 0))
                 for acc, bal in sorted(accounts.items()) if bal != a.initial_balance - debited.get(acc, 0)]
        orphans = [acc for acc in debited if acc not in accounts]
        report.line(not wrong and not orphans, "accounts (%s)" % bank,
                    "%d accounts, %d differ from initial - still-debited entries, %d debited entries name no account%s"
                    % (len(accounts), len(wrong), len(orphans), sample(wrong + orphans)))

    def decision(key):
        ds = [j for j in journal_by_key.get(key, []) if j["state"] in DECISIONS]
        return ds[0] if len(ds) == 1 else (None if not ds else ds)

    multi = [k for k, js in journal_by_key.items() if sum(j["state"] in DECISIONS for j in js) > 1]
    report.line(not multi, "one decision per transaction",
                "%d journal entries for %d transactions, %d decided more than once%s" % (
                    total_entries, len(journal_by_key), len(multi), sample(" ".join(k) for k in multi)))

    replay_txns, replay_violations, replay_stats = read_replay(a.replay) if a.replay else ([], [], {})
    known = {key4(r) for r in outcomes} | {key4(t) for t in replay_txns}
    stray = [k for k in journal_by_key if k not in known]
    garbage = [k for k in stray if k[2].startswith("97")]
    # A replayer scenario cut short at the end may have reached a bank without a txn line: only its own.
    replay_cut = [k for k in stray if k[2].startswith("9") and not k[2].startswith("97")]
    unexplained = [k for k in stray if not k[2].startswith("9")]
    report.line(not garbage and not unexplained and len(replay_cut) <= 1, "journal entries explained",
                "%d transactions in the journals, %d not sent by anyone we know (%d from malformed traffic)%s" % (
                    len(journal_by_key), len(unexplained) + len(garbage), len(garbage),
                    sample(" ".join(k) for k in garbage + unexplained)))

    windows = [(prefix, float(start), float(end)) for prefix, start, end in a.unreachable]

    def last_attempt_s(r):
        """Wall-clock time of the last reversal attempt of a timed-out request (at the earliest)."""
        return (start_unix_ns / 1e9 + r["intended_ms"] / 1000.0 +
                a.reversal_attempts * a.cardholder_timeout_ms / 1000.0)

    def unreachable(r):
        if not windows:
            return False
        t = last_attempt_s(r)
        # The last attempt reached a switch about to die (one timeout before the kill) or a dead one.
        return any(r["pan"].startswith(prefix) and
                   start - a.cardholder_timeout_ms / 1000.0 - a.slack_s <= t <= end + a.slack_s
                   for prefix, start, end in windows)

    def debited(d):
        return bool(d and not isinstance(d, list) and d["state"] == "approved")

    approvals_bad, refusals_bad, reversals_bad, unanswered_bad, other_bad = [], [], [], [], []
    n_approved = n_refused = n_reversed = n_unknown = unknown_debited = 0
    for r in outcomes:
        d = decision(key4(r))
        if isinstance(d, list):
            continue  # reported above
        if r["code"] == "000":
            n_approved += 1
            if not d or d["state"] != "approved" or d["pan"] != r["pan"] or d["amount"] != r["amount"]:
                approvals_bad.append("%s %s -> %s" % (r["rrn"], r["pan"], d["state"] if d else "no entry"))
        elif r["code"] != "timeout":
            n_refused += 1
            if debited(d):
                refusals_bad.append("%s got %s, debited %d" % (r["rrn"], r["code"], d["amount"]))
        elif r["reversal_code"] in ("400", "914"):
            n_reversed += 1
            if debited(d):
                reversals_bad.append("%s reversal %s, still debited" % (r["rrn"], r["reversal_code"]))
        elif r["reversal_code"] == "none" and unreachable(r):
            n_unknown += 1
            unknown_debited += debited(d)
        elif r["reversal_code"] == "none":
            unanswered_bad.append("%s reversal unanswered while its switch was up%s" % (
                r["rrn"], ", debited" if debited(d) else ""))
        else:
            other_bad.append("%s reversal answered %s%s" % (r["rrn"], r["reversal_code"],
                                                             ", debited" if debited(d) else ""))
    report.line(not approvals_bad, "cardholder approvals",
                "%d approved in time, %d not a still-debited entry of the same PAN and amount%s" % (
                    n_approved, len(approvals_bad), sample(approvals_bad)))
    report.line(not refusals_bad, "cardholder refusals",
                "%d refused or timed out at the network, %d debited%s" % (n_refused, len(refusals_bad),
                                                                          sample(refusals_bad)))
    report.line(not reversals_bad and not unanswered_bad and not other_bad, "cardholder reversals",
                "%d cardholder timeouts reversed (400/914), %d left debited; %d unanswered while their switch "
                "could hear them, %d answered with another code; %d unanswered because their switch was "
                "unreachable for their last attempt (outcome unknown to the cardholder, allowed: %d of them "
                "debited)%s" % (n_reversed, len(reversals_bad), len(unanswered_bad), len(other_bad), n_unknown,
                                unknown_debited, sample(reversals_bad + unanswered_bad + other_bad)))
    excuseless = unanswered_bad + other_bad
    declined_debited = (len(refusals_bad) + len(reversals_bad) +
                        sum(x.endswith(", debited") for x in excuseless))
    report.line(declined_debited == 0, "declined but debited",
                "%d customers declined but still debited after the drain (of %d refused, %d timeouts reversed "
                "400/914, %d timeouts whose reversal went unanswered or was refused while their switch was up); "
                "%d timeouts of unknown outcome (switch unreachable), %d of them debited (allowed)" % (
                    declined_debited, n_refused, n_reversed, len(excuseless), n_unknown, unknown_debited))

    if a.replay:
        wrong = []
        expects = defaultdict(int)
        for t in replay_txns:
            expects[t["expect"]] += 1
            d = decision(key4(t))
            if isinstance(d, list):
                continue
            if t["expect"] == "approved" and (not d or d["state"] != "approved" or d["amount"] != t["amount"]):
                wrong.append("%s %s expected debited, journal %s" % (t["kind"], t["rrn"], d["state"] if d else "none"))
            if t["expect"] == "not_approved" and d and d["state"] == "approved":
                wrong.append("%s %s expected not debited, journal approved" % (t["kind"], t["rrn"]))
        report.line(not wrong and not replay_violations, "replayer",
                    "%d scenarios (%s), %s messages sent, %s unanswered after resends; %d inconsistent answers, "
                    "%d journal mismatches%s" % (
                        len(replay_txns), " ".join("%s=%d" % kv for kv in sorted(expects.items())),
                        replay_stats.get("sent", "?"), replay_stats.get("unanswered", "?"),
                        len(replay_violations), len(wrong), sample(replay_violations + wrong)))

    if a.switch_stats:
        stats = json.load(open(a.switch_stats))
        earlier = []
        for path in a.earlier_switch_stats:
            with open(path) as f:
                earlier += [json.loads(line) for line in f if line.strip()]
        problems, parts = [], []
        total = defaultdict(int)

        def saf_counter(s, key):
            v = s.get("saf", {}).get(key)
            return v if isinstance(v, int) and not isinstance(v, bool) else 0

        for e in earlier:
            for key in ("stored", "loaded", "acknowledged"):
                total[key] += saf_counter(e.get("stats", {}), key)
        for name, s in sorted(stats.items()):
            saf = s.get("saf")
            pending = int(s.get("gauges", {}).get("pending", 0))
            if not isinstance(saf, dict):
                problems.append("%s: no saf section in /stats" % name)
                continue
            queued, on_disk, exceptions = saf.get("queued"), saf.get("on_disk"), saf.get("exceptions")
            for key in ("stored", "loaded", "acknowledged"):
                total[key] += saf_counter(s, key)
            if queued != 0:
                problems.append("%s: %s advice(s) still queued" % (name, queued))
            if on_disk != 0:
                problems.append("%s: %s advice(s) on disk" % (name, "an unknown number of" if on_disk is None
                                                               else on_disk))
            if exceptions != 0:
                problems.append("%s: %s advice(s) in the exception queue" % (
                    name, "an unknown number of" if exceptions is None else exceptions))
            if pending:
                problems.append("%s: %d transaction(s) pending" % (name, pending))
            if saf.get("healthy") is not True:
                problems.append("%s: store not healthy" % name)
            parts.append("%s queued %s, on disk %s, exceptions %s, pending %d" % (
                name, queued, on_disk, exceptions, pending))
        report.line(bool(stats) and not problems, "store and forward drained",
                    "%s; advices stored %d, reloaded at restarts %d, acknowledged by the banks %d "
                    "(over %d switch instances, %d of them SIGKILLed: their counters as last read)%s" % (
                        "; ".join(parts) or "no switch", total["stored"], total["loaded"], total["acknowledged"],
                        len(stats) + len(earlier), len(earlier), sample(problems, 4)))

    if a.flood:
        prefix, start, end = a.flood[0], float(a.flood[1]), float(a.flood[2])
        window = [r for r in outcomes if r["pan"].startswith(prefix)
                  and start <= (start_unix_ns / 1e9 + r["intended_ms"] / 1000.0) <= end]
        answered = sum(r["code"] != "timeout" for r in window)
        share = answered / len(window) if window else 0.0
        report.line(bool(window) and share >= a.flood_min, "flood",
                    "%d legitimate requests to the flooded switch during %.1f s of flood, %d answered in time "
                    "(%.1f%%, at least %.0f%% required)" % (len(window), end - start, answered, 100 * share,
                                                            100 * a.flood_min))

    print("RESULT: %s" % ("no violation" if report.violations == 0 else "%d violation(s)" % report.violations))
    return 0 if report.violations == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
