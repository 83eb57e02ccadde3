"""Differential tests: every case of the corpus in tests/diff/cases (and
its subdirectories) runs against a real redis-server 7.0 and against
lunakv, and the raw reply bytes must be identical.

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

Each case runs on a fresh connection after FLUSHALL and SCRIPT FLUSH, and
its body runs with EVAL.

Function cases (Redis Functions) carry a ``-- function:`` directive: the
body is a library's code, sent with FUNCTION LOAD (the directive's value,
e.g. ``-- function: REPLACE``, gives LOAD's options); a body line
``-- load: [options]`` ends that library and starts another one, loaded
next. Then every command of ``-- run:`` is sent, in order::

    --- fcall with keys
    -- function:
    -- run: FCALL f 1 k a ;; FUNCTION LIST WITHCODE
    #!lua name=lib
    redis.register_function('f', function(keys, args) return {keys[1], args[1]} end)

The replies of every load and every run command are compared (a list of
raw replies; ``expect:`` is then their concatenation). An empty body loads
nothing (for cases that only run commands). A function case first sends
FUNCTION FLUSH as well. ``run`` may be repeated (the lists add up). In
``run`` commands, tokens are shell-split (``shlex``, which itself takes one
level of backslashes in double quotes and bare words, none in single
quotes), then backslash escapes are decoded (``\\n``, ``\\xNN``,
``\\\\``; an unknown escape is an error), so library code and binary
payloads can be given inline: ``"a\\\\nb"`` or ``'a\\nb'``. The token ``$DUMP``
stands for the payload of the case's latest FUNCTION DUMP reply. A command
prefixed with ``@sorted`` is compared after parsing, with every array whose
elements are all arrays or maps sorted (FUNCTION LIST lists libraries, and
a library's functions, in hash-table order, which Redis randomises per
process): use it only where order is not deterministic. A command
prefixed with ``@unchecked`` is sent but only its reply type is compared:
it is meant for FUNCTION DUMP of libraries whose code Redis LZF-compresses
(lunakv writes the code uncompressed, so those payload bytes differ; the
payload still feeds ``$DUMP``, so the round trip is checked).
"""

from __future__ import annotations

import codecs
import shlex
import warnings
from pathlib import Path

import pytest

from conftest import HOST, IS_REDIS, RespConn, encode_command, reference_redis

CASES_DIR = Path(__file__).resolve().parents[1] / "diff" / "cases"


def parse_cases():
    cases = []
    for f in sorted(CASES_DIR.rglob("*.lua")):
        stem = f.relative_to(CASES_DIR).with_suffix("").as_posix()
        cur = None
        for line in f.read_text().splitlines():
            if line.startswith("--- "):
                if cur:
                    cases.append(cur)
                cur = {"file": stem, "name": line[4:].strip(), "keys": [], "args": [],
                       "resp": [2, 3], "setup": [], "expect": None, "why": None, "body": [],
                       "function": None, "run": []}
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
                if key == "function":
                    cur["function"] = shlex.split(val)
                    continue
                if key == "run":
                    cur["run"] += [parse_run(c) for c in val.split(";;") if c.strip()]
                    continue
            cur["body"].append(line)
        if cur:
            cases.append(cur)
    out = []
    for c in cases:
        if c["function"] is not None:
            c["libraries"] = split_libraries(c["function"], c["body"])
        elif c["run"]:
            raise ValueError(f"{c['file']}/{c['name']}: 'run' needs 'function'")
        c["body"] = "\n".join(c["body"]).strip("\n")
        for resp in c["resp"]:
            out.append(pytest.param(c, resp, id=f"{c['file']}/{c['name']}/resp{resp}"))
    return out


def parse_run(text: str) -> dict:
    """One ``run`` command: shell-split tokens with backslash escapes decoded."""
    tokens = shlex.split(text)
    mode = None
    if tokens and tokens[0] in ("@sorted", "@unchecked"):
        mode = tokens.pop(0)[1:]
    with warnings.catch_warnings():
        # An unknown escape such as "\\*" is a corpus typo: write "\\\\*".
        warnings.simplefilter("error")
        args = [t if t == "$DUMP" else codecs.escape_decode(t.encode())[0] for t in tokens]
    return {"args": args, "mode": mode, "text": " ".join(tokens)[:80]}


