"""Differential tests: every case of the corpus in tests/diff/cases runs
against a real redis-server 7.0 and against lunakv, and the raw reply bytes
must be identical.

Corpus format (``*.lua`` files): a case starts with a line ``--- <name>``,
optionally followed by directive lines, then the Lua body up to the next
``--- `` line::

    --- KEYS and ARGV
    -- keys: k1 k2
    -- args: a b
    -- resp: 2          (client protocol(s); default "2 3": the case runs twice)
    -- setup: SET k1 10 ;; SET k2 20     (commands run first, ';;'-separated)
    -- expect: -ERR ...  (Redis is known to be broken here: compare lunakv's
                          raw reply with this text instead, and never send
                          the case to Redis)
    -- why: ...          (required with expect: why lunakv differs)
    return {KEYS[1], ARGV[2]}

Each case runs on a fresh connection after FLUSHALL and SCRIPT FLUSH.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import HOST, IS_REDIS, RespConn, encode_command, free_port

CASES_DIR = Path(__file__).resolve().parents[1] / "diff" / "cases"


def parse_cases():
    cases = []
    for f in sorted(CASES_DIR.glob("*.lua")):
        cur = None
        for line in f.read_text().splitlines():
            if line.startswith("--- "):
                if cur:
                    cases.append(cur)
                cur = {"file": f.stem, "name": line[4:].strip(), "keys": [], "args": [],
                       "resp": [2, 3], "setup": [], "expect": None, "why": None, "body": []}
                continue
            if cur is None:
                continue
            if not cur["body"] and line.startswith("-- ") and ":" in line:
                key, _, val = line[3:].partition(":")
                key, val = key.strip(), val.strip()
                if key == "keys":
                    cur["keys"] = shlex.split(val)
                    continue
                if key == "args":
                    cur["args"] = shlex.split(val)
                    continue
                if key == "resp":
                    cur["resp"] = [int(x) for x in val.split()]
                    continue
                if key == "setup":
                    cur["setup"] = [shlex.split(c) for c in val.split(";;") if c.strip()]
                    continue
                if key == "expect":
                    cur["expect"] = val.encode().decode("unicode_escape").encode("latin-1")
                    continue
                if key == "why":
                    cur["why"] = val
                    continue
            cur["body"].append(line)
        if cur:
            cases.append(cur)
    out = []
    for c in cases:
        c["body"] = "\n".join(c["body"]).strip("\n")
        for resp in c["resp"]:
            out.append(pytest.param(c, resp, id=f"{c['file']}/{c['name']}/resp{resp}"))
    return out


CASES = parse_cases()


@pytest.fixture(scope="module")
def reference():
    """A real redis-server 7.0 on a free port (the reference)."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    d = tempfile.mkdtemp(prefix="lunakv-diff-redis-")
    for _ in range(5):
        port = free_port()
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no", "--dir", d],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                c = RespConn(HOST, port, timeout=2)
                c.send(encode_command("PING"))
                if c.read_reply() == "PONG":
                    c.sock.close()
                    yield port
                    proc.terminate()
                    proc.wait(timeout=10)
                    shutil.rmtree(d, ignore_errors=True)
                    return
            except OSError:
                time.sleep(0.05)
        proc.kill()
    pytest.fail("could not start the reference redis-server")


def run_case(port: int, case: dict, resp: int) -> bytes:
    c = RespConn(HOST, port, timeout=10)
    try:
        if resp == 3:
            c.send(encode_command("HELLO", "3"))
            c.read_reply()
        for cmd in (["FLUSHALL"], ["SCRIPT", "FLUSH"]):
            c.send(encode_command(*cmd))
            c.read_reply()
        for cmd in case["setup"]:
            c.send(encode_command(*cmd))
            reply = c.read_raw_reply()
            assert not reply.startswith(b"-"), f"setup {cmd} failed: {reply!r}"
        keys = case["keys"]
        c.send(encode_command("EVAL", case["body"], str(len(keys)), *keys, *case["args"]))
        return c.read_raw_reply()
    finally:
        c.sock.close()


def test_corpus_is_big_enough():
    assert len({(p.values[0]["file"], p.values[0]["name"]) for p in CASES}) >= 300


@pytest.mark.parametrize("case,resp", CASES)
def test_case(server, reference, case, resp):
    ours = run_case(server.port, case, resp)
    if case["expect"] is not None:
        assert case["why"], "a case with 'expect' must say why"
        if IS_REDIS:
            pytest.skip("Redis is known to differ here: " + case["why"])
        assert ours == case["expect"]
        return
    theirs = run_case(reference, case, resp)
    assert ours == theirs
