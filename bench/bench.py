#!/usr/bin/env python3
"""Benchmark git-credential-pat against git's own git-credential-store.

Whole processes of both helpers are timed in the same run, interleaved round by round, at
several store sizes, and compared with the project's performance targets. Also measured: lost
updates under concurrent `store`, the peak RSS of one `get`, whether `get` spawns anything,
and the keychain backend's `get`. See bench/README.md. Python 3 standard library only; Linux.

Run by hand (it is no part of the test suite):

    python3 bench/bench.py              # full run, under a minute on 2 cores
    python3 bench/bench.py --quick      # smoke test: sizes 1 and 1,000, few rounds
    python3 bench/bench.py --json       # the same results as JSON
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import fcntl
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import time
import urllib.parse
from dataclasses import dataclass

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = b"# git-credential-pat credentials v1\n"
LARGE = 100_000

OPS = ("get-hit", "store-identical", "get-miss", "store-new", "store-overwrite", "erase")
# store-identical writes nothing in pat, but git-credential-store rewrites its file: restore both.
MUTATING = frozenset({"store-identical", "store-new", "store-overwrite", "erase"})
VERB = {"get-hit": "get", "store-identical": "store", "get-miss": "get", "store-new": "store",
        "store-overwrite": "store", "erase": "erase"}
LABEL = {"get-hit": "get (hit)",
         "store-identical": "store (identical to what get just served)",
         "get-miss": "get (miss)", "store-new": "store (new key)",
         "store-overwrite": "store (overwrite)", "erase": "erase (with password)"}
# Largest acceptable ratio pat/store, by (operation, size).
RATIO_TARGETS = {
    ("get-hit", 1): 1.0,
    ("get-hit", LARGE): 0.1,
    ("get-miss", LARGE): 0.1,
    ("store-new", LARGE): 0.25,
    ("store-overwrite", LARGE): 0.25,
    ("erase", LARGE): 0.25,
}
# pat's store-identical median must not exceed pat's own get-hit median at the same size.
IDENTICAL_VS = "get-hit"
RSS_TARGET_KIB = 8 * 1024
RSS_TARGET_SIZE = 10_000
LOST_TARGET = (32, LARGE)  # (K, size) at which pat must lose nothing

SHARED_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "git.corp.example.com:8443")
ALNUM = string.ascii_letters + string.digits
SIGDEF = (signal.SIGPIPE, signal.SIGXFSZ)  # Python ignores these; children must not inherit that
PR_SET_CHILD_SUBREAPER = 36


class BenchError(Exception):
    """A failure that ends the run with a one-line message."""


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


_SECRET_RE = re.compile(
    r"((?:password|credential|oauth_refresh_token)=)[^\s]+"
    r"|(://[^:/@\s]*:)[^@\s]+(@)"
    r"|\b(?:ghp_|github_pat_|glpat-)[A-Za-z0-9_]+")


def mask(text: str) -> str:
    """Hides every secret in text shown to the user: tokens never reach the report."""
    def repl(m: re.Match) -> str:
        if m.group(1):
            return m.group(1) + "***"
        if m.group(2):
            return m.group(2) + "***" + m.group(3)
        return "***"
    return _SECRET_RE.sub(repl, text)


def first_line(data: bytes) -> str:
    lines = data.decode("utf-8", "backslashreplace").strip().splitlines()
    line = lines[0] if lines else "(no message)"
    return mask("".join(c if c.isprintable() else "\\x%02x" % ord(c) for c in line))[:160]


# ---------------------------------------------------------------------------------------------
# Credentials and the two on-disk formats

@dataclass(frozen=True)
class Cred:
    host: str
    path: str | None  # None: host-wide
    username: str
    password: str
    stored_ns: int
    expires: int | None = None
    protocol: str = "https"


_UNSAFE = re.compile(rb"[\x00-\x20\x7f%\x80-\xff]")
_UNSAFE_PROTOCOL = re.compile(rb"[\x00-\x20\x7f%\x80-\xff:/]")


def enc(value: str, protocol: bool = False) -> str:
    """Percent-encoding of the v1 file: bytes < 0x21, 0x7f, '%', >= 0x80 (+ ':' '/' in protocol)."""
    raw = value.encode()
    pattern = _UNSAFE_PROTOCOL if protocol else _UNSAFE
    if not pattern.search(raw):
        return value
    return pattern.sub(lambda m: b"%%%02X" % m.group(0)[0], raw).decode("ascii")


def pat_line(c: Cred) -> bytes:
    path = "/" if c.path is None else "/" + enc(c.path)
    user = "@" + enc(c.username)
    secs, nanos = divmod(c.stored_ns, 1_000_000_000)
    attrs = [f"stored={secs}.{nanos:09d}"]
    if c.expires is not None:
        attrs.append(f"expires={c.expires}")
    attrs.append("password=" + enc(c.password))
    return f"{enc(c.protocol, True)}://{enc(c.host)} {path} {user} {' '.join(attrs)}\n".encode()


def store_line(c: Cred) -> bytes:
    """One line of git-credential-store's file, encoded as git itself writes it."""
    quote = urllib.parse.quote
    url = f"{c.protocol}://{quote(c.username, safe='')}:{quote(c.password, safe='')}@"
    url += quote(c.host, safe=":/?#[]@!$&'()*+,;=")
    if c.path is not None:
        url += "/" + quote(c.path, safe=":/?#[]@!$&'()*+,;=")
    return (url + "\n").encode()


def write_private(path: str, data: bytes) -> None:
    """Writes path with mode 0600 through a temp file and a rename."""
    tmp = path + ".bench-tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def token(rng: random.Random, i: int) -> str:
    def rand(k: int) -> str:
        return "".join(rng.choices(ALNUM, k=k))
    kind = i % 3
    if kind == 0:
        return "ghp_" + rand(36)
    if kind == 1:
        return "github_pat_" + rand(22) + "_" + rand(59)
    return "glpat-" + rand(20)


def generate(n: int, rng: random.Random, now: int) -> tuple[list[Cred], list[Cred]]:
    """n credentials: ~90% host-wide on distinct hosts, ~5% several users sharing a host,
    ~5% scoped to an owner or repository path on a shared host. Returns (all, distinct-host)."""
    n_users = n // 20
    n_scoped = n // 20
    n_distinct = n - n_users - n_scoped
    order = list(range(n))
    rng.shuffle(order)  # the storing order, so the newest is anywhere in the sorted file
    base_ns = (now - 400 * 86400) * 1_000_000_000
    creds = []
    for i in range(n):
        if i < n_distinct:
            host, path = f"host{i:06d}.example.com", None
            user = ("git", "oauth2", "x-access-token", f"dev{i}")[i % 4]
        elif i < n_distinct + n_users:
            host, path, user = SHARED_HOSTS[i % 4], None, f"member{i}"
        else:
            host = SHARED_HOSTS[i % 4]
            path = f"org{i}" if i % 2 else f"org{i}/repo{i}"
            user = f"member{i}"
        stored = base_ns + order[i] * 97_000_001_003 + rng.randrange(1_000_000_000)
        expires = now + 90 * 86400 + i % 86400 if i % 3 == 0 else None
        creds.append(Cred(host, path, user, token(rng, i), stored, expires))
    return creds, creds[:n_distinct]


# ---------------------------------------------------------------------------------------------
# Processes

def high_fd(fd: int) -> int:
    """Moves fd to >= 10 so that dup2 onto 0..3 in a child never has source == target."""
    if fd >= 10:
        return fd
    new = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return new


@dataclass
class Result:
    ns: int
    code: int
    out: bytes
    err: bytes
    maxrss_kib: int = 0


class Runner:
    """Spawns one process at a time with posix_spawn and times it from spawn to exit."""

    def __init__(self, env: dict[str, str], scratch: str):
        self.env = env
        flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
        self.in_fd = high_fd(os.open(os.path.join(scratch, "stdin"), flags, 0o600))
        self.out_fd = high_fd(os.open(os.path.join(scratch, "stdout"), flags, 0o600))
        self.err_fd = high_fd(os.open(os.path.join(scratch, "stderr"), flags, 0o600))
        self.null_fd = high_fd(os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC))
        self.scratch = scratch
        libc = ctypes.CDLL(None, use_errno=True)
        self._prctl = libc.prctl

    def _prepare(self, stdin: bytes) -> None:
        for fd in (self.in_fd, self.out_fd, self.err_fd):
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
        os.pwrite(self.in_fd, stdin, 0)

    def _read(self, fd: int) -> bytes:
        return os.pread(fd, os.fstat(fd).st_size, 0)

    def run(self, argv: list[str], stdin: bytes) -> Result:
        """The timed path: nothing but posix_spawn and wait4 between the two clock reads."""
        self._prepare(stdin)
        actions = [(os.POSIX_SPAWN_DUP2, self.in_fd, 0),
                   (os.POSIX_SPAWN_DUP2, self.out_fd, 1),
                   (os.POSIX_SPAWN_DUP2, self.err_fd, 2)]
        env = self.env
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setsigdef=SIGDEF)
        _, status, _ = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
        return Result(t1 - t0, os.waitstatus_to_exitcode(status),
                      self._read(self.out_fd), self._read(self.err_fd))

    def run_rss(self, argv: list[str], stdin: bytes) -> Result:
        """Runs argv once and returns its own peak RSS.

        A child of this (large) Python process starts with a copy of, or a share in, the
        parent's address space, and Linux folds that into the child's ru_maxrss at exec. So the
        child is started by a small shell instead: the shell forks it in the background and
        exits, the child is re-parented to us as a child subreaper, and wait4 on it reports the
        child's own peak (floor: the shell's tiny copy, see the /bin/true baseline)."""
        self._prepare(stdin)
        actions = [(os.POSIX_SPAWN_DUP2, self.in_fd, 3),
                   (os.POSIX_SPAWN_DUP2, self.null_fd, 0),
                   (os.POSIX_SPAWN_DUP2, self.out_fd, 1),
                   (os.POSIX_SPAWN_DUP2, self.err_fd, 2)]
        script = '"$@" <&3 3<&- & exit 0'
        if self._prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")
        try:
            sh = os.posix_spawn("/bin/sh", ["sh", "-c", script, "sh", *argv], self.env,
                                file_actions=actions, setsigdef=SIGDEF)
            found = None
            while True:
                try:
                    pid, status, usage = os.wait4(-1, 0)
                except ChildProcessError:
                    break
                if pid != sh:
                    found = (status, usage)
        finally:
            self._prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
        if found is None:
            raise BenchError("peak RSS: the measured process was reaped by the shell")
        status, usage = found
        return Result(0, os.waitstatus_to_exitcode(status), self._read(self.out_fd),
                      self._read(self.err_fd), usage.ru_maxrss)

    def run_concurrent(self, argvs: list[list[str]], stdins: list[bytes]) -> tuple[int, list[Result]]:
        """Starts every process blocked on its stdin pipe, then releases all at once.
        Returns the wall time from release to the last exit, and each process's result."""
        pids, writers, errs = [], [], []
        try:
            for i, argv in enumerate(argvs):
                r, w = os.pipe()
                err = high_fd(os.open(os.path.join(self.scratch, f"stderr.{i}"),
                                      os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600))
                errs.append(err)
                actions = [(os.POSIX_SPAWN_DUP2, r, 0),
                           (os.POSIX_SPAWN_DUP2, self.null_fd, 1),
                           (os.POSIX_SPAWN_DUP2, err, 2)]
                pids.append(os.posix_spawn(argv[0], argv, self.env, file_actions=actions,
                                           setsigdef=SIGDEF))
                os.close(r)
                writers.append(w)
            t0 = time.perf_counter_ns()
            for data in stdins:
                w = writers.pop(0)
                try:
                    os.write(w, data)
                finally:
                    os.close(w)
            statuses = [os.wait4(pid, 0)[1] for pid in pids]
            wall = time.perf_counter_ns() - t0
            results = [Result(0, os.waitstatus_to_exitcode(st), b"", self._read(err))
                       for st, err in zip(statuses, errs)]
            return wall, results
        finally:
            for w in writers:
                os.close(w)
            for err in errs:
                os.close(err)


