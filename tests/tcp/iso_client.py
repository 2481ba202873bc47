#!/usr/bin/env python3
"""ISO 8583:1993 test peer for the TCP port tests (standard library only).

Messages are built by hand (MTI, binary bitmap packed with struct, ASCII
fields) so that the port is checked against an independent encoder, not
against the project's own codec. Exit status 0 means the scenario held;
anything else prints why on stderr.
"""
import argparse
import os
import signal
import socket
import struct
import sys
import time

# Field layouts of the default ASCII profile for the fields these tests use:
# an int is a fixed length, ("LL", n) an LLVAR of at most n.
FIELDS = {
    2: ("LL", 19), 3: 6, 4: 12, 7: 10, 11: 6, 12: 12, 14: 4, 22: 12, 24: 3,
    32: ("LL", 11), 37: 12, 38: 6, 39: 3, 41: 8, 42: 15, 49: 3, 56: ("LL", 35),
}


class Failure(Exception):
    pass


def encode(mti, fields):
    bitmap = 0
    body = b""
    for number in sorted(fields):
        if number < 2 or number > 64:
            raise ValueError("only primary-bitmap fields here")
        bitmap |= 1 << (64 - number)
        value = fields[number].encode("ascii")
        spec = FIELDS[number]
        if isinstance(spec, tuple):
            body += b"%02d" % len(value) + value
        else:
            if len(value) != spec:
                raise ValueError("field %d must be %d long" % (number, spec))
            body += value
    return mti.encode("ascii") + struct.pack(">Q", bitmap) + body


def decode(msg):
    if len(msg) < 12:
        raise Failure("message of %d bytes is too short" % len(msg))
    mti = msg[:4].decode("ascii")
    (bitmap,) = struct.unpack(">Q", msg[4:12])
    if bitmap >> 63:
        raise Failure("secondary bitmap not expected")
    at = 12
    fields = {}
    for number in range(2, 65):
        if not bitmap & (1 << (64 - number)):
            continue
        spec = FIELDS.get(number)
        if spec is None:
            raise Failure("unexpected field %d in %s" % (number, mti))
        if isinstance(spec, tuple):
            n = int(msg[at:at + 2])
            at += 2
        else:
            n = spec
        fields[number] = msg[at:at + n].decode("ascii")
        at += n
    if at != len(msg):
        raise Failure("%d trailing bytes in %s" % (len(msg) - at, mti))
    return mti, fields


def frame(msg, framing):
    if framing == "ascii4":
        return b"%04d" % len(msg) + msg
    return struct.pack(">H", len(msg)) + msg


# The card and amount of every 1100, and the DE 39 values an answer may carry: set from
# the command line (the real switch knows only its generated cards).
CARD = {"pan": "5105100000000001", "expiry": "3012", "amount": 1000, "expect": ["000"]}


def request_1100(stan):
    return encode("1100", {
        2: CARD["pan"], 3: "000000", 4: "%012d" % CARD["amount"], 7: "1125120000",
        11: "%06d" % stan, 12: "261125120000", 14: CARD["expiry"], 22: "100000000000",
        24: "100", 32: "12345", 37: "RRN%09d" % stan, 41: "TERM0001",
        42: "MERCHANT0000001", 49: "978",
    })


def reversal_1420(original_stan, stan):
    """The acquirer's reversal of request_1100(original_stan), under its own STAN."""
    return encode("1420", {
        2: CARD["pan"], 3: "000000", 4: "%012d" % CARD["amount"], 7: "1125120001",
        11: "%06d" % stan, 12: "261125120000", 24: "400", 32: "12345",
        37: "RRN%09d" % original_stan, 41: "TERM0001", 49: "978",
        56: "1100%06d261125120000%02d%s" % (original_stan, len("12345"), "12345"),
    })


def echo_1804(stan):
    return encode("1804", {7: "1125120000", 11: "%06d" % stan, 24: "831"})


