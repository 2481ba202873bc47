#!/usr/bin/env python3
"""scripts/ecosystem.sh up / status / down with --port-base, on the real programs.

An ecosystem is brought up on moved ports (the config's lowest port at a base
this test owns: an flock on the port-claim file every test shares, as in
tests/support/test_ports.c), paid through for two seconds, looked at with
status, refused a second time on the same ports, brought down; every agent it
started must be gone afterwards and status must then say so. In between, the
worked examples of docs/send.md: a card ordered over HTTP, then paid with,
reversed and declined for funds by `iso8583 send`, the balance checked each time.
"""
import fcntl
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

SOURCE = os.environ["ISO_SOURCE_DIR"]
BUILD = os.environ["ISO_BUILD_DIR"]
SCRIPT = os.path.join(SOURCE, "scripts", "ecosystem.sh")
BASES = (27000, 28500)  # two blocks of 1,500 ports: the shipped config spans 8101-9212


def run(*args, timeout=120):
    return subprocess.run(["bash", SCRIPT, *args], capture_output=True, text=True, timeout=timeout)


def claim_base():
    for base in BASES:
        lock = open(f"/tmp/iso8583-test-ports-{base}.lock", "w")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return base, lock
        except BlockingIOError:
            lock.close()
    sys.exit("no free port block (another run of this test holds both)")


SECRETS = None  # the ecosystem's secrets/ (TLS and keys, made by ecosystem.sh up), once it is up


def http(port, method, path, body=None):
    """As the operator: https with the run's CA and the operator key ecosystem.sh made."""
    data = json.dumps(body).encode() if body is not None else None
    header = os.path.join(SECRETS, "operator.header") if SECRETS else ""
    if header and os.path.exists(header):
        with open(header) as f:
            name, value = f.read().strip().split(": ", 1)
        context = ssl.create_default_context(cafile=os.path.join(SECRETS, "http_ca.pem"))
        req = urllib.request.Request(f"https://127.0.0.1:{port}{path}", data=data, method=method,
                                     headers={name: value})
    else:
        context = None
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    with urllib.request.urlopen(req, timeout=5, context=context) as answer:
        return json.load(answer)


MAC_KEYS = []  # the ecosystem's key file (ecosystem.sh writes it into --dir): the acquirers' link signs


def send(port, message, *extra):
    tool = os.path.join(BUILD, "tools", "iso8583")
    mac = ["--mac-key", MAC_KEYS[0], "--mac-link", "acquirer:mastercard"] if MAC_KEYS else []
    out = subprocess.run([tool, "send", "--to", f"127.0.0.1:{port}", "--timeout-ms", "3000", *mac, *extra],
                         input=json.dumps(message), capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, f"iso8583 send: {out.stderr}"
    return json.loads(out.stdout)


def worked_examples(base, work):
    """docs/send.md, on the moved ports: lil_bank's HTTP is base + 1, mastercard's ISO base + 1100."""
    bank, switch = base + 1, base + 9201 - 8101
    account = http(bank, "POST", "/create-account", {"name": "bob", "balance": 5000})
    card = http(bank, "POST", "/order-card", {"uuid": account["uuid"], "network": "mastercard"})
    payment = {"mti": "1100", "2": card["pan"], "3": "000000", "4": "000000001500", "14": card["expiry"],
               "22": "100000000000", "24": "100", "32": "30000000003", "41": "TERM0001",
               "42": "MERCHANT0000001", "49": "978"}
    deadline = time.monotonic() + 10
    while True:  # the network produces the card a moment after the order (119 until then)
        answer = send(switch, payment)
        if answer["39"] != "119" or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer["39"] == "000", answer
    assert answer["mac"] == "valid", answer
    assert len(answer["11"]) == 6 and len(answer["37"]) == 12 and len(answer["7"]) == 10, answer
    balance = lambda: http(bank, "GET", f"/get-balance/uuid/{account['uuid']}")["balance"]
    assert balance() == 3500
    original = os.path.join(work, "approval.json")
    with open(original, "w") as f:
        json.dump(answer, f)
    reversal = send(switch, {"mti": "1420"}, "--reversal-of", original)
    assert reversal["39"] == "400", reversal
    assert reversal["56"].startswith("1100" + answer["11"] + answer["12"]), reversal
    deadline = time.monotonic() + 10
    while balance() != 5000 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert balance() == 5000, "the reversal gave the money back"
    # The same over the switch's TCP edge (base + 9211 - 8101).
    declined = send(base + 9211 - 8101, dict(payment, **{"4": "000000009000"}), "--link", "tcp")
    assert declined["39"] == "116", declined
    assert balance() == 5000
    # Nobody there: exit 1 with the reason, within the timeout.
    tool = os.path.join(BUILD, "tools", "iso8583")
    silent = subprocess.run([tool, "send", "--to", f"127.0.0.1:{base + 1499}", "--timeout-ms", "300"],
                            input=json.dumps(payment), capture_output=True, text=True, timeout=30)
    assert silent.returncode == 1 and "no answer within 300 ms" in silent.stderr, silent.stderr


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    global SECRETS
    base, _lock = claim_base()
    work = tempfile.mkdtemp(prefix="iso-test-ecosystem-up-")
    SECRETS = os.path.join(work, "secrets")
    where = ["--dir", work, "--port-base", str(base)]
    MAC_KEYS.append(os.path.join(work, "iso_mac.keys"))
    pids = []
    try:
        up = run("up", "--no-build", "--build-dir", BUILD, *where)
        assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
        with open(os.path.join(work, "agents")) as f:
            agents = [line.split() for line in f if line.strip()]
        assert len(agents) == 4, agents
        pids = [int(a[2]) for a in agents]
        assert all(alive(p) for p in pids)
        ports = sorted(int(a[3].rsplit(":", 1)[1]) for a in agents)
        assert ports[0] == base, f"the lowest port is the base: {ports}"

        status = run("status", *where)
        assert status.returncode == 0, status.stdout + status.stderr
        assert status.stdout.count("running") == 4, status.stdout

        # The moved ecosystem carries payments.
        report = os.path.join(work, "report")
        pay = subprocess.run(
            [os.path.join(BUILD, "cardholder-loadgen", "cardholder-loadgen"), "--config",
             os.path.join(work, "ecosystem.yaml"), "--rate", "50", "--duration", "2", "--report-dir", report],
            capture_output=True, text=True, timeout=120, cwd=work)  # the config's key file is relative to it
        assert pay.returncode == 0, pay.stderr[-2000:]
        with open(os.path.join(report, "summary.json")) as f:
            summary = json.load(f)
        assert summary["counts"]["decided"] > 0, summary["counts"]

        worked_examples(base, work)

        again = run("up", "--no-build", "--build-dir", BUILD, *where)
        assert again.returncode == 1 and "up already" in again.stderr, again.stderr

        down = run("down", *where)
        assert down.returncode == 0, down.stderr
        deadline = time.monotonic() + 15
        while any(alive(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(p) for p in pids), "agents left running after down"
        after = run("status", *where)
        assert after.returncode == 1 and "nothing is up" in after.stderr, after.stderr
        print("ok: up on ports from", base, "status, payments, refused twice, down")
    finally:
        for pid in pids:
            if alive(pid):
                os.kill(pid, 9)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