# ---------------------------------------------------------------------------------------------
# The isolated world and the two helpers

def make_world(root: str) -> dict[str, str]:
    """A private HOME and XDG tree (all 0700) and an environment that sees nothing else:
    no system git config, no session bus, no user settings."""
    dirs = {name: os.path.join(root, name) for name in
            ("home", "config", "data", "state", "cache", "runtime")}
    for d in dirs.values():
        os.makedirs(d, mode=0o700, exist_ok=True)
        os.chmod(d, 0o700)
    with open(os.path.join(dirs["home"], ".gitconfig"), "w"):
        pass
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": dirs["home"],
        "XDG_CONFIG_HOME": dirs["config"],
        "XDG_DATA_HOME": dirs["data"],
        "XDG_STATE_HOME": dirs["state"],
        "XDG_CACHE_HOME": dirs["cache"],
        "XDG_RUNTIME_DIR": dirs["runtime"],
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "LC_ALL": "C",
        "TZ": "UTC",
    }


class Helper:
    """One credential helper and its credentials file (plus a pristine copy to restore)."""

    def __init__(self, name: str, prefix: list[str], file: str, header: bytes = b""):
        self.name = name
        self.prefix = prefix
        self.file = file
        self.pristine = file + ".pristine"
        self.header = header

    def argv(self, verb: str) -> list[str]:
        return [*self.prefix, verb]

    def populate(self, lines: list[bytes]) -> None:
        data = self.header + b"".join(lines)
        write_private(self.pristine, data)
        self.restore()
        if self.header:
            # pat trusts without reading it whole only a file it wrote itself (it records the
            # file's size and mtime in its lock file); in real use every file is. Have it write
            # this one once (untimed), then keep that file and its lock as the pristine pair,
            # restored with their times.
            dummy = b"protocol=https\nhost=bench-dummy.invalid\nusername=u\npassword=p\n"
            for verb in ("store", "erase"):
                subprocess.run(self.argv(verb), input=dummy, check=True,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.copy2(self.file, self.pristine)
            shutil.copy2(self.file + ".lock", self.pristine + ".lock")

    def restore(self) -> None:
        shutil.copy2(self.pristine, self.file + ".bench-tmp")
        os.chmod(self.file + ".bench-tmp", 0o600)
        os.replace(self.file + ".bench-tmp", self.file)
        if os.path.exists(self.pristine + ".lock"):
            shutil.copy2(self.pristine + ".lock", self.file + ".lock")

    def count_entries(self) -> int:
        with open(self.file, "rb") as f:
            data = f.read()
        if self.header:
            if not data.startswith(self.header):
                raise BenchError(f"{self.name}: {self.file} lost its header")
            data = data[len(self.header):]
        return sum(1 for line in data.split(b"\n") if line.strip())


def pat_helper(binary: str, root: str) -> Helper:
    d = os.path.join(root, "data", "git-credential-pat")
    os.makedirs(d, mode=0o700, exist_ok=True)
    f = os.path.join(d, "credentials")
    return Helper("pat", [binary, "--backend", "file", "--file", f], f, HEADER)


def store_helper(root: str) -> Helper:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=True).stdout.strip()
    binary = os.path.join(exec_path, "git-credential-store")
    if not os.access(binary, os.X_OK):
        raise BenchError(f"git-credential-store not found at {binary}")
    d = os.path.join(root, "data", "git-credential-store")
    os.makedirs(d, mode=0o700, exist_ok=True)
    f = os.path.join(d, "credentials")
    return Helper("store", [binary, f"--file={f}"], f)


def req(**fields: str) -> bytes:
    return "".join(f"{k}={v}\n" for k, v in fields.items()).encode()


def get_req(c: Cred, with_user: bool = False) -> bytes:
    """What git sends to find c: protocol, host, the path if c has one, the user if asked."""
    fields = {"protocol": c.protocol, "host": c.host}
    if c.path is not None:
        fields["path"] = c.path
    if with_user:
        fields["username"] = c.username
    return req(**fields)


def store_req(c: Cred) -> bytes:
    """What git sends to store or erase c."""
    return get_req(c, with_user=True) + req(password=c.password)


def answer(out: bytes) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in out.decode("utf-8", "replace").splitlines() if "=" in line)
    return dict(pairs)


# ---------------------------------------------------------------------------------------------
# One store size: populate, check, time

@dataclass
class Dataset:
    size: int
    hits: list[Cred]     # distinct-host credentials, requested by host as git does by default
    sample: list[Cred]   # a few of each kind, for the sanity checks


def populate(size: int, helpers: list[Helper], rng: random.Random, now: int) -> Dataset:
    creds, distinct = generate(size, rng, now)
    pat_lines = sorted(pat_line(c) for c in creds)
    newest_first = sorted(creds, key=lambda c: c.stored_ns, reverse=True)  # git's own order
    store_lines = [store_line(c) for c in newest_first]
    for h in helpers:
        h.populate(pat_lines if h.name == "pat" else store_lines)
    hits = rng.sample(distinct, k=min(len(distinct), 64))
    shared = [c for c in creds[len(distinct):] if c.path is None][:2]
    scoped = [c for c in creds[len(distinct):] if c.path is not None][:2]
    return Dataset(size, hits, hits[:2] + shared + scoped)


def expect(cond: bool, helper: Helper, what: str, res: Result) -> None:
    if not cond:
        out = mask(res.out.decode(errors="replace"))
        raise BenchError(f"{helper.name}: {what} (exit {res.code}, stdout {out!r}, "
                         f"stderr {first_line(res.err)!r})")


def sanity(ds: Dataset, helpers: list[Helper], runner: Runner) -> None:
    """Checks, through each binary, that the generated files mean what they should, and that
    the helper's own rewrite of the file keeps every generated line byte for byte."""
    for h in helpers:
        for c in ds.sample:
            if h.name == "store" and c.path is not None:
                continue  # git-credential-store's path matching is not what this checks
            res = runner.run(h.argv("get"), get_req(c, with_user=c.host in SHARED_HOSTS))
            a = answer(res.out)
            expect(res.code == 0 and not res.err, h, f"get of {c.host}/{c.path or ''} failed", res)
            expect(a.get("password") == c.password and a.get("username") == c.username, h,
                   f"get of {c.protocol}://{c.host} path={c.path} user={c.username} did not return "
                   "the token written into the file", res)
        res = runner.run(h.argv("get"), req(protocol="https", host="absent.example.org"))
        expect(res.code == 0 and res.out == b"" and not res.err, h, "get miss answered", res)
    pat = next((h for h in helpers if h.name == "pat"), None)
    if pat is None:
        return
    new = Cred("roundtrip.example.net", None, "bench", "ghp_" + "R" * 36, 0)
    res = runner.run(pat.argv("store"), store_req(new))
    expect(res.code == 0 and not res.err, pat, "store into the generated file failed", res)
    with open(pat.pristine, "rb") as f:
        before = f.read()
    with open(pat.file, "rb") as f:
        after = f.read()
    pat.restore()
    if not after.startswith(HEADER):
        raise BenchError(f"pat rewrote the file with another header: {first_line(after)!r}")
    old = before[len(HEADER):].splitlines(keepends=True)
    got = after[len(HEADER):].splitlines(keepends=True)
    added = [line for line in got if line.startswith(b"https://roundtrip.example.net ")]
    rest = [line for line in got if not line.startswith(b"https://roundtrip.example.net ")]
    if len(added) != 1 or rest != old:
        kept, generated = set(rest), set(old)
        missing = next((line for line in old if line not in kept), None)
        extra = next((line for line in rest if line not in generated), None)
        raise BenchError(
            "pat: after one store the file no longer holds the generated lines unchanged "
            f"(new line(s) for the stored key: {len(added)}; first generated line not kept: "
            f"{mask(missing.decode(errors='replace')) if missing else None!r}; first line not "
            f"generated: {mask(extra.decode(errors='replace')) if extra else None!r}); the spec "
            "says lines are kept sorted bytewise, one per key")
    if got != sorted(got):
        raise BenchError("pat: the rewritten file is not sorted bytewise")


# Fields of a get answer that git keeps and sends back on store, in the order git writes them
# (credential_write); anything else in the answer is unexpected here.
SERVED_FIELDS = ("username", "password", "oauth_refresh_token", "password_expiry_utc")


def identical_stores(ds: Dataset, helpers: list[Helper], runner: Runner) -> tuple[dict, dict]:
    """git's store after a successful fetch, per helper and hit: the get request's protocol and
    host, then exactly the fields that helper's get answered, as `git credential approve` sends
    them. Each is checked once against the generated data: the username and token written into
    the file, and for pat the expiry written into the file (git sends it back too), nothing
    else. Also reports whether one such store leaves each file untouched (same bytes, same
    inode and mtime, i.e. not rewritten)."""
    stores: dict[str, list[bytes]] = {h.name: [] for h in helpers}
    for h in helpers:
        for c in ds.hits:
            res = runner.run(h.argv("get"), get_req(c))
            a = answer(res.out)
            expect(res.code == 0 and not res.err, h, f"get of {c.host} (identical-store setup) failed", res)
            unexpected = sorted(set(a) - set(SERVED_FIELDS))
            expect(not unexpected, h, f"get of {c.host} answered fields the identical store does "
                   f"not model: {unexpected}", res)
            served = req(protocol=c.protocol, host=c.host,
                         **{k: a[k] for k in SERVED_FIELDS if k in a})
            seeded = store_req(c)
            if h.name == "pat" and c.expires is not None:
                seeded += req(password_expiry_utc=str(c.expires))
            expect(served == seeded, h, f"get of {c.host} did not serve exactly the credential "
                   f"written into the file (username {a.get('username')!r} vs {c.username!r}, "
                   f"token {'same' if a.get('password') == c.password else 'different'}, expiry "
                   f"{a.get('password_expiry_utc')!r} vs "
                   f"{str(c.expires) if h.name == 'pat' and c.expires else None!r}), so the "
                   "identical store would not be identical", res)
            stores[h.name].append(served)
    untouched = {}
    for h in helpers:
        before = os.stat(h.file)
        res = runner.run(h.argv("store"), stores[h.name][0])
        after = os.stat(h.file)
        with open(h.pristine, "rb") as f1, open(h.file, "rb") as f2:
            same = f1.read() == f2.read()
        h.restore()
        expect(res.code == 0 and not res.err, h, "identical store (setup) failed", res)
        untouched[h.name] = {"same_bytes": same,
                             "rewritten": (before.st_ino, before.st_mtime_ns)
                             != (after.st_ino, after.st_mtime_ns)}
    return stores, untouched


