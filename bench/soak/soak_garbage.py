#!/usr/bin/env python3
"""Malformed traffic for the soak (bench/soak/soak.sh): datagrams that every
agent must drop and count as malformed exactly once each, never crash on.

Every datagram is built so that it counts once (docs/protocol.md, "Malformed
input"; docs/bank-node.md; docs/switch.md), whatever the receiver:
  split      a length header that promises more bytes than the datagram holds
  tiny       a single byte (not even a length header)
  truncated  a well-framed 1100 cut inside its elements (the bitmap promises more)
  badmti     a well-framed message whose MTI is not digits
  random     a well-framed frame of random bytes that starts with a non-digit
  badlength  a well-framed 1100 whose PAN's LL prefix is not digits
No datagram holds more than one frame, so one datagram is one count.

  soak_garbage.py --target HOST:PORT (--count N --rate R | --seconds S --rate R)

Prints one line: 'soak_garbage: sent N datagrams (kind=n ...) in T s'.
"""
import argparse
import os
import random
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import soak_iso as iso  # noqa: E402

KINDS = ("split", "tiny", "truncated", "badmti", "random", "badlength")


def sample_1100(rand):
    return iso.encode(1100, {
        2: iso.generated_pan("51051000", rand.randrange(1000)), 3: "000000", 4: "%012d" % rand.randint(100, 20000),
        7: "1125120000", 11: "%06d" % rand.randint(1, 999999), 12: "261125120000", 14: "3012",
        22: "510101513344", 24: "100", 32: "30000000003", 37: "97%010d" % rand.randrange(10 ** 10),
        41: "SOAKJUNK", 42: "SOAKGARBAGE0001", 49: "978",
    })


def build(kind, rand):
    if kind == "split":
        body = bytes(rand.randrange(256) for _ in range(rand.randint(0, 40)))
        return struct.pack(">H", len(body) + rand.randint(1, 500)) + body
    if kind == "tiny":
        return bytes([rand.randrange(256)])
    if kind == "truncated":
        message = sample_1100(rand)
        # Cut after the bitmap and before the last element: an element the bitmap announces is missing.
        return iso.frame(message[:rand.randint(13, len(message) - 16)])
    if kind == "badmti":
        message = sample_1100(rand)
        return iso.frame(b"11X0" + message[4:])
    if kind == "random":
        body = bytes([rand.choice(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ")]) + bytes(
            rand.randrange(256) for _ in range(rand.randint(0, 200)))
        return iso.frame(body)
    if kind == "badlength":
        message = sample_1100(rand)
        # The bitmap (8 bytes) follows the MTI; DE 2's LL prefix comes right after it.
        return iso.frame(message[:12] + b"1X" + message[14:])
    raise ValueError(kind)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", required=True, help="HOST:PORT")
    ap.add_argument("--count", type=int, help="datagrams to send")
    ap.add_argument("--seconds", type=float, help="send for this long instead of a count")
    ap.add_argument("--rate", type=float, required=True, help="datagrams per second (at most)")
    ap.add_argument("--seed", type=int, default=11)
    a = ap.parse_args()
    if (a.count is None) == (a.seconds is None) or a.rate <= 0:
        ap.error("give --count or --seconds, and a positive --rate")
    host, port = a.target.rsplit(":", 1)
    target = (host, int(port))
    rand = random.Random(a.seed)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.setblocking(False)
    counts = dict.fromkeys(KINDS, 0)
    # A few hundred prepared datagrams, cycled: building them is slower than sending.
    prepared = [(k, build(k, rand)) for _ in range(64) for k in KINDS]
    start = time.monotonic()
    end = start + a.seconds if a.seconds is not None else None
    sent = 0
    while (a.count is None or sent < a.count) and (end is None or time.monotonic() < end):
        due = start + sent / a.rate
        now = time.monotonic()
        if due > now:
            time.sleep(min(due - now, 0.01))
            continue
        kind, datagram = prepared[sent % len(prepared)]
        try:
            sock.sendto(datagram, target)
        except BlockingIOError:
            time.sleep(0.001)  # our own socket buffer is full: the same datagram again
            continue
        counts[kind] += 1
        sent += 1
        # Drain answers (904s to salvageable frames) so that they do not pile up.
        try:
            while True:
                sock.recv(65536)
        except BlockingIOError:
            pass
    elapsed = time.monotonic() - start
    print("soak_garbage: sent %d datagrams (%s) in %.2f s" % (
        sent, " ".join("%s=%d" % kv for kv in counts.items()), elapsed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
