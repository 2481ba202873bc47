#!/usr/bin/env python3
"""scripts/ecosystem.sh up / status / down with --port-base, on the real programs.

An ecosystem is brought up on moved ports (the config's lowest port at a base
this test owns: an flock on the port-claim file every test shares, as in
tests/support/test_ports.c), paid through for two seconds, looked at with
status, refused a second time on the same ports, brought down; every agent it
started must be gone afterwards and status must then say so.
"""
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

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


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def main():
    base, _lock = claim_base()
    work = tempfile.mkdtemp(prefix="iso-test-ecosystem-up-")
    where = ["--dir", work, "--port-base", str(base)]
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
            capture_output=True, text=True, timeout=120)
        assert pay.returncode == 0, pay.stderr[-2000:]
        with open(os.path.join(report, "summary.json")) as f:
            summary = json.load(f)
        assert summary["counts"]["decided"] > 0, summary["counts"]

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