def time_ops(ds: Dataset, helpers: list[Helper], runner: Runner, rounds: int,
             rng: random.Random, identical: dict[str, list[bytes]]) -> dict[str, dict[str, list[int]]]:
    samples = {op: {h.name: [] for h in helpers} for op in OPS}

    def request(op: str, r: int) -> tuple[bytes | dict[str, bytes], Cred | None]:
        i = r % len(ds.hits)
        hit = ds.hits[i]
        if op == "get-hit":
            return get_req(hit), hit
        if op == "store-identical":  # what this round's get served, per helper
            return {name: reqs[i] for name, reqs in identical.items()}, None
        if op == "get-miss":
            return req(protocol="https", host=f"miss{r}.example.org"), None
        if op == "store-new":
            return store_req(Cred(f"new{r}.example.net", None, "bench", token(rng, r), 0)), None
        if op == "store-overwrite":
            return store_req(Cred(hit.host, None, hit.username, token(rng, r), 0)), None
        return store_req(hit), None  # erase, with the stored password

    def one(h: Helper, op: str, stdin: bytes, hit: Cred | None) -> int:
        res = runner.run(h.argv(VERB[op]), stdin)
        if op in MUTATING:
            h.restore()  # every run starts from the generated file
        expect(res.code == 0 and not res.err, h, f"{op} at {ds.size} failed", res)
        if op == "get-hit":
            expect(answer(res.out).get("password") == hit.password, h, "get hit: wrong token", res)
        elif op == "get-miss":
            expect(res.out == b"", h, "get miss answered", res)
        return res.ns

    def for_helper(stdin: bytes | dict[str, bytes], h: Helper) -> bytes:
        return stdin[h.name] if isinstance(stdin, dict) else stdin

    for op in OPS:  # warm-up, untimed
        stdin, hit = request(op, rounds)
        for h in helpers:
            one(h, op, for_helper(stdin, h), hit)
    for r in range(rounds):
        order = helpers if r % 2 == 0 else helpers[::-1]
        for op in OPS:
            # The same request for both helpers; for the identical store, the same credential
            # as served by each helper's own get (pat's answer also carries the expiry).
            stdin, hit = request(op, r)
            for h in order:
                samples[op][h.name].append(one(h, op, for_helper(stdin, h), hit))
    return samples


def peak_rss(ds: Dataset, helpers: list[Helper], runner: Runner, runs: int = 5) -> dict:
    out = {}
    base = [runner.run_rss(["/bin/true"], b"").maxrss_kib for _ in range(3)]
    out["floor_kib"] = max(base)
    for h in helpers:
        peaks = []
        for i in range(runs):
            c = ds.hits[i % len(ds.hits)]
            res = runner.run_rss(h.argv("get"), get_req(c))
            expect(res.code == 0 and answer(res.out).get("password") == c.password, h,
                   "get under the RSS probe failed", res)
            peaks.append(res.maxrss_kib)
        out[h.name] = max(peaks)
    return out


def spawn_check(ds: Dataset, helpers: list[Helper], runner: Runner, scratch: str) -> dict:
    """Runs one get under strace -f and counts what it starts besides itself."""
    strace = shutil.which("strace")
    if strace is None:
        return {h.name: None for h in helpers} | {"note": "not checked (strace not installed)"}
    out = {}
    log_path = os.path.join(scratch, "strace.log")
    for h in helpers:
        c = ds.hits[0]
        argv = [strace, "-f", "-qq", "-o", log_path,
                "-e", "trace=execve,execveat,clone,clone3,fork,vfork", "--", *h.argv("get")]
        res = runner.run(argv, get_req(c))
        expect(res.code == 0 and answer(res.out).get("password") == c.password, h,
               "get under strace failed", res)
        with open(log_path, encoding="utf-8", errors="replace") as f:
            lines = [line.rstrip("\n") for line in f]
        # A successful exec ends "= 0" (on its own line, or on its "resumed" line).
        execs = sum(1 for line in lines if re.search(r"\bexecve(at)?\b.*= 0$", line))
        forks = threads = 0
        for line in lines:
            if re.search(r"\b(clone3?|v?fork)\(", line):  # the call itself, not a "resumed" line
                if "CLONE_THREAD" in line:
                    threads += 1
                else:
                    forks += 1
        out[h.name] = {"subprocesses": forks, "execs_besides_itself": max(0, execs - 1),
                       "threads": threads}
    return out


class PrivateSecretService:
    """A private session bus with an unlocked gnome-keyring, as the tests start one.

    HOME and XDG_* point into `root` before the bus starts, since D-Bus-activated services
    inherit the bus daemon's environment; the keyring is created and unlocked with a throwaway
    password, and the daemon must own org.freedesktop.secrets before any client connects.
    """

    def __init__(self, root: str):
        os.makedirs(os.path.join(root, "run"), mode=0o700, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root,
               "XDG_DATA_HOME": os.path.join(root, "share"),
               "XDG_CONFIG_HOME": os.path.join(root, "config"),
               "XDG_RUNTIME_DIR": os.path.join(root, "run")}
        out = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                              "--print-pid=1"], env=env, capture_output=True, text=True,
                             check=True).stdout.split()
        self.address, self.pids = out[0], [int(out[1])]
        env["DBUS_SESSION_BUS_ADDRESS"] = self.address
        subprocess.run(["gnome-keyring-daemon", "--unlock", "--components=secrets"],
                       input="bench-only-password", env=env, capture_output=True, text=True,
                       check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            reply = subprocess.run(
                ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
                 "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner",
                 "string:org.freedesktop.secrets"], env=env, capture_output=True, text=True)
            if "boolean true" in reply.stdout:
                break
            time.sleep(0.025)
        else:
            raise RuntimeError("gnome-keyring did not take org.freedesktop.secrets")
        # The keyring daemon's pid, from its own bus (never another keyring of the machine).
        reply = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
             "/org/freedesktop/DBus", "org.freedesktop.DBus.GetConnectionUnixProcessID",
             "string:org.freedesktop.secrets"], env=env, capture_output=True, text=True)
        self.pids += [int(w) for w in reply.stdout.split()[-1:] if w.isdigit()]

    def stop(self) -> None:
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


# --- Keychain backend against git's own libsecret helper ------------------------------------

KC_OPS = ("get-hit", "get-miss", "store-state", "store-plain", "erase-nothing")
KC_LABEL = {"get-hit": "keychain get (hit)", "get-miss": "keychain get (miss)",
            "store-state": "keychain store after get, with state[] (git ≥ 2.46)",
            "store-plain": "keychain store after get, without state[] (git < 2.46)",
            "erase-nothing": "keychain erase matching nothing",
            "auto": "auto get, bus without Secret Service (remembered)",
            "auto-first": "auto get, bus without Secret Service (first contact)"}
KC_TARGETS = {"get-hit": 0.7, "get-miss": 0.8, "store-state": 0.25, "erase-nothing": 0.8,
              "auto": 1.5}
LIBSECRET_PACKAGES = "libsecret-1-dev libglib2.0-dev pkg-config gcc"
LIBSECRET_URL = ("https://raw.githubusercontent.com/git/git/v{version}/contrib/credential/"
                 "libsecret/git-credential-libsecret.c")
DISTRO_LIBSECRET = "/usr/share/doc/git/contrib/credential/libsecret/git-credential-libsecret.c"


def git_version() -> str:
    out = subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout
    return out.split()[2]


def libsecret_helper(args: argparse.Namespace, cache_dir: str) -> tuple[str | None, str]:
    """git's contrib/credential/libsecret helper, built for git's own version when possible.

    In order: --libsecret (a built helper); git-credential-libsecret in `git --exec-path`;
    a copy built earlier for this git version (cache_dir); --libsecret-src; the source of the
    running git's version tag, downloaded (the one network access of the benchmark); the copy
    Debian's git package ships in its docs (another git version, said in the report).
    Returns (path or None, where it came from or why there is none)."""
    if args.libsecret:
        return os.path.abspath(args.libsecret), f"given ({args.libsecret})"
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=True).stdout.strip()
    built = os.path.join(exec_path, "git-credential-libsecret")
    if os.access(built, os.X_OK):
        return built, f"git's own ({built})"
    version = git_version()
    binary = os.path.join(cache_dir, f"git-credential-libsecret-{version}")
    if os.access(binary, os.X_OK):
        return binary, f"built from git v{version}'s contrib source (cached in {cache_dir})"
    source, origin = None, ""
    if args.libsecret_src:
        source, origin = os.path.abspath(args.libsecret_src), f"--libsecret-src {args.libsecret_src}"
        binary = os.path.join(cache_dir, "git-credential-libsecret-given-src")
    else:
        try:
            import urllib.request
            url = LIBSECRET_URL.format(version=version)
            log(f"keychain: fetching {url}")
            with urllib.request.urlopen(url, timeout=15) as r:
                data = r.read()
            os.makedirs(cache_dir, mode=0o700, exist_ok=True)
            source = os.path.join(cache_dir, f"git-credential-libsecret-{version}.c")
            with open(source, "wb") as f:
                f.write(data)
            origin = f"git v{version}'s contrib source"
        except OSError as e:
            log(f"keychain: cannot fetch the libsecret helper's source ({e})")
            if os.path.exists(DISTRO_LIBSECRET):
                source, origin = DISTRO_LIBSECRET, f"{DISTRO_LIBSECRET} (the distribution's git, not v{version})"
                binary = os.path.join(cache_dir, "git-credential-libsecret-distro")
    if source is None:
        return None, "no libsecret helper source: give --libsecret-src or --libsecret"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libsecret-1", "glib-2.0"],
                           capture_output=True, text=True)
    if flags.returncode != 0:
        return None, f"cannot build git-credential-libsecret: install {LIBSECRET_PACKAGES}"
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    cc = subprocess.run(["cc", "-O2", "-o", binary, source, *flags.stdout.split()],
                        capture_output=True, text=True)
    if cc.returncode != 0:
        return None, "cannot build git-credential-libsecret: " + first_line(cc.stderr.encode())
    return binary, f"built from {origin}"


