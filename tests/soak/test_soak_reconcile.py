#!/usr/bin/env python3
"""The soak reconciliation (bench/soak/soak_reconcile.py) on crafted inputs: a
consistent run passes, and each kind of damage is reported as a VIOLATION of
the invariant that names it (and only makes the run fail, never pass).

The consistent run tells one story: the switch stored two advices (the 911's
and the reversal of request 2) and had one acknowledged when it was SIGKILLed;
request 3 was approved by the bank while the switch was dead to its cardholder
for the whole of its reversal attempts (an --unreachable window), so its
outcome is legitimately unknown and it stays debited; the restarted switch
reloaded the other advice and the bank acknowledged it."""
import copy
import json
import os
import subprocess
import sys
import tempfile

SOURCE = os.environ.get("ISO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
RECONCILE = os.path.join(SOURCE, "bench", "soak", "soak_reconcile.py")
INITIAL = 100000
ACQ, T0 = "30000000003", "261125120000"
START_S = 1000000000  # the outcome file's start_unix_ns, in seconds
TIMEOUT_MS, ATTEMPTS = 500, 3
# Request 3 (intended at 40 ms) timed out and made its last reversal attempt at 40 ms + 3 x 500 ms.
SWITCH_DEAD = ["5", "%.3f" % (START_S + 1.0), "%.3f" % (START_S + 2.0)]


def consistent_run():
    """Four cardholder requests, two replayer scenarios, one bank; every number agrees."""
    outcomes = [
        # rrn, pan, amount, intended_ms, code, reversal_stan, reversal_code
        ("000000000000", "5105100000000001", 500, 10, "000", "-", "-"),
        ("000000000001", "5105100000000019", 700, 20, "911", "-", "-"),
        ("000000000002", "5105100000000027", 900, 30, "timeout", "000009", "400"),
        ("000000000003", "5105100000000035", 300, 40, "timeout", "000010", "none"),
    ]
    journal = [
        # bank stan, rrn, terminal, state, pan, account, amount
        ("000000", "000000000000", "L0000000", "approved", "5105100000000001", "b-0", 500),
        ("000001", "000000000001", "L0000000", "reversed", "5105100000000019", "b-1", 700),
        ("000002", "000000000002", "L0000000", "reversed", "5105100000000027", "b-2", 900),
        ("000003", "000000000003", "L0000000", "approved", "5105100000000035", "b-3", 300),
        ("000042", "910000000001", "SOAKRPL1", "approved", "5105100000000043", "b-4", 200),
        ("000043", "920000000002", "SOAKRPL1", "reversed", "5105100000000050", "b-5", 100),
        ("000045", "930000000003", "SOAKRPL1", "declined", "5105100000000068", "b-6", 100),
    ]
    replay = [
        "txn switch-dup %s 000042 %s 910000000001 SOAKRPL1 5105100000000043 200 000 - approved" % (ACQ, T0),
        "txn bank-dup %s 000043 %s 920000000002 SOAKRPL1 5105100000000050 100 000 400 not_approved" % (ACQ, T0),
        "txn reversal-first %s 000045 %s 930000000003 SOAKRPL1 5105100000000068 100 100 914 not_approved" % (ACQ, T0),
        "stats scenarios=3 sent=14 answers=14 stale_answers=0 unanswered=0 violations=0",
    ]
    # The switch as it ended (restarted: it reloaded the advice its killed instance had not seen
    # acknowledged), and the killed instance as last read.
    switch = {"pending": 0, "saf": {"healthy": True, "queued": 0, "on_disk": 0, "exceptions": 0, "stored": 0,
                                    "loaded": 1, "acknowledged": 1}}
    killed = {"pending": 1, "saf": {"healthy": True, "queued": 1, "on_disk": 1, "exceptions": 0, "stored": 2,
                                    "loaded": 0, "acknowledged": 1}}
    return {"outcomes": outcomes, "journal": journal, "replay": replay, "accounts": 8,
            "balance_delta": {}, "switch": switch, "killed": killed, "unreachable": [SWITCH_DEAD], "sent": 4}


def write(run, d):
    with open(os.path.join(d, "outcomes.txt"), "w") as f:
        f.write("# start_unix_ns 1000000000000000000\n# columns\n")
        for rrn, pan, amount, ms, code, rstan, rcode in run["outcomes"]:
            f.write("%s 000001 %s %s L0000000 %s %d %d %s %s %s\n" % (ACQ, T0, rrn, pan, amount, ms, code, rstan, rcode))
    # The generator's own counters, as they would be for these outcomes (or as a test bends them).
    codes, reversal_codes, timeouts, unanswered = {}, {}, 0, 0
    for o in run["outcomes"]:
        if o[4] == "timeout":
            timeouts += 1
            if o[6] == "none":
                unanswered += 1
            else:
                reversal_codes[o[6]] = reversal_codes.get(o[6], 0) + 1
        else:
            codes[o[4]] = codes.get(o[4], 0) + 1
    codes.update(run.get("summary_codes", {}))
    with open(os.path.join(d, "summary.json"), "w") as f:
        json.dump({"counts": {"sent": run["sent"], "timeouts": timeouts, "reversals_unanswered": unanswered},
                   "action_codes": codes, "reversal_action_codes": reversal_codes}, f)
    debits = {}
    for _, _, _, state, _, account, amount in run["journal"]:
        if state == "approved":
            debits[account] = debits.get(account, 0) + amount
    with open(os.path.join(d, "bank.dump"), "w") as f:
        f.write("meta created_total %d\n" % (INITIAL * run["accounts"]))
        for i in range(run["accounts"]):
            acc = "b-%d" % i
            f.write("account %s %d\n" % (acc, INITIAL - debits.get(acc, 0) + run["balance_delta"].get(acc, 0)))
        for stan, rrn, terminal, state, pan, account, amount in run["journal"]:
            f.write("journal %s %s %s %s %s %s 0 000 123456 %s %s %d\n" % (
                ACQ, stan, T0, rrn, terminal, state, pan, account, amount))
    with open(os.path.join(d, "replay.log"), "w") as f:
        f.write("\n".join(run["replay"]) + "\n")
    def stats(state):
        s = {"totals": {"reversals": 1, "cardholder_reversals": 1}, "gauges": {"pending": state["pending"]}}
        if state.get("saf") is not None:
            s["saf"] = state["saf"]
        return s

    with open(os.path.join(d, "switch.json"), "w") as f:
        json.dump({"n": stats(run["switch"])}, f)
    with open(os.path.join(d, "killed.jsonl"), "w") as f:
        if run.get("killed"):
            f.write(json.dumps({"network": "n", "stats": stats(run["killed"])}) + "\n")


def reconcile(run, flood=None):
    with tempfile.TemporaryDirectory() as d:
        write(run, d)
        cmd = [sys.executable, RECONCILE, "--outcomes", d + "/outcomes.txt", "--summary", d + "/summary.json",
               "--replay", d + "/replay.log", "--dump", "bank=" + d + "/bank.dump", "--initial-balance", str(INITIAL),
               "--switch-stats", d + "/switch.json", "--earlier-switch-stats", d + "/killed.jsonl",
               "--cardholder-timeout-ms", str(TIMEOUT_MS), "--reversal-attempts", str(ATTEMPTS)]
        for window in run["unreachable"]:
            cmd += ["--unreachable"] + window
        if flood:
            cmd += ["--flood"] + flood
        p = subprocess.run(cmd, capture_output=True, text=True)
        return p.returncode, p.stdout + p.stderr


failures = []


def expect(name, run, status, must_contain, flood=None):
    code, out = reconcile(run, flood)
    ok = code == status and all(m in out for m in must_contain)
    if status == 1:
        ok = ok and out.count("VIOLATION") >= 1
    print("%s  %s" % ("pass" if ok else "FAIL", name))
    if not ok:
        failures.append(name)
        print(out)


base = consistent_run()
expect("consistent run passes", base, 0, [
    "RESULT: no violation", "ok         declined but debited: 0 customers",
    "1 timeouts of unknown outcome (switch unreachable), 1 of them debited (allowed)",
    "advices stored 2, reloaded at restarts 1, acknowledged by the banks 2"])
expect("flood window answered passes", base, 0, ["ok         flood: 2 legitimate"], ["5", "1000000000.0", "1000000000.025"])

m = copy.deepcopy(base)
m["balance_delta"] = {"b-2": 900}  # a reversal credited twice
expect("double credit", m, 1, ["VIOLATION  money conserved (bank)", "VIOLATION  accounts (bank)"])

m = copy.deepcopy(base)
m["balance_delta"] = {"b-7": -50}  # money moved without a journal entry
expect("debit without a journal entry", m, 1, ["VIOLATION  accounts (bank)"])

m = copy.deepcopy(base)
m["journal"][0] = m["journal"][0][:3] + ("reversed",) + m["journal"][0][4:]
expect("cardholder's approval not debited", m, 1, ["VIOLATION  cardholder approvals"])

m = copy.deepcopy(base)
m["journal"][0] = m["journal"][0][:6] + (501,)
expect("cardholder's approval of another amount", m, 1, ["VIOLATION  cardholder approvals"])

m = copy.deepcopy(base)
m["journal"][1] = m["journal"][1][:3] + ("approved",) + m["journal"][1][4:]
expect("911 left debited", m, 1, ["VIOLATION  cardholder refusals", "VIOLATION  declined but debited: 1 customers"])

m = copy.deepcopy(base)
m["journal"][2] = m["journal"][2][:3] + ("approved",) + m["journal"][2][4:]
expect("accepted reversal left debited", m, 1, ["VIOLATION  cardholder reversals",
                                                "VIOLATION  declined but debited: 1 customers"])

m = copy.deepcopy(base)
m["unreachable"] = []  # nothing excuses request 3's unanswered reversal: its switch was up
expect("reversal unanswered while the switch was up", m, 1, [
    "VIOLATION  cardholder reversals", "1 unanswered while their switch could hear them",
    "VIOLATION  declined but debited: 1 customers"])

m = copy.deepcopy(base)
m["unreachable"] = [["4"] + SWITCH_DEAD[1:]]  # the other network's switch was the one down
expect("unreachable window of another network", m, 1, ["VIOLATION  declined but debited: 1 customers"])

m = copy.deepcopy(base)
m["unreachable"] = [["5", "%.3f" % (START_S - 10.0), "%.3f" % (START_S - 5.0)]]  # back well before request 3
expect("switch back before the last reversal attempt", m, 1, ["VIOLATION  cardholder reversals"])

m = copy.deepcopy(base)
m["journal"][3] = m["journal"][3][:3] + ("reversed",) + m["journal"][3][4:]
m["unreachable"] = []
expect("reversal unanswered while the switch was up, yet reversed", m, 1, [
    "VIOLATION  cardholder reversals", "ok         declined but debited: 0 customers"])

m = copy.deepcopy(base)
m["outcomes"][2] = m["outcomes"][2][:6] + ("909",)  # the disk refused the advice
m["journal"][2] = m["journal"][2][:3] + ("approved",) + m["journal"][2][4:]
expect("reversal refused with 909 and left debited", m, 1, ["VIOLATION  cardholder reversals",
                                                            "VIOLATION  declined but debited: 1 customers"])

m = copy.deepcopy(base)
m["journal"].append(("000099",) + m["journal"][0][1:])  # the same request decided twice under another STAN
expect("double debit of one request", m, 1, ["VIOLATION  one decision per transaction"])

m = copy.deepcopy(base)
m["journal"].append(("000001", "970000000001", "SOAKJUNK", "approved", "5105100000000076", "b-7", 50))
expect("malformed traffic accepted", m, 1, ["VIOLATION  journal entries explained"])

m = copy.deepcopy(base)
m["sent"] = 5
expect("outcome line missing", m, 1, ["VIOLATION  outcome file complete"])

m = copy.deepcopy(base)
m["summary_codes"] = {"000": 2}  # the generator counted an approval the outcome file does not show
expect("outcome lines disagree with the summary", m, 1, ["VIOLATION  outcome file complete"])

m = copy.deepcopy(base)
m["replay"].insert(0, "violation bank-dup 920000000002: duplicate answered 000/654321 after 000/123456")
expect("replayer saw inconsistent duplicates", m, 1, ["VIOLATION  replayer"])

m = copy.deepcopy(base)
m["journal"][4] = m["journal"][4][:3] + ("reversed",) + m["journal"][4][4:]
expect("replayer's kept approval reversed", m, 1, ["VIOLATION  replayer"])

m = copy.deepcopy(base)
m["journal"][5] = m["journal"][5][:3] + ("approved",) + m["journal"][5][4:]
expect("replayer's reversed payment still debited", m, 1, ["VIOLATION  replayer"])

m = copy.deepcopy(base)
m["switch"]["saf"].update(queued=1, on_disk=1)  # an advice the bank never acknowledged
expect("advice still queued after the drain", m, 1, ["VIOLATION  store and forward drained", "1 advice(s) still queued"])

m = copy.deepcopy(base)
m["switch"]["saf"].update(on_disk=1)  # acknowledged in memory but not yet removed from the disk
expect("advice still on disk after the drain", m, 1, ["VIOLATION  store and forward drained"])

m = copy.deepcopy(base)
m["switch"]["saf"].update(exceptions=1)  # expired or unreadable: nobody will repeat it
expect("advice in the exception queue", m, 1, ["VIOLATION  store and forward drained"])

m = copy.deepcopy(base)
m["switch"]["pending"] = 1
expect("transaction still pending", m, 1, ["VIOLATION  store and forward drained"])

m = copy.deepcopy(base)
m["switch"]["saf"]["healthy"] = False
expect("store not healthy", m, 1, ["VIOLATION  store and forward drained"])

m = copy.deepcopy(base)
m["switch"]["saf"] = None  # a switch without a store-and-forward queue
expect("no saf section", m, 1, ["VIOLATION  store and forward drained"])

m = copy.deepcopy(base)
m["outcomes"] = [o[:4] + ("timeout", "000011", "400") for o in m["outcomes"]]
m["journal"] = [j[:3] + ("declined" if j[1].startswith("0") else j[3],) + j[4:] for j in m["journal"]]
expect("flood starved legitimate traffic", m, 1, ["VIOLATION  flood"], ["5", "1000000000.0", "1000000000.05"])

print("%d failure(s)" % len(failures))
sys.exit(1 if failures else 0)
