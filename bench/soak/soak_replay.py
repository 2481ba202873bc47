#!/usr/bin/env python3
"""Duplicate and replayed traffic for the soak (bench/soak/soak.sh).

Runs bounded scenarios, each with keys of its own (RRN "9<kind><10 digits>",
terminal SOAKRPL1, so that the reconciliation can tell them from the load
generator's), and writes what it saw and what the journal must show:

  switch-dup      via a switch: 1100, the same 1100 twice more (the switch
                  answers 913 or drops the copy), then on approval every other
                  time the 1420, repeated as 1421 twice.
  bank-dup        straight to a bank: 1100, twice more (same DE 39 and DE 38,
                  no second debit), 1420, the 1420 again, the 1100 again (913).
                  A 912 (the bank shed the request undecided) is no decision:
                  the copy after it may be decided.
  reversal-first  straight to a bank: 1420 before its original (914, a
                  tombstone), then the 1100 (100, or 912 if shed; never
                  debited), the 1420 again.
  switch-reversal-first  the same through a switch: the cardholder reversed,
                  so the late original must not be debited (the switch refuses
                  it with 100).

Unanswered messages are resent as they are (more duplicates), a bounded number
of times. Log lines:

  txn KIND ACQUIRER STAN LOCAL_TIME RRN TERMINAL PAN AMOUNT FIRST_CODE REVERSAL_CODE EXPECT
      EXPECT: approved (debited once), not_approved, or unknown (answers lost)
  violation TEXT     an answer that contradicts an earlier one for the same key
  stats KEY=VALUE... at the end
Exit status 0 (violations are for the reconciliation to count), 2 on bad usage.
"""
import argparse
import os
import random
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak_iso as iso  # noqa: E402

ANSWER_WAIT_S = 1.2
RESENDS = 4
SHED = "912"  # a bank's answer to an 1100 it did not decide (load shedding)