class BareBus:
    """A session bus with no Secret Service and nothing to activate one (no service dirs)."""

    def __init__(self, root: str):
        os.makedirs(root, mode=0o700, exist_ok=True)
        services = os.path.join(root, "no-services")
        os.makedirs(services, mode=0o700, exist_ok=True)
        conf = os.path.join(root, "bare-bus.conf")
        with open(conf, "w") as f:
            f.write(f"""<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={os.path.join(root, "bus")}</listen>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/>
  </policy>
</busconfig>
""")
        out = subprocess.run(["dbus-daemon", f"--config-file={conf}", "--fork",
                              "--print-address=1", "--print-pid=1"],
                             capture_output=True, text=True, check=True).stdout.split()
        self.address, self.pid = out[0], int(out[1])

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass


def time_pairs(runner_of: dict, steps: dict, rounds: int) -> dict:
    """Times each step's two commands ("pat" and "ref") alternately, round by round, after
    one untimed warm-up each; every run is checked. steps: op -> {side: (argv, stdin, check)}."""
    samples = {op: {"pat": [], "ref": []} for op in steps}
    for r in range(rounds + 1):
        for op, sides in steps.items():
            order = ("pat", "ref") if r % 2 == 0 else ("ref", "pat")
            for side in order:
                argv, stdin, check = sides[side]
                res = runner_of[side].run(argv, stdin)
                why = check(res)
                if why:
                    raise BenchError(f"{op}, {side}: {why}: {first_line(res.err) or res.code}")
                if r:
                    samples[op][side].append(res.ns)
    return samples


def keychain_section(binary: str, runner: Runner, rounds: int, scratch: str,
                     args: argparse.Namespace, cache_dir: str) -> dict:
    """The keychain backend against git-credential-libsecret on one private gnome-keyring,
    and auto on a bus without a Secret Service against the file backend, same run."""
    missing = [t for t in ("dbus-daemon", "gnome-keyring-daemon", "dbus-send")
               if shutil.which(t) is None]
    if missing:
        return {"available": False, "reason": "not measured: install " + " ".join(missing)}
    libsecret, origin = libsecret_helper(args, cache_dir)
    if libsecret is None:
        return {"available": False, "reason": origin}
    log(f"keychain: libsecret helper {origin}")
    ss = PrivateSecretService(os.path.join(scratch, "secret-service"))
    bare = None
    try:
        kc_scratch = os.path.join(scratch, "keychain-runner")
        os.makedirs(kc_scratch, mode=0o700, exist_ok=True)
        kc = Runner({**runner.env, "DBUS_SESSION_BUS_ADDRESS": ss.address}, kc_scratch)
        runners = {"pat": kc, "ref": kc}
        c = Cred("keychain-bench.example.net", None, "bench", "ghp_" + "K" * 36, 0)
        absent = Cred("absent.keychain-bench.example.net", None, "bench", "ghp_" + "A" * 36, 0)
        pat = [binary, "--backend", "keychain"]
        ls = [libsecret]
        # What git >= 2.46 sends for a get over HTTP.
        caps = b"capability[]=authtype\ncapability[]=state\n"
        for argv in (pat, ls):
            res = kc.run([*argv, "store"], store_req(c))
            if res.code != 0 or res.err:
                return {"available": False, "reason": first_line(res.err) or "store failed"}
        res = kc.run([*pat, "get"], caps + get_req(c))
        state = [l for l in res.out.decode().splitlines() if l.startswith("state[]=")]
        if res.code != 0 or len(state) != 1:
            raise BenchError("keychain get answered no state[]: " + first_line(res.err))
        # The store git sends after the credential worked: what get served, with the state.
        after_get = b"capability[]=state\n" + store_req(c) + (state[0] + "\n").encode()

        def ok(res: Result) -> str:
            return "exit %d" % res.code if res.code else ("stderr" if res.err else "")

        def hit(res: Result) -> str:
            return ok(res) or ("" if answer(res.out).get("password") == c.password else "wrong answer")

        def miss(res: Result) -> str:
            return ok(res) or ("" if not res.out.strip() else "answered a miss")

        steps = {
            "get-hit": {"pat": ([*pat, "get"], caps + get_req(c), hit),
                        "ref": ([*ls, "get"], caps + get_req(c), hit)},
            "get-miss": {"pat": ([*pat, "get"], caps + get_req(absent), miss),
                         "ref": ([*ls, "get"], caps + get_req(absent), miss)},
            "store-state": {"pat": ([*pat, "store"], after_get, ok),
                            "ref": ([*ls, "store"], after_get, ok)},
            "store-plain": {"pat": ([*pat, "store"], store_req(c), ok),
                            "ref": ([*ls, "store"], store_req(c), ok)},
            "erase-nothing": {"pat": ([*pat, "erase"], store_req(absent), ok),
                              "ref": ([*ls, "erase"], store_req(absent), ok)},
        }
        log(f"keychain: timing {len(steps)} operations × {rounds} rounds against libsecret")
        samples = time_pairs(runners, steps, rounds)
        for argv in (pat, ls):
            kc.run([*argv, "erase"], store_req(c))

        # auto on a bus with no Secret Service, against the file backend, same binary and file.
        bare = BareBus(os.path.join(scratch, "bare-bus"))
        file = os.path.join(scratch, "auto-credentials")
        runtime = runner.env["XDG_RUNTIME_DIR"]
        memo_dir = os.path.join(runtime, "git-credential-pat")
        auto_env = {**runner.env, "DBUS_SESSION_BUS_ADDRESS": bare.address}
        auto_scratch = os.path.join(scratch, "auto-runner")
        os.makedirs(auto_scratch, mode=0o700, exist_ok=True)
        auto = Runner(auto_env, auto_scratch)
        res = auto.run([binary, "--backend", "file", "--file", file, "store"], store_req(c))
        if res.code != 0:
            raise BenchError("auto: storing into the file failed: " + first_line(res.err))

        def forget(res: Result) -> str:
            shutil.rmtree(memo_dir, ignore_errors=True)  # after the clock stopped
            return hit(res)

        auto_steps = {
            "auto": {"pat": ([binary, "--file", file, "get"], caps + get_req(c), hit),
                     "ref": ([binary, "--backend", "file", "--file", file, "get"],
                             caps + get_req(c), hit)},
        }
        log(f"keychain: auto on a bus without Secret Service, {rounds} rounds")
        samples.update(time_pairs({"pat": auto, "ref": auto}, auto_steps, rounds))
        if not os.path.isdir(memo_dir):
            raise BenchError("auto: nothing was remembered in " + memo_dir)
        first = {"auto-first": {"pat": ([binary, "--file", file, "get"], caps + get_req(c), forget),
                                "ref": ([binary, "--backend", "file", "--file", file, "get"],
                                        caps + get_req(c), hit)}}
        samples.update(time_pairs({"pat": auto, "ref": auto}, first, rounds))
        ops = {op: {"pat_median_ms": ms(statistics.median(v["pat"])),
                    "ref_median_ms": ms(statistics.median(v["ref"])),
                    "median_of_ratios": statistics.median(a / b for a, b in zip(v["pat"], v["ref"])),
                    "pat_ns": v["pat"], "ref_ns": v["ref"]}
               for op, v in samples.items()}
        return {"available": True, "libsecret": origin, "rounds": rounds, "ops": ops}
    finally:
        if bare:
            bare.stop()
        ss.stop()


def keychain_rows(report: dict) -> list[dict]:
    kc = report.get("keychain")
    if not kc:
        return []
    if not kc["available"]:
        return [{"operation": f"keychain: n/a ({kc['reason'].replace('|', '/')})", "pat": "",
                 "ref": "", "against": "", "ratio": "", "target": "", "met": ""}]
    rows = []
    for op, v in kc["ops"].items():
        ratio = v["pat_median_ms"] / v["ref_median_ms"]
        target = KC_TARGETS.get(op)
        rows.append({"operation": KC_LABEL[op], "pat": fmt_ms(v["pat_median_ms"]),
                     "ref": fmt_ms(v["ref_median_ms"]),
                     "against": "file get" if op.startswith("auto") else "libsecret",
                     "ratio": fmt_ratio(ratio), "target": f"≤ {target}×" if target else "",
                     "met": "" if target is None else ("yes" if ratio <= target else "**no**")})
    return rows


def keychain_markdown(report: dict) -> list[str]:
    rows = keychain_rows(report)
    if not rows:
        return []
    kc = report["keychain"]
    lines = ["", "### Keychain backend against git-credential-libsecret", "",
             "| operation | pat median ms | other median ms | other | ratio | target | met? |",
             "|---|--:|--:|---|--:|---|---|"]
    for r in rows:
        lines.append(f"| {r['operation']} | {r['pat']} | {r['ref']} | {r['against']} "
                     f"| {r['ratio']} | {r['target']} | {r['met']} |")
    if kc["available"]:
        lines += ["", f"- one private gnome-keyring (its own session bus, unlocked), pat "
                  f"`--backend keychain` and git-credential-libsecret alternating in every round, "
                  f"medians of {kc['rounds']} rounds; libsecret helper {kc['libsecret']}",
                  "- requests as git ≥ 2.46 sends them (`capability[]=authtype`, "
                  "`capability[]=state`); the store after get carries the `state[]` pat's get "
                  "answered (libsecret ignores it); erase matching nothing names a host stored "
                  "nowhere, with username and password",
                  "- auto: pat's default backend on a session bus with no Secret Service and "
                  "nothing to activate (a dbus-daemon with no service directories), against "
                  "`--backend file` on the same file; \"remembered\" after the first call, "
                  "\"first contact\" with the memo removed after each run (untimed)"]
    return lines


def concurrency(size: int, ks: list[int], trials: int, helpers: list[Helper],
                runner: Runner) -> list[dict]:
    rows = []
    for k in ks:
        per = {h.name: {"wall_ns": [], "lost": 0, "clobbered": 0, "failed": 0, "errors": []}
               for h in helpers}
        for t in range(trials):
            order = helpers if t % 2 == 0 else helpers[::-1]
            for h in order:
                creds = [Cred(f"k{k}t{t}p{i}.concurrent.example.net", None, "bench",
                              "ghp_" + f"{k:02d}{t:02d}{i:03d}".ljust(36, "C"), 0) for i in range(k)]
                wall, results = runner.run_concurrent([h.argv("store")] * k,
                                                      [store_req(c) for c in creds])
                p = per[h.name]
                p["wall_ns"].append(wall)
                for res in results:
                    if res.code != 0:
                        p["failed"] += 1
                        msg = first_line(res.err)
                        if msg not in p["errors"]:
                            p["errors"].append(msg)
                missing = 0
                for c in creds:
                    res = runner.run(h.argv("get"), get_req(c))
                    if answer(res.out).get("password") != c.password:
                        missing += 1
                p["lost"] += missing
                p["clobbered"] += max(0, size + (k - missing) - h.count_entries())
                h.restore()
        rows.append({"k": k, "size": size, "trials": trials, "attempts": k * trials, **per})
    return rows