class Link:
    def __init__(self, sock, framing, timeout):
        self.sock = sock
        self.framing = framing
        self.buffer = b""
        self.deadline = time.monotonic() + timeout

    def _fill(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Failure("timed out waiting for data")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise Failure("timed out waiting for data")
        return chunk

    def read_frame(self):
        """The next message (b"" for a keep-alive), or None at end of stream."""
        header = 4 if self.framing == "ascii4" else 2
        while True:
            if len(self.buffer) >= header:
                if self.framing == "ascii4":
                    n = int(self.buffer[:4])
                else:
                    (n,) = struct.unpack(">H", self.buffer[:2])
                if len(self.buffer) >= header + n:
                    msg = self.buffer[header:header + n]
                    self.buffer = self.buffer[header + n:]
                    return msg
            chunk = self._fill()
            if not chunk:
                if self.buffer:
                    raise Failure("stream ended inside a frame")
                return None
            self.buffer += chunk

    def read_message(self):
        """The next non-keep-alive message; fails at end of stream."""
        while True:
            msg = self.read_frame()
            if msg is None:
                raise Failure("connection closed while waiting for an answer")
            if msg:
                return msg

    def expect_eof(self):
        """Reads until the peer closes; keep-alives may come first."""
        while True:
            try:
                chunk = self._fill()
            except ConnectionResetError:
                return
            if not chunk:
                return


def check_1110(msg, stan):
    mti, fields = decode(msg)
    if mti != "1110":
        raise Failure("expected 1110, got %s" % mti)
    if fields.get(39) not in CARD["expect"]:
        raise Failure("DE 39 is %r, expected one of %s" % (fields.get(39), CARD["expect"]))
    if fields.get(11) != "%06d" % stan:
        raise Failure("DE 11 is %r, expected %06d" % (fields.get(11), stan))
    if fields.get(37) != "RRN%09d" % stan:
        raise Failure("DE 37 not echoed")


def connect(args):
    sock = socket.create_connection(("127.0.0.1", args.port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def scenario_auth(args):
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        for i in range(args.count):
            stan = args.stan + i
            sock.sendall(frame(request_1100(stan), args.framing))
            check_1110(link.read_message(), stan)


def scenario_split(args):
    """One request written a byte at a time: the port must reassemble it."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        data = frame(request_1100(args.stan), args.framing)
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            time.sleep(0.002)
        check_1110(link.read_message(), args.stan)


def scenario_merged(args):
    """Several whole requests and half of the next in one send, then the rest."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        frames = [frame(request_1100(args.stan + i), args.framing) for i in range(args.count)]
        blob = b"".join(frames)
        cut = len(blob) - len(frames[-1]) // 2
        sock.sendall(blob[:cut])
        time.sleep(0.05)
        sock.sendall(blob[cut:])
        seen = set()
        for _ in range(args.count):
            _, fields = decode(link.read_message())
            seen.add(int(fields[11]))
        wanted = set(range(args.stan, args.stan + args.count))
        if seen != wanted:
            raise Failure("answers for %s, expected %s" % (sorted(seen), sorted(wanted)))


def scenario_midframe(args):
    """Announces a message, sends part of it and disconnects."""
    with connect(args) as sock:
        data = frame(request_1100(args.stan), args.framing)
        sock.sendall(data[:len(data) // 2])
        time.sleep(0.05)


def scenario_echo(args):
    """A keep-alive (no answer expected) then an 1804: the first frame back is the 1814."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        sock.sendall(frame(b"", args.framing))
        sock.sendall(frame(echo_1804(args.stan), args.framing))
        msg = link.read_frame()
        if msg is None or not msg:
            raise Failure("expected the 1814 first, got %r" % msg)
        mti, fields = decode(msg)
        if mti != "1814":
            raise Failure("expected 1814, got %s" % mti)
        want = {7: "1125120000", 11: "%06d" % args.stan, 24: "831", 39: "800"}
        if fields != want:
            raise Failure("1814 fields %r, expected %r" % (fields, want))
        # The link still carries traffic after the link-level exchange.
        sock.sendall(frame(request_1100(args.stan + 1), args.framing))
        check_1110(link.read_message(), args.stan + 1)


def hold_arrival_stamping():
    """The kernel stamps arrivals only while some socket wants stamps, and turns that
    on through deferred work. Returns a socket that wants them (keep it open: stamping
    stays on) once a datagram to it came back stamped on arrival, not when read."""
    so_timestampns = getattr(socket, "SO_TIMESTAMPNS", 35)
    holder = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    holder.bind(("127.0.0.1", 0))
    holder.setsockopt(socket.SOL_SOCKET, so_timestampns, 1)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        sender.sendto(b"probe", holder.getsockname())
        time.sleep(0.05)
        _, ancillary, _, _ = holder.recvmsg(16, socket.CMSG_SPACE(16))
        for level, kind, data in ancillary:
            if level == socket.SOL_SOCKET and kind == so_timestampns and len(data) >= 16:
                sec, nsec = struct.unpack("qq", data[:16])
                if time.time() - (sec + nsec / 1e9) >= 0.04:
                    sender.close()
                    return holder
    raise Failure("the kernel did not start stamping arrivals within 10 s")


def scenario_stale(args):
    """A 1100 that waits in the switch's socket while the switch (--freeze-pid) is
    stopped for --freeze-ms: it must come back shed (--expect, 909) at once when the
    switch runs again; then its reversal (1420) is answered 400 by the switch."""
    stamping = hold_arrival_stamping()  # the 1100 must be stamped when it arrives, not when read
    with stamping, connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        # An 1814 back: the switch has taken the link (arrival stamps on) before the freeze.
        sock.sendall(frame(echo_1804(args.stan), args.framing))
        mti, _ = decode(link.read_message())
        if mti != "1814":
            raise Failure("expected 1814, got %s" % mti)
        os.kill(args.freeze_pid, signal.SIGSTOP)
        try:
            sock.sendall(frame(request_1100(args.stan + 1), args.framing))
            time.sleep(args.freeze_ms / 1000.0)  # the kernel stamped it before this: it ages by this much at least
        finally:
            os.kill(args.freeze_pid, signal.SIGCONT)
        check_1110(link.read_message(), args.stan + 1)
        sock.sendall(frame(reversal_1420(args.stan + 1, args.stan + 2), args.framing))
        mti, fields = decode(link.read_message())
        if mti != "1430" or fields.get(39) != "400" or fields.get(11) != "%06d" % (args.stan + 2):
            raise Failure("expected a 1430 with DE 39 400 for STAN %06d, got %s %r" % (args.stan + 2, mti, fields))


def scenario_idle(args):
    """Sends nothing: the port must send a keep-alive, then close the idle link."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        msg = link.read_frame()
        if msg != b"":
            raise Failure("expected a zero-length keep-alive, got %r" % msg)
        link.expect_eof()


def scenario_oversize(args):
    """A header announcing more than the port's maximum: the port closes the link."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        if args.framing == "ascii4":
            sock.sendall(b"9999" + b"1100")
        else:
            sock.sendall(struct.pack(">H", 65000) + b"1100")
        link.expect_eof()


def scenario_badheader(args):
    """An ASCII length header with a letter in it: the port closes the link."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        sock.sendall(b"01X0" + b"1100")
        link.expect_eof()


def scenario_big(args):
    """A frame of --size arbitrary bytes (the port does not decode it), then a normal
    request on the same link, which must still be answered."""
    with connect(args) as sock:
        link = Link(sock, args.framing, args.timeout)
        sock.sendall(frame(b"X" * args.size, args.framing))
        sock.sendall(frame(request_1100(args.stan), args.framing))
        check_1110(link.read_message(), args.stan)


def scenario_server(args):
    """Outbound side: the port connects to us; a 1100 goes in, its 1110 comes back,
    and an 1804 is answered by the port itself."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(4)
    listener.settimeout(args.timeout)
    try:
        sock, _ = listener.accept()
    except socket.timeout:
        raise Failure("the port never connected")
    finally:
        listener.close()
    with sock:
        link = Link(sock, args.framing, args.timeout)
        for i in range(args.count):
            sock.sendall(frame(request_1100(args.stan + i), args.framing))
            check_1110(link.read_message(), args.stan + i)
        sock.sendall(frame(echo_1804(args.stan), args.framing))
        # With --expect-request the worker side also sends a request of its own on
        # this link; it is independent of our echo, so the two may come in either order.
        seen_echo = seen_request = False
        for _ in range(2 if args.expect_request else 1):
            mti, fields = decode(link.read_message())
            if mti == "1814" and not seen_echo:
                if fields.get(39) != "800":
                    raise Failure("echo answered 1814/%r" % fields.get(39))
                seen_echo = True
            elif mti == "1100" and args.expect_request and not seen_request:
                seen_request = True
            else:
                raise Failure("expected %s, got %s" % (
                    "the 1814 echo answer and the worker's 1100" if args.expect_request
                    else "the 1814 echo answer", mti))


def scenario_servers(args):
    """Outbound, one link per queue: --links connections come in; each gets a 1100 and
    must answer its 1110 on the same connection; then, with --expect-request, exactly
    one 1100 of the worker's own arrives on one of them."""
    import select
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", args.port))
    listener.listen(16)
    listener.settimeout(args.timeout)
    socks = []
    try:
        while len(socks) < args.links:
            try:
                sock, _ = listener.accept()
            except socket.timeout:
                raise Failure("%d of %d links connected" % (len(socks), args.links))
            socks.append(sock)
    finally:
        listener.close()
    try:
        links = [Link(sock, args.framing, args.timeout) for sock in socks]
        for i, (sock, link) in enumerate(zip(socks, links)):
            sock.sendall(frame(request_1100(args.stan + i), args.framing))
            check_1110(link.read_message(), args.stan + i)
        if args.expect_request:
            ready, _, _ = select.select(socks, [], [], args.timeout)
            if len(ready) != 1:
                raise Failure("the worker's request came on %d links" % len(ready))
            mti, _ = decode(links[socks.index(ready[0])].read_message())
            if mti != "1100":
                raise Failure("expected the worker's 1100, got %s" % mti)
    finally:
        for sock in socks:
            sock.close()


SCENARIOS = {
    "auth": scenario_auth, "split": scenario_split, "merged": scenario_merged,
    "midframe": scenario_midframe, "echo": scenario_echo, "idle": scenario_idle, "stale": scenario_stale,
    "oversize": scenario_oversize, "badheader": scenario_badheader, "big": scenario_big, "servers": scenario_servers, "server": scenario_server,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--framing", choices=["binary2", "ascii4"], default="binary2")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--stan", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--expect-request", action="store_true")
    parser.add_argument("--size", type=int, default=5000)
    parser.add_argument("--links", type=int, default=1)
    parser.add_argument("--pan", default=CARD["pan"])
    parser.add_argument("--expiry", default=CARD["expiry"])
    parser.add_argument("--amount", type=int, default=CARD["amount"])
    parser.add_argument("--freeze-pid", type=int, default=0, help="stale: the switch to stop")
    parser.add_argument("--freeze-ms", type=int, default=1000, help="stale: for this long")
    parser.add_argument("--expect", default="000", help="DE 39 values accepted in a 1110, comma-separated")
    args = parser.parse_args()
    CARD.update(pan=args.pan, expiry=args.expiry, amount=args.amount, expect=args.expect.split(","))
    try:
        SCENARIOS[args.scenario](args)
    except (Failure, OSError, ValueError) as e:
        print("iso_client %s: %s" % (args.scenario, e), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