def endpoint(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


class Replayer:
    def __init__(self, args):
        self.args = args
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.rand = random.Random(args.seed)
        self.log = open(args.log, "w")
        self.sequence = 0
        self.stats = {"scenarios": 0, "sent": 0, "answers": 0, "stale_answers": 0, "unanswered": 0,
                      "violations": 0}
        self.inbox = {}  # (mti, rrn, stan) -> [fields...]: answers that arrived while waiting for another

    def violation(self, text):
        self.stats["violations"] += 1
        self.log.write("violation " + text + "\n")

    def send(self, target, mti, fields):
        self.sock.sendto(iso.frame(iso.encode(mti, fields)), target)
        self.stats["sent"] += 1

    def collect(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data, _ = self.sock.recvfrom(65536)
        except socket.timeout:
            return False
        for message in iso.unframe(data):
            decoded = iso.decode(message)
            if not decoded:
                continue
            mti, fields = decoded
            key = (mti, fields.get(37), fields.get(11))
            self.inbox.setdefault(key, []).append(fields)
        return True

    def exchange(self, target, mti, fields, resends=RESENDS):
        """Sends and waits for the answer (its response MTI, same DE 37 and 11), repeating the
        message when none comes (as a 1101 or 1421); returns the answer's fields or None."""
        key = (mti // 10 * 10 + 10 if mti % 10 == 0 else mti - 1 + 10, fields[37], fields[11])
        for _ in range(1 + resends):
            self.send(target, mti, fields)
            deadline = time.monotonic() + ANSWER_WAIT_S
            while time.monotonic() < deadline:
                if self.inbox.get(key):
                    self.stats["answers"] += 1
                    return self.inbox[key].pop(0)
                self.collect(max(0.001, deadline - time.monotonic()))
            if mti in (1100, 1420):
                mti += 1  # repeats are 1101 and 1421 (docs/protocol.md, "Repeats")
        self.stats["unanswered"] += 1
        return None

    def new_keys(self, kind_digit, pan):
        self.sequence += 1
        now = time.time()
        return {
            2: pan, 3: "000000", 4: "%012d" % self.rand.randint(100, 20000),
            7: time.strftime("%m%d%H%M%S", time.gmtime(now)), 11: "%06d" % (self.sequence % 999999 + 1),
            12: time.strftime("%y%m%d%H%M%S", time.localtime(now)), 14: "3012", 22: "510101513344",
            24: "100", 32: self.args.acquirer, 37: "9%d%010d" % (kind_digit, self.sequence), 41: "SOAKRPL1",
            42: "SOAKREPLAYER001", 49: self.args.currency,
        }

    def reversal_of(self, original):
        self.sequence += 1
        now = time.time()
        r = {e: original[e] for e in (2, 3, 4, 32, 37, 41, 49)}
        r[7] = time.strftime("%m%d%H%M%S", time.gmtime(now))
        r[11] = "%06d" % (self.sequence % 999999 + 1)
        r[12] = time.strftime("%y%m%d%H%M%S", time.localtime(now))
        r[24] = "400"
        r[56] = iso.original_data(original[11], original[12], original[32])
        return r

    def record(self, kind, o, first, reversal, expect):
        self.log.write("txn %s %s %s %s %s %s %s %d %s %s %s\n" % (
            kind, o[32], o[11], o[12], o[37], o[41], iso.masked_pan(o[2]), int(o[4]), first or "none", reversal or "-",
            expect))

    @staticmethod
    def code(answer):
        return answer.get(39) if answer else None

    def switch_dup(self, switch, pan, reverse):
        o = self.new_keys(1, pan)
        first = self.exchange(switch, 1100, o)
        for _ in range(2):
            again = self.exchange(switch, 1100, o, resends=0)
            if first and again and again.get(39) not in ("913", first.get(39)):
                self.violation("switch-dup %s: duplicate answered %s after %s" % (o[37], again.get(39), first.get(39)))
        code, rcode = self.code(first), None
        if reverse and code == "000":
            r = self.reversal_of(o)
            ranswer = self.exchange(switch, 1420, r)
            rcode = self.code(ranswer)
            again = self.exchange(switch, 1421, r, resends=0)
            if rcode and again and again.get(39) != rcode:
                self.violation("switch-dup %s: replayed 1421 answered %s after %s" % (o[37], again.get(39), rcode))
            expect = "not_approved" if rcode == "400" else "unknown"
        elif code == "000":
            expect = "approved"
        elif code is None:
            expect = "unknown"
        else:
            expect = "not_approved"
        self.record("switch-dup", o, code, rcode, expect)

    def bank_dup(self, bank, pan):
        o = self.new_keys(2, pan)
        first = self.exchange(bank, 1100, o)
        # A 912 is the bank shedding load (docs/bank-node.md, "Load shedding"): nothing of the
        # request was stored, so a copy of it is decided afresh. Copies must repeat a decision.
        if self.code(first) == SHED:
            first = None
        for _ in range(2):
            again = self.exchange(bank, 1100, o, resends=0)
            if self.code(again) == SHED:
                again = None
            if first and again and (again.get(39) != first.get(39) or again.get(38) != first.get(38)):
                self.violation("bank-dup %s: duplicate answered %s/%s after %s/%s" % (
                    o[37], again.get(39), again.get(38), first.get(39), first.get(38)))
            first = first or again
        code = self.code(first)
        r = self.reversal_of(o)
        ranswer = self.exchange(bank, 1420, r)
        rcode = self.code(ranswer)
        if code is not None and rcode is not None and rcode != "400":
            self.violation("bank-dup %s: reversal of a decided original answered %s" % (o[37], rcode))
        again = self.exchange(bank, 1421, r, resends=0)
        if rcode and again and again.get(39) != rcode:
            self.violation("bank-dup %s: replayed reversal answered %s after %s" % (o[37], again.get(39), rcode))
        late = self.exchange(bank, 1100, o, resends=0)
        if rcode == "400" and code == "000" and late and late.get(39) != "913":
            self.violation("bank-dup %s: the 1100 replayed after its reversal answered %s" % (o[37], late.get(39)))
        expect = "not_approved" if rcode in ("400", "914") else "unknown"
        self.record("bank-dup", o, code, rcode, expect)

    def reversal_first(self, bank, pan):
        o = self.new_keys(3, pan)
        r = self.reversal_of(o)
        ranswer = self.exchange(bank, 1420, r)
        rcode = self.code(ranswer)
        if rcode is not None and rcode != "914":
            self.violation("reversal-first %s: reversal of an unknown original answered %s" % (o[37], rcode))
        first = self.exchange(bank, 1100, o)
        code = self.code(first)
        if rcode == "914" and code not in (None, "100", SHED):
            self.violation("reversal-first %s: original after its reversal answered %s" % (o[37], code))
        again = self.exchange(bank, 1421, r, resends=0)
        if code == "100" and again and again.get(39) != "400":
            self.violation("reversal-first %s: replayed reversal answered %s" % (o[37], again.get(39)))
        # The 1420 reached the bank unless nothing ever answered: then the original may be approved.
        expect = "not_approved" if rcode == "914" else "unknown"
        self.record("reversal-first", o, code, rcode, expect)

    def switch_reversal_first(self, switch, pan):
        o = self.new_keys(4, pan)
        r = self.reversal_of(o)
        rcode = self.code(self.exchange(switch, 1420, r))
        code = self.code(self.exchange(switch, 1100, o))
        if rcode in ("400", "914") and code == "000":
            self.violation("switch-reversal-first %s: original approved after its reversal was answered %s"
                           % (o[37], rcode))
        expect = "not_approved" if rcode in ("400", "914") else "unknown"
        self.record("switch-reversal-first", o, code, rcode, expect)

    def run(self):
        a = self.args
        switches = [(endpoint(s.split("=")[1]), s.split("=")[0]) for s in a.switch]
        banks = [endpoint(b) for b in a.bank]
        cards = a.cards  # "bin:count:switch_index:bank_index"
        deadline = time.monotonic() + a.duration
        step = 1.0 / a.rate
        n = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            card = cards[n % len(cards)]
            bin_low, count, switch_index, bank_index = card.split(":")
            pan = iso.generated_pan(bin_low, self.rand.randrange(int(count)))
            kind = n % 4
            if kind == 0:
                self.switch_dup(switches[int(switch_index)][0], pan, reverse=(n // 4) % 2 == 0)
            elif kind == 1:
                self.bank_dup(banks[int(bank_index)], pan)
            elif kind == 2:
                self.reversal_first(banks[int(bank_index)], pan)
            else:
                self.switch_reversal_first(switches[int(switch_index)][0], pan)
            self.stats["scenarios"] += 1
            n += 1
            self.log.flush()
            pause = step - (time.monotonic() - started)
            if pause > 0:
                time.sleep(pause)
        # Drain what is still coming so that nothing is left in flight against the ledgers.
        end = time.monotonic() + 1.0
        while time.monotonic() < end:
            self.collect(0.1)
        self.stats["stale_answers"] = sum(len(v) for v in self.inbox.values())
        self.log.write("stats " + " ".join("%s=%d" % kv for kv in self.stats.items()) + "\n")
        self.log.close()
        print("soak_replay: " + " ".join("%s=%d" % kv for kv in self.stats.items()))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--switch", action="append", required=True, help="NAME=HOST:PORT of a switch's ISO endpoint")
    ap.add_argument("--bank", action="append", required=True, help="HOST:PORT of a bank's ISO endpoint")
    ap.add_argument("--cards", action="append", required=True,
                    help="BIN:COUNT:SWITCH_INDEX:BANK_INDEX: cards of a BIN, the switch and bank that serve them")
    ap.add_argument("--duration", type=float, required=True)
    ap.add_argument("--rate", type=float, default=5.0, help="scenarios per second (at most)")
    ap.add_argument("--acquirer", default="30000000003")
    ap.add_argument("--currency", default="978")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    if a.duration <= 0 or a.rate <= 0:
        ap.error("--duration and --rate must be positive")
    Replayer(a).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