# ---------------------------------------------------------------------------------------------
# Facts and the report

def machine_facts(binary: str | None, built: bool) -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass

    def cmd(argv: list[str], cwd: str | None = None) -> str:
        try:
            r = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, timeout=10)
            return r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else ""
        except (OSError, subprocess.TimeoutExpired):
            return ""

    version = cmd([binary, "--version"]) if binary else ""
    commit = ""
    if built:
        sources = ["--", "src", "Cargo.toml", "Cargo.lock", "build.rs"]
        last = cmd(["git", "log", "-1", "--format=%h", *sources], REPO_ROOT)
        commit = cmd(["git", "rev-parse", "--short", "HEAD"], REPO_ROOT)
        if commit and last and last != commit:
            commit += f" (sources last changed in {last})"
        if cmd(["git", "status", "--porcelain", *sources], REPO_ROOT):
            commit += ", with uncommitted changes to the sources"
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "kernel": f"{platform.system()} {platform.release()}",
        "loadavg_at_start": os.getloadavg(),
        "git": cmd(["git", "--version"]),
        "python": platform.python_version(),
        "helper_binary": binary,
        "helper_version": version or "unknown (--version failed)",
        "helper_commit": commit or ("unknown (binary given with --bin)" if not built else "unknown"),
    }


def ms(ns: float) -> float:
    return ns / 1e6


def fmt_ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}" if value < 100 else f"{value:.0f}"


def fmt_ratio(r: float) -> str:
    return f"{r:.2f}×" if r >= 0.1 else f"{r:.3f}×"


def build_rows(report: dict) -> list[dict]:
    rows = []
    for size_block in report["sizes"]:
        size = size_block["size"]
        for op in OPS:
            s = size_block["ops"][op]
            pat, store = s["pat_median_ms"], s["store_median_ms"]
            ratio = pat / store
            target = RATIO_TARGETS.get((op, size))
            text = f"≤ {target}×" if target is not None else ""
            met = "" if target is None else ("yes" if ratio <= target else "**no**")
            if op == "store-identical":  # against pat's own get (hit), not against store
                ref = size_block["ops"][IDENTICAL_VS]["pat_median_ms"]
                text = f"≤ {LABEL[IDENTICAL_VS]} ({fmt_ms(ref)})"
                # three decimals: the two medians are often within a few percent
                met = f"{'yes' if pat <= ref else '**no**'} ({pat / ref:.3f}× get)"
            rows.append({
                "operation": LABEL[op], "size": size, "pat": fmt_ms(pat), "store": fmt_ms(store),
                "ratio": fmt_ratio(ratio), "target": text, "met": met})
    for c in report["concurrency"]:
        pat, store = c["pat"], c["store"]
        pat_ms, store_ms = ms(statistics.median(pat["wall_ns"])), ms(statistics.median(store["wall_ns"]))
        rows.append({"operation": f"{c['k']} concurrent stores, wall time", "size": c["size"],
                     "pat": fmt_ms(pat_ms), "store": fmt_ms(store_ms),
                     "ratio": fmt_ratio(pat_ms / store_ms), "target": "", "met": ""})

        def lost(p: dict) -> str:
            text = f"{p['lost']} of {c['attempts']}"
            if p["clobbered"]:
                text += f" (+{p['clobbered']} old entries gone)"
            if p["failed"]:
                text += f"; {p['failed']} exited non-zero"
            return text
        is_target = (c["k"], c["size"]) == LOST_TARGET
        rows.append({"operation": f"{c['k']} concurrent stores, lost updates", "size": c["size"],
                     "pat": lost(pat), "store": lost(store), "ratio": "",
                     "target": "0 lost" if is_target else "",
                     "met": "" if not is_target else
                     ("yes" if pat["lost"] == 0 and pat["clobbered"] == 0 else "**no**")})
    rss = report.get("rss")
    if rss:
        is_target = rss["size"] == RSS_TARGET_SIZE
        rows.append({"operation": "get (hit), peak RSS", "size": rss["size"],
                     "pat": f"{rss['pat'] / 1024:.1f} MiB", "store": f"{rss['store'] / 1024:.1f} MiB",
                     "ratio": fmt_ratio(rss["pat"] / rss["store"]),
                     "target": "≤ 8 MiB" if is_target else "",
                     "met": "" if not is_target else ("yes" if rss["pat"] <= RSS_TARGET_KIB else "**no**")})
    spawn = report.get("spawn")
    if spawn:
        def cell(v: dict | None) -> str:
            if v is None:
                return "not checked"
            text = str(v["subprocesses"] + v["execs_besides_itself"])
            return text + (f" ({v['threads']} threads)" if v["threads"] else "")
        pat_v = spawn.get("pat")
        rows.append({"operation": "get (hit), subprocesses spawned (strace -f)", "size": spawn["size"],
                     "pat": cell(pat_v), "store": cell(spawn.get("store")), "ratio": "",
                     "target": "0",
                     "met": "" if pat_v is None else
                     ("yes" if pat_v["subprocesses"] + pat_v["execs_besides_itself"] == 0 else "**no**")})
    return rows


def markdown(report: dict) -> str:
    m, cfg = report["machine"], report["config"]
    load = ", ".join(f"{x:.2f}" for x in m["loadavg_at_start"])
    lines = [
        "## git-credential-pat vs git-credential-store",
        "",
        f"- date: {m['date_utc']}",
        f"- CPU: {m['cpu']}, {m['cores']} cores ({m['usable_cores']} usable); "
        f"kernel {m['kernel']}; load average at start {load}",
        f"- {m['git']} (`git-credential-store` from `git --exec-path`); Python {m['python']}",
        f"- helper: {m['helper_version']}, commit {m['helper_commit']}",
        f"- method: wall time of whole processes, posix_spawn → wait4, stdin from a file, "
        f"isolated HOME/XDG, pat and store alternating in every round; medians of "
        f"{cfg['rounds_desc']}; mutating operations start from the generated file, restored after each run "
        f"(outside the timed region); sizes {', '.join(f'{s:,}' for s in cfg['sizes'])}",
        "",
        "| operation | size | pat median ms | store median ms | ratio | target | met? |",
        "|---|--:|--:|--:|--:|---|---|",
    ]
    if not report["sizes"]:
        lines[-3:] = ["(file backend not measured: --only-keychain)"]
    for r in build_rows(report):
        size = f"{r['size']:,}" if isinstance(r["size"], int) else r["size"]
        lines.append(f"| {r['operation']} | {size} | {r['pat']} | {r['store']} | {r['ratio']} "
                     f"| {r['target']} | {r['met']} |")
    notes = []
    for size_block in report["sizes"]:
        u = size_block.get("identical_store_file")
        if u:
            def what(v: dict) -> str:
                if not v["rewritten"]:
                    return "left untouched"
                return "rewritten" + (" (same bytes)" if v["same_bytes"] else " (bytes changed)")
            notes.append(f"- store (identical) at {size_block['size']:,}, checked once before "
                         "timing: the file was " + ", ".join(
                             f"{what(v)} by {name}" for name, v in u.items()))
    for c in report["concurrency"]:
        for name in ("pat", "store"):
            if c[name]["errors"]:
                notes.append(f"- {c['k']} concurrent stores at {c['size']:,}, {name}: "
                             + "; ".join(c[name]["errors"][:2]))
    if report.get("rss"):
        notes.append(f"- peak RSS: max ru_maxrss of 5 runs; the probe's floor (`/bin/true`) is "
                     f"{report['rss']['floor_kib'] / 1024:.1f} MiB")
    spawn = report.get("spawn")
    if spawn and spawn.get("note"):
        notes.append(f"- subprocess check: {spawn['note']}")
    if notes:
        lines += ["", *notes]
    lines += more_markdown(report)
    lines += keychain_markdown(report)
    lines.append("")
    lines.append(f"Total run time: {report['elapsed_s']:.0f} s.")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# More rows: one host holding many credentials, `import`, and the memory backend against
# git-credential-cache. Each section has its own data, timing loop, rows and notes; main()
# calls add_more_options(), run_more() and more_rows(), and markdown() calls more_markdown().

ONE_HOST = "big.example"
ONE_HOST_OPS = ("get-hit", "get-miss", "store-new", "store-overwrite")
MEMORY_OPS = ("get-hit", "get-miss", "store-new", "store-identical", "erase")
MORE_LABEL = {"get-hit": "get (hit)", "get-miss": "get (miss)", "store-new": "store (new key)",
              "store-overwrite": "store (overwrite)", "store-identical": "store (identical re-store)",
              "erase": "erase (with password)"}
# Ten times the credentials (or lines) in at most this many times the time: n log n from
# 10,000 to 100,000 is 12.5×, and ~15× leaves room for noise.
GROWTH_TARGET = 15.0
IMPORT_TARGET_S = 5.0
IMPORT_TARGET_SIZE = LARGE
MEMORY_SIZES = [1, 100]
CACHE_TIMEOUT = 900  # git-credential-cache's own default; the run is far shorter
KEY_PREFIX = "git-credential-pat:"  # the description of every key the memory backend makes


def parse_sizes_or_none(text: str) -> list[int]:
    """Like parse_sizes, and `none` (or 0) turns the section off."""
    if text.strip().lower() in ("none", "0", "off", ""):
        return []
    return parse_sizes(text)


def add_more_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("one host, import, memory backend")
    g.add_argument("--one-host-sizes", type=parse_sizes_or_none, metavar="LIST",
                   help=f"credentials on the single host {ONE_HOST} (default: 10000,100000 when a "
                   "size reaches 100000, else a tenth of the largest size and the largest; none: off)")
    g.add_argument("--import-sizes", type=parse_sizes_or_none, metavar="LIST",
                   help="lines of the git-credential-store file imported (default as "
                   "--one-host-sizes; none: off)")
    g.add_argument("--import-rounds", type=int, metavar="N",
                   help="rounds per import size (default 10, 3 with --quick)")
    g.add_argument("--memory-sizes", type=parse_sizes_or_none, metavar="LIST",
                   help="credentials in the kernel keyring and in git-credential-cache "
                   "(default 1,100; none: off)")


