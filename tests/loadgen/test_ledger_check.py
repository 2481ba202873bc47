#!/usr/bin/env python3
"""The money check of scripts/ecosystem.sh (cardholder-loadgen/ledger_check.py)
on crafted ledgers: it passes what conserves money and fails every way of
losing or inventing it."""
import copy
import json
import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.environ.get("ISO_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", "..")),
                      "cardholder-loadgen", "ledger_check.py")


def ledger(balance, approved_count=0, approved_amount=0, reversed_count=0, reversed_amount=0, created=1000000):
    return {"accounts": 10, "total_balance": balance, "created_total": created, "approved_count": approved_count,
            "approved_amount": approved_amount, "reversed_count": reversed_count,
            "reversed_amount": reversed_amount, "declined_count": 0, "tombstones": 0}


def summary(approved, amount, unanswered=0):
    return {"counts": {"approved": approved, "approved_amount": amount, "timeouts": 0, "reversals_sent": 0,
                       "reversals_answered": 0, "reversals_unanswered": unanswered},
            "action_codes": {"000": approved}, "reversal_action_codes": {}}


class LedgerCheck(unittest.TestCase):
    def run_check(self, before, after, seen, switches=None, exact=False):
        with tempfile.TemporaryDirectory() as d:
            paths = {}
            for name, value in (("before", before), ("after", after), ("summary", seen), ("switch", switches)):
                if value is None:
                    continue
                paths[name] = os.path.join(d, name + ".json")
                with open(paths[name], "w") as f:
                    json.dump(value, f)
            argv = [sys.executable, SCRIPT, "--before", paths["before"], "--after", paths["after"],
                    "--summary", paths["summary"]]
            if "switch" in paths:
                argv += ["--switch-stats", paths["switch"]]
            if exact:
                argv.append("--exact")
            r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout

    def setUp(self):
        self.before = {"a": ledger(1000000), "b": ledger(1000000)}
        # 3 approvals for 600 at a, 1 approved then reversed (100) at b.
        self.after = {"a": ledger(999400, 3, 600), "b": ledger(1000000, 0, 0, 1, 100)}

    def test_conserved_run_passes(self):
        code, out = self.run_check(self.before, self.after, summary(3, 600))
        self.assertEqual(code, 0, out)
        self.assertIn("money conserved", out)

    def test_balance_that_moved_without_a_journal_entry_fails(self):
        after = copy.deepcopy(self.after)
        after["a"]["total_balance"] -= 1
        code, out = self.run_check(self.before, after, summary(3, 600))
        self.assertEqual(code, 1, out)

    def test_cardholders_seeing_more_than_the_banks_hold_fails(self):
        code, out = self.run_check(self.before, self.after, summary(4, 800))
        self.assertEqual(code, 1, out)
        self.assertIn("without a debit", out)

    def test_same_count_other_amount_fails(self):
        code, out = self.run_check(self.before, self.after, summary(3, 601))
        self.assertEqual(code, 1, out)

    def test_extra_debits_need_reversals_of_unknown_outcome(self):
        # The banks hold one debit more than the cardholders saw approved.
        self.assertEqual(self.run_check(self.before, self.after, summary(2, 400))[0], 1)
        self.assertEqual(self.run_check(self.before, self.after, summary(2, 400, unanswered=1))[0], 0)
        # An advice still queued for store and forward is an unknown outcome too ...
        switches = {"mc": {"saf": {"queued": 1}, "gauges": {"pending": 0}}}
        self.assertEqual(self.run_check(self.before, self.after, summary(2, 400), switches)[0], 0)
        # ... but not with --exact, which wants the networks drained and not one debit more.
        code, out = self.run_check(self.before, self.after, summary(2, 400), switches, exact=True)
        self.assertEqual(code, 1, out)
        self.assertIn("networks drained", out)
        drained = {"mc": {"saf": {"queued": 0}, "gauges": {"pending": 0}}}
        code, out = self.run_check(self.before, self.after, summary(2, 400, unanswered=1), drained, exact=True)
        self.assertEqual(code, 1, out)
        self.assertIn("customers charged", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
