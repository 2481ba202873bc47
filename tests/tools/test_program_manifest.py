#!/usr/bin/env python3
"""Keeps scripts/programs.tsv honest.

Every program that a shell script of the project runs, or that a C test or
benchmark runs through system()/popen()/lab_must(), must be either in the
manifest (so install-deps.sh installs its package and check-programs.sh checks
it) or shipped by one of Debian's Essential packages (there on every machine).
A new `tshark` in a test without a manifest line fails here, on the developer's
machine, instead of on the next fresh CI machine.
"""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

SOURCE = os.environ.get("ISO_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")

SHELL_WORDS = set("""
if then else elif fi for while until do done case esac in function select time
local return set exit echo printf read shift trap wait cd export declare mapfile
readarray true false break continue eval source test type command kill unset let
shopt pwd builtin getopts umask readonly exec alias hash jobs disown ulimit
""".split())

# Where a command starts in a line of shell: the line's start, after a pipe,
# a list operator, a subshell or command substitution, or a keyword.
COMMAND_START = re.compile(r"(?:^|[|;&(`]|\$\(|\bthen\b|\bdo\b|\belse\b|!)\s*"
                           r"(?:(?:exec|timeout(?:\s+-s\s+\w+)?\s+\S+|setpriv\s+--\S+\s+\S+\s+--|\w+=\S*)\s+)*"
                           r"([A-Za-z][\w.+-]*)(?=\s|$|[;|&)])")
PY_COMMAND = re.compile(r'subprocess\.(?:run|Popen|call|check_call|check_output)\(\s*\[\s*"([a-z][\w.+-]*)"')
C_COMMAND = re.compile(r'\b(?:system|popen|lab_must|run)\s*\(\s*(?:cmd|command|\w+,\s*)?"([^"]*)"')


def repo_files(*patterns):
    out = subprocess.run(["git", "-C", SOURCE, "ls-files", *patterns],
                         capture_output=True, text=True, check=True).stdout.split()
    return [os.path.join(SOURCE, f) for f in out]


def shell_commands(path):
    words = set()
    in_heredoc = None
    for line in read(path).splitlines():
        stripped = line.strip()
        if in_heredoc:
            if stripped == in_heredoc:
                in_heredoc = None
            continue
        m = re.search(r"<<-?\s*'?\"?(\w+)", line)
        if stripped.startswith("#"):
            continue
        code = re.sub(r"'[^']*'", "''", line.split(" #")[0])
        for w in COMMAND_START.findall(code):
            words.add(w)
        if m:
            in_heredoc = m.group(1)
    return words


def c_commands(path):
    words = set()
    text = read(path)
    for cmd in C_COMMAND.findall(text):
        parts = cmd.split()
        if len(parts) > 1 and re.match(r"^[a-z][\w.+-]*$", parts[0]):
            words.add(parts[0])
        # "ip netns exec %s ethtool ...": the program run inside the namespace.
        for m in re.finditer(r"\bexec %s (\S+)", cmd):
            words.add(m.group(1))
    return words


def manifest():
    programs = set()
    with open(os.path.join(SOURCE, "scripts", "programs.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                programs.add(line.split("\t")[0])
    return programs


def read(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def essential(program):
    """True when the program on this machine comes from an Essential package."""
    path = shutil.which(program)
    if not path:
        return False
    real = os.path.realpath(path)
    # Debian 12 merged /bin into /usr/bin, but dpkg still records most paths under /bin.
    candidates = {path, real}
    for p in (path, real):
        if p.startswith("/usr/"):
            candidates.add(p[len("/usr"):])
        else:
            candidates.add("/usr" + p)
    for candidate in sorted(candidates):
        q = subprocess.run(["dpkg-query", "-S", candidate], capture_output=True, text=True)
        if q.returncode == 0:
            package = q.stdout.split(":")[0].split(",")[0].strip()
            e = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", package],
                               capture_output=True, text=True)
            return e.stdout.strip() == "yes"
    return False


class ProgramManifest(unittest.TestCase):
    def called_programs(self):
        called = {}
        for f in repo_files("*.sh"):
            for w in shell_commands(f):
                called.setdefault(w, set()).add(os.path.relpath(f, SOURCE))
        for f in repo_files("tests/*.c", "bench/*.c"):
            for w in c_commands(f):
                called.setdefault(w, set()).add(os.path.relpath(f, SOURCE))
        for f in repo_files("*.py"):
            for w in PY_COMMAND.findall(read(f)):
                called.setdefault(w, set()).add(os.path.relpath(f, SOURCE))
        return called

    def test_every_called_program_is_in_the_manifest_or_essential(self):
        listed = manifest()
        defined_functions = set()
        for f in repo_files("*.sh"):
            defined_functions |= set(re.findall(r"^\s*(?:function\s+)?([\w-]+)\s*\(\)",
                                                read(f), re.M))
        unlisted = []
        for program, users in sorted(self.called_programs().items()):
            if program in SHELL_WORDS or program in listed or program in defined_functions:
                continue
            if shutil.which(program) is None:
                # Not a program on this machine: a variable, an option word, a path.
                continue
            if not essential(program):
                unlisted.append(f"{program} (called by {', '.join(sorted(users))})")
        self.assertEqual(unlisted, [], "add these to scripts/programs.tsv: " + "; ".join(unlisted))

    def test_the_scanner_sees_known_calls(self):
        # The scanner must find what the tests are known to call, or the check above proves nothing.
        called = self.called_programs()
        for program in ("ip", "ethtool", "curl", "python3", "ss", "git"):
            self.assertIn(program, called)

    def test_the_check_names_the_missing_package(self):
        # A PATH with every listed program but ethtool: the check must name it and its package.
        with tempfile.TemporaryDirectory() as bin_dir:
            for program in manifest() | {"bash", "dirname", "grep", "sort", "tr"}:
                where = shutil.which(program)
                if where and program != "ethtool":
                    os.symlink(where, os.path.join(bin_dir, program))
            r = subprocess.run([os.path.join(bin_dir, "bash"),
                                os.path.join(SOURCE, "scripts", "check-programs.sh")],
                               capture_output=True, text=True, env=dict(os.environ, PATH=bin_dir))
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("missing program: ethtool (Debian package ethtool)", r.stderr)
        self.assertIn("apt-get install ethtool", r.stderr)
        self.assertNotIn("missing program: curl", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