def tenfold(sizes: list[int]) -> list[int]:
    """The default sizes of the growth checks: N/10 and N, N = 100,000 when a size reaches it."""
    top = LARGE if max(sizes) >= LARGE else max(sizes)
    return [top // 10, top] if top >= 10 else [top]


@dataclass
class Step:
    """One operation of one round, the same for both sides unless stdin differs."""
    verb: str
    stdin: dict          # side name -> request bytes
    password: str | None = None   # a get hit must answer this token
    empty: bool = False           # a get miss must answer nothing
    undo: object = None           # called with the side name after the run, untimed


def check_run(cond: bool, who: str, what: str, res: Result) -> None:
    if not cond:
        out = mask(res.out.decode(errors="replace"))
        raise BenchError(f"{who}: {what} (exit {res.code}, stdout {out!r}, "
                         f"stderr {first_line(res.err)!r})")


def time_steps(runner: Runner, argv: dict, ops: tuple[str, ...], rounds: int, step,
               what: str) -> dict[str, dict[str, list[int]]]:
    """Times each op for each side in every round, alternating which side goes first, after
    one untimed warm-up per op and side. `argv[side](verb)` gives the command line,
    `step(op, round)` the request; every run's exit status, stderr and answer are checked."""
    names = list(argv)
    samples = {op: {n: [] for n in names} for op in ops}

    def one(name: str, op: str, s: Step) -> int:
        res = runner.run(argv[name](s.verb), s.stdin[name])
        check_run(res.code == 0 and not res.err, name, f"{what}: {op} failed", res)
        if s.password is not None:
            check_run(answer(res.out).get("password") == s.password, name,
                      f"{what}: {op} did not answer the stored token", res)
        if s.empty:
            check_run(res.out == b"", name, f"{what}: {op} answered", res)
        if s.undo is not None:
            s.undo(name)
        return res.ns

    for op in ops:
        s = step(op, rounds)
        for name in names:
            one(name, op, s)
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for op in ops:
            s = step(op, r)
            for name in order:
                samples[op][name].append(one(name, op, s))
    return samples


def summarize(samples: dict[str, dict[str, list[int]]]) -> dict:
    """Medians and ratios of a pat side and a git side, op by op."""
    out = {}
    for op, s in samples.items():
        pat, git = s["pat"], s["git"]
        out[op] = {"pat_median_ms": ms(statistics.median(pat)),
                   "git_median_ms": ms(statistics.median(git)),
                   "ratio": statistics.median(pat) / statistics.median(git),
                   "median_of_ratios": statistics.median(a / b for a, b in zip(pat, git)),
                   "pat_ns": pat, "git_ns": git}
    return out


def git_helper_path(name: str) -> str | None:
    exec_path = subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                               check=True).stdout.strip()
    path = os.path.join(exec_path, name)
    return path if os.access(path, os.X_OK) else None


def private_dir(*parts: str) -> str:
    d = os.path.join(*parts)
    os.makedirs(d, mode=0o700, exist_ok=True)
    os.chmod(d, 0o700)
    return d


def growth(blocks: list[dict], key: str) -> list[dict]:
    """Median at each size over the median at the size before, per op and side."""
    out = []
    for a, b in zip(blocks, blocks[1:]):
        out.append({"from": a["size"], "to": b["size"], "ops": {
            op: {side: b[key][op][f"{side}_median_ms"] / a[key][op][f"{side}_median_ms"]
                 for side in ("pat", "git")} for op in b[key]}})
    return out


# --- One host holding many credentials ---------------------------------------------------------

def one_host_data(n: int, rng: random.Random, now: int) -> list[Cred]:
    """n host-wide credentials on ONE_HOST, one per username, stored in a shuffled order."""
    order = list(range(n))
    rng.shuffle(order)
    base_ns = (now - 400 * 86400) * 1_000_000_000
    return [Cred(ONE_HOST, None, f"user{i:06d}", token(rng, i),
                 base_ns + order[i] * 97_000_001_003 + rng.randrange(1_000_000_000))
            for i in range(n)]


def one_host(binary: str, root: str, runner: Runner, sizes: list[int], rounds: int,
             large_rounds: int, rng: random.Random, now: int) -> dict:
    """get (hit, miss) and store (new key, overwrite) with every credential on one host:
    pat's file backend against git-credential-store, on the same data."""
    storebin = git_helper_path("git-credential-store")
    if storebin is None:
        raise BenchError("git-credential-store not found in git --exec-path")
    out = {"host": ONE_HOST, "against": "git credential-store", "sizes": []}
    for n in sizes:
        log(f"one host, {n:,} credentials: populating")
        d = private_dir(root, "one-host", str(n))
        pf, gf = os.path.join(private_dir(d, "pat"), "credentials"), os.path.join(d, "git-credentials")
        helpers = {"pat": Helper("pat", [binary, "--backend", "file", "--file", pf], pf, HEADER),
                   "git": Helper("git", [storebin, f"--file={gf}"], gf)}
        creds = one_host_data(n, rng, now)
        helpers["pat"].populate(sorted(pat_line(c) for c in creds))
        helpers["git"].populate([store_line(c) for c in
                                 sorted(creds, key=lambda c: c.stored_ns, reverse=True)])
        hits = rng.sample(creds, k=min(n, 64))
        del creds
        for name, h in helpers.items():  # sanity: through each binary, before timing
            for c in hits[:2]:
                res = runner.run(h.argv("get"), get_req(c, with_user=True))
                check_run(res.code == 0 and answer(res.out).get("password") == c.password, name,
                          f"one host at {n:,}: get did not return the token written into the file", res)
            res = runner.run(h.argv("store"), store_req(Cred(ONE_HOST, None, "sanity", "ghp_" + "S" * 36, 0)))
            count = h.count_entries()
            h.restore()
            check_run(res.code == 0 and not res.err and count == n + 1, name,
                      f"one host at {n:,}: a store of a new key left {count:,} entries, not {n + 1:,}", res)

        def step(op: str, r: int) -> Step:
            hit = hits[r % len(hits)]
            both = lambda data: {"pat": data, "git": data}  # noqa: E731
            restore = lambda name: helpers[name].restore()  # noqa: E731
            if op == "get-hit":
                return Step("get", both(get_req(hit, with_user=True)), password=hit.password)
            if op == "get-miss":
                return Step("get", both(req(protocol="https", host=ONE_HOST, username=f"absent{r:06d}")),
                            empty=True)
            if op == "store-new":
                new = Cred(ONE_HOST, None, f"new{r:06d}", token(rng, r), 0)
                return Step("store", both(store_req(new)), undo=restore)
            new = Cred(ONE_HOST, None, hit.username, token(rng, r + 1), 0)  # store-overwrite
            return Step("store", both(store_req(new)), undo=restore)

        k = large_rounds if n >= LARGE else rounds
        log(f"one host, {n:,} credentials: timing {len(ONE_HOST_OPS)} operations × {k} rounds")
        samples = time_steps(runner, {name: h.argv for name, h in helpers.items()}, ONE_HOST_OPS, k,
                             step, f"one host at {n:,}")
        out["sizes"].append({"size": n, "rounds": k, "ops": summarize(samples)})
        shutil.rmtree(d, ignore_errors=True)
    out["growth"] = growth(out["sizes"], "ops")
    return out


# --- import --------------------------------------------------------------------------------

def import_section(binary: str, root: str, runner: Runner, sizes: list[int], rounds: int,
                   rng: random.Random, now: int) -> dict:
    """`import FILE` of a git-credential-store file into an absent pat file (the file is
    removed before each run, untimed); the sizes alternate round by round."""
    d = private_dir(root, "import")
    runs = {}
    for n in sizes:
        log(f"import, {n:,} lines: writing the git-credential-store file")
        creds, _ = generate(n, rng, now)
        src = os.path.join(d, f"git-credentials-{n}")
        write_private(src, b"".join(store_line(c) for c in
                                    sorted(creds, key=lambda c: c.stored_ns, reverse=True)))
        target = os.path.join(private_dir(d, f"pat-{n}"), "credentials")
        runs[n] = (Helper("pat", [binary, "--backend=file", f"--file={target}"], target, HEADER),
                   src, len({(c.host, c.path, c.username) for c in creds}))

    def one(n: int) -> int:
        h, src, expected = runs[n]
        if os.path.lexists(h.file):
            os.remove(h.file)
        res = runner.run(h.argv("import") + [src], b"")
        check_run(res.code == 0 and not res.err and b" imported (" in res.out, "pat",
                  f"import of {n:,} lines failed", res)
        got = h.count_entries()
        check_run(got == expected, "pat", f"import of {n:,} lines stored {got:,} credentials, "
                  f"not {expected:,}", res)
        return res.ns

    for n in sizes:  # warm-up, untimed
        one(n)
    log(f"import: timing {', '.join(f'{n:,}' for n in sizes)} lines × {rounds} rounds")
    samples: dict[int, list[int]] = {n: [] for n in sizes}
    for r in range(rounds):
        for n in (sizes if r % 2 == 0 else sizes[::-1]):
            samples[n].append(one(n))
    for h, _, _ in runs.values():
        if os.path.lexists(h.file):
            os.remove(h.file)
    blocks = [{"size": n, "rounds": rounds, "credentials": runs[n][2],
               "median_ms": ms(statistics.median(samples[n])), "ns": samples[n]} for n in sizes]
    return {"against": None, "sizes": blocks,
            "growth": [{"from": a["size"], "to": b["size"], "pat": b["median_ms"] / a["median_ms"]}
                       for a, b in zip(blocks, blocks[1:])]}


# --- The memory backend against git-credential-cache --------------------------------------------

def key_quota() -> dict | None:
    """The kernel's key quota of our uid: keys and bytes in use and their limits."""
    uid = os.geteuid()
    prefix = "root_" if uid == 0 else ""
    try:
        with open(f"/proc/sys/kernel/keys/{prefix}maxkeys") as f:
            max_keys = int(f.read())
        with open(f"/proc/sys/kernel/keys/{prefix}maxbytes") as f:
            max_bytes = int(f.read())
        keys = used = 0
        with open("/proc/key-users") as f:
            for line in f:
                parts = line.split()
                if len(parts) >= 5 and parts[0].rstrip(":") == str(uid):
                    keys, used = int(parts[3].split("/")[0]), int(parts[4].split("/")[0])
    except (OSError, ValueError, IndexError):
        return None
    return {"uid": uid, "keys": keys, "max_keys": max_keys, "bytes": used, "max_bytes": max_bytes,
            "limits": f"/proc/sys/kernel/keys/{prefix}maxkeys, {prefix}maxbytes"}


def tagged_keys(tag: str) -> list[tuple[int, str]] | None:
    """(serial, description) of every live `user` key in /proc/keys whose description holds
    tag: the keys this run made. None when /proc/keys cannot be read."""
    try:
        with open("/proc/keys") as f:
            lines = f.readlines()
    except OSError:
        return None
    out = []
    for line in lines:
        fields = line.split(None, 8)
        if len(fields) < 9 or fields[7] != "user" or tag not in fields[8]:
            continue
        if any(flag in fields[1] for flag in "RDi"):  # revoked, dead, invalidated: going away
            continue
        out.append((int(fields[0], 16), fields[8].rsplit(": ", 1)[0].strip()))
    return out