def split_libraries(options: list, lines: list) -> list:
    """The libraries of a function case: ``(load options, code)`` pairs."""
    libs, opts, cur = [], options, []
    for line in lines:
        if line.startswith("-- load:"):
            libs.append((opts, cur))
            opts, cur = shlex.split(line[len("-- load:"):]), []
            continue
        cur.append(line)
    libs.append((opts, cur))
    out = []
    for opts, code in libs:
        code = "\n".join(code).strip("\n")
        if code or opts:
            out.append((opts, code))
    return out


CASES = parse_cases()
FUNCTION_CASES = {(p.values[0]["file"], p.values[0]["name"]) for p in CASES if p.values[0]["function"] is not None}


def canonical(v):
    """A parsed reply with every array of arrays/maps sorted (see ``@sorted``)."""
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    if isinstance(v, list):
        items = [canonical(x) for x in v]
        if items and all(isinstance(x, (list, dict)) for x in items):
            items.sort(key=repr)
        return type(v)(items) if type(v) is not list else items
    return v


def parse_raw(raw: bytes):
    """Parses one raw reply with the harness's RESP parser."""
    c = RespConn.__new__(RespConn)
    c.buf = raw
    c.sock = None
    return c.read_reply()


@pytest.fixture(scope="module")
def reference():
    """A real redis-server 7.0 on a free port (the reference)."""
    for port in reference_redis("lunakv-diff-redis-"):
        if port is None:
            pytest.fail("could not start the reference redis-server")
        yield port


def run_case(port: int, case: dict, resp: int) -> bytes:
    c = RespConn(HOST, port, timeout=10)
    try:
        if resp == 3:
            c.send(encode_command("HELLO", "3"))
            c.read_reply()
        cleanup = [["FLUSHALL"], ["SCRIPT", "FLUSH"]]
        if case["function"] is not None:
            cleanup.append(["FUNCTION", "FLUSH"])
        for cmd in cleanup:
            c.send(encode_command(*cmd))
            c.read_reply()
        for cmd in case["setup"]:
            c.send(encode_command(*cmd))
            reply = c.read_raw_reply()
            assert not reply.startswith(b"-"), f"setup {cmd} failed: {reply!r}"
        if case["function"] is not None:
            return run_function_case(c, case)
        keys = case["keys"]
        c.send(encode_command("EVAL", case["body"], str(len(keys)), *keys, *case["args"]))
        return c.read_raw_reply()
    finally:
        c.sock.close()


def run_function_case(c: RespConn, case: dict) -> list:
    """Loads the case's libraries, runs its commands: ``[(label, reply)]``."""
    out = []
    for opts, code in case["libraries"]:
        c.send(encode_command("FUNCTION", "LOAD", *opts, code))
        out.append((" ".join(["FUNCTION LOAD", *opts, code.split("\n")[0]]), c.read_raw_reply()))
    dump = None
    for cmd in case["run"]:
        args = [dump if a == "$DUMP" else a for a in cmd["args"]]
        assert None not in args, f"{cmd['text']}: $DUMP before any FUNCTION DUMP"
        c.send(encode_command(*args))
        raw = c.read_raw_reply()
        if [a.upper() for a in args[:2]] == [b"FUNCTION", b"DUMP"] and raw.startswith(b"$"):
            dump = parse_raw(raw)
        if cmd["mode"] == "sorted":
            raw = repr(canonical(parse_raw(raw)))
        elif cmd["mode"] == "unchecked":
            raw = raw[:1] + b"<unchecked>"
        out.append((cmd["text"], raw))
    return out


def test_corpus_is_big_enough():
    assert len({(p.values[0]["file"], p.values[0]["name"]) for p in CASES}) >= 300
    assert len(FUNCTION_CASES) >= 70


@pytest.mark.parametrize("case,resp", CASES)
def test_case(server, reference, case, resp):
    if case["expect"] is not None:
        assert case["why"], "a case with 'expect' must say why"
        if IS_REDIS:
            # Before sending anything: some of these cases crash Redis.
            pytest.skip("Redis is known to differ here: " + case["why"])
    ours = run_case(server.port, case, resp)
    if case["expect"] is not None:
        if isinstance(ours, list):
            ours = b"".join(r if isinstance(r, bytes) else r.encode() for _, r in ours)
        assert ours == case["expect"]
        return
    theirs = run_case(reference, case, resp)
    assert ours == theirs