def sweep_keys(tag: str, binary: str, runner: Runner, hosts: set[str]) -> dict:
    """Removes every key of this run: with the helper's own `remove` for each host (all users'
    host-wide credentials), then `keyctl unlink` for whatever is left."""
    found = tagged_keys(tag)
    if found is not None:
        hosts = {desc[len(KEY_PREFIX):].split(" ", 1)[0].split("://", 1)[-1]
                 for _, desc in found if desc.startswith(KEY_PREFIX)}
    removed = 0
    for host in sorted(hosts):
        res = runner.run([binary, "--backend", "memory", "remove", f"https://{host}"], b"")
        if res.code == 0:
            removed += sum(1 for line in res.out.decode(errors="replace").splitlines()
                           if line.startswith("removed "))
    left = tagged_keys(tag)
    unlinked = 0
    if left and shutil.which("keyctl"):
        for serial, _ in left:
            if subprocess.run(["keyctl", "unlink", str(serial), "@u"], capture_output=True).returncode == 0:
                unlinked += 1
        left = tagged_keys(tag)
    return {"removed_with_helper": removed, "unlinked_with_keyctl": unlinked,
            "left": None if left is None else len(left)}


def memory_section(binary: str, root: str, runner: Runner, sizes: list[int], rounds: int,
                   rng: random.Random) -> dict:
    """get (hit, miss), store (new, identical re-store) and erase on `--backend=memory` (the
    kernel's user keyring) against git-credential-cache with a private socket."""
    out: dict = {"against": "git credential-cache", "available": False, "sizes": []}
    if not sys.platform.startswith("linux"):
        out["reason"] = "not Linux"
        return out
    cachebin = git_helper_path("git-credential-cache")
    if cachebin is None:
        out["reason"] = "git-credential-cache not found in git --exec-path"
        return out
    # Every host of this run carries the tag: the user keyring is shared by every process of
    # the uid, so only keys holding it are looked at, and all of them are removed at the end.
    tag = f"{os.urandom(5).hex()}.pat-bench"
    out["tag"] = tag
    hosts: set[str] = set()
    pat_argv = lambda verb: [binary, "--backend", "memory", verb]  # noqa: E731
    try:
        probe = Cred(f"probe.{tag}.example", None, "bench", "ghp_" + "M" * 36, 0)
        hosts.add(probe.host)
        res = runner.run(pat_argv("store"), store_req(probe))
        if res.code != 0:
            out["reason"] = "keyutils not permitted here: " + first_line(res.err)
            return out
        res = runner.run(pat_argv("erase"), store_req(probe))
        check_run(res.code == 0 and not res.err, "pat", "memory: erase of the probe failed", res)
        out["available"] = True
        out["quota_at_start"] = key_quota()
        for n in sizes:
            out["sizes"].append(memory_size(n, binary, cachebin, root, runner, rounds, rng, tag,
                                            hosts, pat_argv))
            out["sizes"][-1]["cleanup"] = sweep_keys(tag, binary, runner, hosts)
    finally:
        out["cleanup"] = sweep_keys(tag, binary, runner, hosts)
        out["quota_at_end"] = key_quota()
    return out


def memory_size(n: int, binary: str, cachebin: str, root: str, runner: Runner, rounds: int,
                rng: random.Random, tag: str, hosts: set[str], pat_argv) -> dict:
    users = ("git", "oauth2", "x-access-token")
    creds = [Cred(f"m{i:03d}.{tag}.example", None, users[i % 3] if i % 4 else f"dev{i}",
                  token(rng, i), 0) for i in range(n)]
    hosts.update(c.host for c in creds)
    quota = key_quota()
    if quota is not None:
        # Each key is charged its description (with its NUL) and its payload: the credential's
        # line with a real stored= time and the ttl_expires= the memory backend adds (48 bytes
        # cover both). The run adds at most two keys on top.
        per = [len(KEY_PREFIX) + len(f"https://{c.host} / @{c.username}") + 1 + len(pat_line(c)) + 48
               for c in creds]
        need_keys, need_bytes = n + 2, sum(per) + 2 * max(per)
        if (quota["keys"] + need_keys > quota["max_keys"]
                or quota["bytes"] + need_bytes > quota["max_bytes"]):
            return {"size": n, "skipped": (
                f"would exceed the kernel's key quota for uid {quota['uid']}: {quota['keys']} of "
                f"{quota['max_keys']} keys and {quota['bytes']:,} of {quota['max_bytes']:,} bytes in "
                f"use, about {need_keys} keys and {need_bytes:,} bytes needed ({quota['limits']})")}
    sock_dir = private_dir(root, "runtime", f"cache-{n}")
    sock = os.path.join(sock_dir, "socket")
    git_argv = lambda verb: [cachebin, f"--socket={sock}", f"--timeout={CACHE_TIMEOUT}", verb]  # noqa: E731
    argv = {"pat": pat_argv, "git": git_argv}
    try:
        log(f"memory backend, {n:,} credentials: populating both (starts git-credential-cache's daemon)")
        for c in creds:
            for name in argv:
                res = runner.run(argv[name]("store"), store_req(c))
                check_run(res.code == 0 and not res.err, name, f"memory at {n:,}: store failed", res)
        # What each helper's get serves, sent back as git's store after a successful fetch.
        identical: dict[str, list[bytes]] = {name: [] for name in argv}
        for name in argv:
            for c in creds:
                res = runner.run(argv[name]("get"), get_req(c))
                a = answer(res.out)
                # git-credential-cache announces `capability[]=authtype` unasked; like every
                # request here, the re-store carries no capability lines.
                check_run(res.code == 0 and not res.err and a.get("password") == c.password
                          and not set(a) - set(SERVED_FIELDS) - {"capability[]"}, name,
                          f"memory at {n:,}: get did not serve exactly the stored credential", res)
                identical[name].append(req(protocol=c.protocol, host=c.host,
                                           **{k: a[k] for k in SERVED_FIELDS if k in a}))
        keys = tagged_keys(tag)
        if keys is not None and len(keys) != n:
            raise BenchError(f"memory at {n:,}: {len(keys)} keys of this run in the keyring, not {n}")
        order = list(range(n))
        rng.shuffle(order)

        def step(op: str, r: int) -> Step:
            i = order[r % n]
            hit = creds[i]
            both = lambda data: {"pat": data, "git": data}  # noqa: E731
            if op == "get-hit":
                return Step("get", both(get_req(hit)), password=hit.password)
            if op == "get-miss":
                return Step("get", both(req(protocol="https", host=f"miss{r}.{tag}.example")),
                            empty=True)
            if op == "store-new":
                new = Cred(f"new{r}.{tag}.example", None, "bench", token(rng, r), 0)
                hosts.add(new.host)
                return Step("store", both(store_req(new)),
                            undo=lambda name: run_ok(runner, argv, name, "erase", store_req(new)))
            if op == "store-identical":
                return Step("store", {name: identical[name][i] for name in argv})
            return Step("erase", both(store_req(hit)),  # erase, then stored again untimed
                        undo=lambda name: run_ok(runner, argv, name, "store", store_req(hit)))

        log(f"memory backend, {n:,} credentials: timing {len(MEMORY_OPS)} operations × {rounds} rounds")
        samples = time_steps(runner, argv, MEMORY_OPS, rounds, step, f"memory at {n:,}")
        keys = tagged_keys(tag)
        return {"size": n, "rounds": rounds, "ops": summarize(samples),
                "keys_of_run_after": None if keys is None else len(keys), "quota_before": quota}
    finally:
        res = runner.run([cachebin, f"--socket={sock}", "exit"], b"")
        if res.code != 0:
            log(f"git credential-cache exit: {first_line(res.err)}")


def run_ok(runner: Runner, argv: dict, name: str, verb: str, stdin: bytes) -> None:
    res = runner.run(argv[name](verb), stdin)
    check_run(res.code == 0 and not res.err, name, f"{verb} (untimed, to restore the data) failed", res)


# --- Running them, rows, Markdown ------------------------------------------------------------

def run_more(args: argparse.Namespace, report: dict, binary: str, root: str, runner: Runner,
             sizes: list[int], rounds: int, large_rounds: int, now: int) -> None:
    one_sizes = tenfold(sizes) if args.one_host_sizes is None else args.one_host_sizes
    import_sizes = tenfold(sizes) if args.import_sizes is None else args.import_sizes
    import_rounds = args.import_rounds or (3 if args.quick else 10)
    memory_sizes = MEMORY_SIZES if args.memory_sizes is None else args.memory_sizes
    report["config"].update({"one_host_sizes": one_sizes, "import_sizes": import_sizes,
                             "import_rounds": import_rounds, "memory_sizes": memory_sizes})
    rng = random.Random(f"{args.seed}-more")  # the other sections' data stays as it was
    if one_sizes:
        t0 = time.monotonic()
        report["one_host"] = one_host(binary, root, runner, one_sizes, rounds, large_rounds, rng, now)
        report["one_host"]["elapsed_s"] = time.monotonic() - t0
    if import_sizes:
        t0 = time.monotonic()
        report["import"] = import_section(binary, root, runner, import_sizes, import_rounds, rng, now)
        report["import"]["elapsed_s"] = time.monotonic() - t0
    if memory_sizes:
        log("memory backend against git-credential-cache")
        t0 = time.monotonic()
        report["memory"] = memory_section(binary, root, runner, memory_sizes, rounds, rng)
        report["memory"]["elapsed_s"] = time.monotonic() - t0


def more_rows(report: dict) -> list[dict]:
    """The rows of these sections; each also names the command it is compared with."""
    rows = []

    def row(operation: str, size, pat: str = "", git: str = "", against: str = "",
            ratio: str = "", target: str = "", met: str = "") -> None:
        rows.append({"operation": operation, "size": size, "pat": pat, "store": git,
                     "against": against, "ratio": ratio, "target": target, "met": met})

    def growth_met(g: float, a: int, b: int) -> tuple[str, str]:
        if b != 10 * a:
            return "", ""
        return f"≤ {GROWTH_TARGET:.0f}×", "yes" if g <= GROWTH_TARGET else "**no**"

    oh = report.get("one_host")
    if oh:
        for block in oh["sizes"]:
            for op, s in block["ops"].items():
                row(f"one host: {MORE_LABEL[op]}", block["size"], fmt_ms(s["pat_median_ms"]),
                    fmt_ms(s["git_median_ms"]), oh["against"], fmt_ratio(s["ratio"]))
        for g in oh["growth"]:
            for op, v in g["ops"].items():
                row(f"one host: {MORE_LABEL[op]}, growth {g['from']:,} → {g['to']:,}", g["to"],
                    f"{v['pat']:.2f}×", f"{v['git']:.2f}×", oh["against"], "",
                    *growth_met(v["pat"], g["from"], g["to"]))
    imp = report.get("import")
    if imp:
        for block in imp["sizes"]:
            is_target = block["size"] == IMPORT_TARGET_SIZE
            med = block["median_ms"]
            row("import (git-credential-store file into an empty file store)", block["size"],
                f"{fmt_ms(med)} ({med / 1000:.3f} s)", "", "none: git has no import command", "",
                f"< {IMPORT_TARGET_S:.0f} s" if is_target else "",
                ("yes" if med < IMPORT_TARGET_S * 1000 else "**no**") if is_target else "")
        for g in imp["growth"]:
            row(f"import, growth {g['from']:,} → {g['to']:,} lines", g["to"], f"{g['pat']:.2f}×",
                "", "none", "", *growth_met(g["pat"], g["from"], g["to"]))
    mem = report.get("memory")
    if mem:
        if not mem["available"]:
            row(f"memory backend: n/a ({mem['reason'].replace('|', '/')})", "")
        for block in mem["sizes"]:
            if "skipped" in block:
                row(f"memory backend: n/a ({block['skipped']})", block["size"])
                continue
            for op, s in block["ops"].items():
                row(f"memory backend: {MORE_LABEL[op]}", block["size"], fmt_ms(s["pat_median_ms"]),
                    fmt_ms(s["git_median_ms"]), mem["against"], fmt_ratio(s["ratio"]))
    return rows


def more_markdown(report: dict) -> list[str]:
    rows = more_rows(report)
    if not rows:
        return []
    lines = ["", "### One host, import, memory backend", "",
             "| operation | size | pat median ms | git median ms | git command | ratio | target | met? |",
             "|---|--:|--:|--:|---|--:|---|---|"]
    for r in rows:
        size = f"{r['size']:,}" if isinstance(r["size"], int) else r["size"]
        lines.append(f"| {r['operation']} | {size} | {r['pat']} | {r['store']} | {r['against']} "
                     f"| {r['ratio']} | {r['target']} | {r['met']} |")
    notes = []
    oh = report.get("one_host")
    if oh:
        notes.append(f"- one host: every credential host-wide on `https://{oh['host']}`, one per "
                     "username; requests carry `username` (as git sends it from a URL with a "
                     "user), misses name a username stored nowhere; growth = median at the larger "
                     "size / median at the smaller (pat column: pat, git column: git-credential-store)")
    imp = report.get("import")
    if imp:
        notes.append("- import: `<bin> --backend=file --file=X import FILE`, X removed before each "
                     "run (untimed); every run's result is checked by counting X's credentials; "
                     f"{imp['sizes'][0]['rounds']} rounds, sizes alternating")
    mem = report.get("memory")
    if mem and mem["available"]:
        q = mem.get("quota_at_start")
        c = mem.get("cleanup", {})
        left = c.get("left")
        notes.append(
            "- memory backend: pat `--backend memory` (the kernel's user keyring) against "
            f"`git credential-cache --socket=<private> --timeout={CACHE_TIMEOUT}` (daemon started "
            "while populating, `exit` after each size); hosts tagged `*." + mem["tag"] + ".example`"
            + (f"; uid {q['uid']}'s key quota at start: {q['keys']} of {q['max_keys']} keys, "
               f"{q['bytes']:,} of {q['max_bytes']:,} bytes (pat's get describes every key in @u)"
               if q else "")
            + "; keys of this run left after the cleanup: "
            + ("unknown (/proc/keys unreadable)" if left is None else str(left)))
    took = [f"{name} {report[key]['elapsed_s']:.0f} s" for key, name in
            (("one_host", "one host"), ("import", "import"), ("memory", "memory backend"))
            if report.get(key) and "elapsed_s" in report[key]]
    if took:
        notes.append("- time taken by these sections: " + ", ".join(took))
    if notes:
        lines += ["", *notes]
    return lines


# ---------------------------------------------------------------------------------------------

def parse_sizes(text: str) -> list[int]:
    out = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        mult = 1
        if part[-1] in "kK":
            part, mult = part[:-1], 1000
        try:
            value = int(part.replace("_", "")) * mult
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a size: {part!r}") from None
        if value < 1:
            raise argparse.ArgumentTypeError("sizes start at 1")
        out.append(value)
    return sorted(set(out))


def build_helper() -> str:
    log("building: cargo build --release --locked")
    r = subprocess.run(["cargo", "build", "--release", "--locked"], cwd=REPO_ROOT)
    if r.returncode != 0:
        raise BenchError("cargo build failed")
    meta = subprocess.run(["cargo", "metadata", "--format-version", "1", "--no-deps"],
                          cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    target = json.loads(meta.stdout)["target_directory"]
    return os.path.join(target, "release", "git-credential-pat")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bin", help="helper binary (default: cargo build --release --locked)")
    p.add_argument("--sizes", type=parse_sizes, help="stored credentials, e.g. 1,1k,10k,100k "
                   "(default 1,1000,10000,100000)")
    p.add_argument("--rounds", type=int, help="rounds per operation and size (default 30)")
    p.add_argument("--large-rounds", type=int, default=20,
                   help=f"rounds at sizes >= {LARGE:,} (default 20, at most --rounds)")
    p.add_argument("--conc-sizes", type=parse_sizes,
                   help="sizes for the concurrent-store test (default 100000 if among --sizes, "
                   "else the largest size)")
    p.add_argument("--conc-k", default="8,32", help="concurrent processes (default 8,32)")
    p.add_argument("--conc-trials", type=int, help="trials per K (default 5)")
    p.add_argument("--rss-size", type=parse_sizes,
                   help="size for the peak-RSS and subprocess checks (default 10000, or the "
                   "largest size when all are smaller)")
    p.add_argument("--quick", action="store_true", help="smoke test: sizes 1,1000, 5 rounds, "
                   "one concurrency trial at 1000")
    p.add_argument("--json", action="store_true", help="print JSON instead of Markdown")
    p.add_argument("--json-file", metavar="PATH", help="also write the JSON report to PATH")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--tmpdir", help="where the temporary world goes (default: system temp dir)")
    p.add_argument("--keep", action="store_true", help="keep the temporary world")
    add_more_options(p)
    p.add_argument("--keychain-rounds", type=int,
                   help="rounds of the keychain rows (default: --rounds)")
    p.add_argument("--libsecret", metavar="PATH", help="a built git-credential-libsecret")
    p.add_argument("--libsecret-src", metavar="FILE",
                   help="git's contrib/credential/libsecret/git-credential-libsecret.c "
                   "(default: downloaded for the running git's version)")
    p.add_argument("--cache-dir", metavar="DIR",
                   help="where the built libsecret helper is kept (default: <target>/bench-cache)")
    p.add_argument("--only-keychain", action="store_true",
                   help="only the keychain rows (no file-backend sizes or other sections)")
    args = p.parse_args()

    sizes = args.sizes or ([1, 1000] if args.quick else [1, 1000, 10_000, LARGE])
    rounds = args.rounds or (5 if args.quick else 30)
    large_rounds = min(rounds, args.large_rounds)
    conc_sizes = args.conc_sizes or ([LARGE] if LARGE in sizes else [max(sizes)])
    conc_k = parse_sizes(args.conc_k)
    trials = args.conc_trials or (1 if args.quick else 5)
    rss_size = (args.rss_size or [RSS_TARGET_SIZE if max(sizes) >= RSS_TARGET_SIZE else max(sizes)])[0]

    os.umask(0o077)
    started = time.monotonic()
    built = args.bin is None
    binary = build_helper() if built else os.path.abspath(args.bin)
    if not os.access(binary, os.X_OK):
        raise BenchError(f"helper binary not executable: {binary}")

    root = tempfile.mkdtemp(prefix="pat-bench-", dir=args.tmpdir)
    os.chmod(root, 0o700)
    try:
        env = make_world(root)
        scratch = os.path.join(root, "scratch")
        os.makedirs(scratch, mode=0o700)
        runner = Runner(env, scratch)
        helpers = [pat_helper(binary, root), store_helper(root)]
        rng = random.Random(args.seed)
        now = int(time.time())
        report = {"machine": machine_facts(binary, built),
                  "config": {"sizes": sizes, "rounds": rounds, "large_rounds": large_rounds,
                             "rounds_desc": f"{rounds} rounds" + (
                                 f" ({large_rounds} at ≥ {LARGE:,})"
                                 if any(s >= LARGE for s in sizes) and large_rounds != rounds else ""),
                             "conc_sizes": conc_sizes, "conc_k": conc_k, "conc_trials": trials,
                             "rss_size": rss_size, "seed": args.seed},
                  "sizes": [], "concurrency": []}
        every_size = set() if args.only_keychain else set(sizes) | set(conc_sizes) | {rss_size}
        for size in sorted(every_size):
            log(f"size {size:,}: populating")
            ds = populate(size, helpers, rng, now)
            sanity(ds, helpers, runner)
            if size in sizes:
                n = large_rounds if size >= LARGE else rounds
                log(f"size {size:,}: timing {len(OPS)} operations × {n} rounds")
                identical, untouched = identical_stores(ds, helpers, runner)
                samples = time_ops(ds, helpers, runner, n, rng, identical)
                ops = {op: {"pat_median_ms": ms(statistics.median(s["pat"])),
                            "store_median_ms": ms(statistics.median(s["store"])),
                            "median_of_ratios": statistics.median(
                                a / b for a, b in zip(s["pat"], s["store"])),
                            "pat_ns": s["pat"], "store_ns": s["store"]}
                       for op, s in samples.items()}
                same, ref = ops["store-identical"], ops[IDENTICAL_VS]
                same["pat_vs_get_hit"] = same["pat_median_ms"] / ref["pat_median_ms"]
                same["pat_vs_get_hit_median_of_ratios"] = statistics.median(
                    a / b for a, b in zip(same["pat_ns"], ref["pat_ns"]))
                report["sizes"].append({"size": size, "rounds": n, "ops": ops,
                                        "identical_store_file": untouched})
            if size == rss_size:
                log(f"size {size:,}: peak RSS and subprocess check")
                report["rss"] = {"size": size, **peak_rss(ds, helpers, runner)}
                report["spawn"] = {"size": size, **spawn_check(ds, helpers, runner, scratch)}
            if size in conc_sizes:
                log(f"size {size:,}: concurrent stores, K = {', '.join(map(str, conc_k))}")
                report["concurrency"] += concurrency(size, conc_k, trials, helpers, runner)
        if not args.only_keychain:
            run_more(args, report, binary, root, runner, sizes, rounds, large_rounds, now)
        log("keychain backend")
        cache_dir = args.cache_dir or os.path.join(os.path.dirname(os.path.dirname(binary)),
                                                   "bench-cache")
        report["keychain"] = keychain_section(binary, runner, args.keychain_rounds or rounds,
                                              scratch, args, cache_dir)
        report["elapsed_s"] = time.monotonic() - started
    finally:
        if args.keep:
            log(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)

    report["table"] = build_rows(report)
    report["table"] += more_rows(report)
    report["keychain_table"] = keychain_rows(report)
    if args.json_file:
        with open(args.json_file, "w") as f:
            json.dump(report, f, indent=1)
    if args.json:
        print(json.dumps(report, indent=1))
    else:
        print(markdown(report), end="")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BenchError as e:
        log(f"bench: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
