"""A script that runs past busy-reply-threshold: what other clients get.

Redis 7.0 keeps serving other clients from inside a long script: commands
flagged allow-busy (MULTI, DISCARD, WATCH, AUTH, HELLO, SCRIPT KILL,
FUNCTION KILL/STATS, SHUTDOWN NOSAVE...) run, everything else gets -BUSY,
and a -BUSY inside an open transaction makes its EXEC fail.
"""

from __future__ import annotations

import time

from conftest import RespConn, encode_command

BUSY_SCRIPT = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."


def start_busy(server, *cmd) -> RespConn:
    """Sends a never-ending script on its own connection and waits until
    other clients are told the server is busy."""
    c = server.conn()
    c.send(encode_command(*cmd))
    probe = server.conn()
    deadline = time.time() + 10
    while time.time() < deadline:
        reply = probe.call("PING")
        if isinstance(reply, str) and reply.startswith("BUSY"):
            probe.close()
            return c
        time.sleep(0.02)
    raise AssertionError("server never reported BUSY")


def test_busy_script_reject_kill_and_transaction(server):
    admin = server.conn()
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "50") == "OK"
    assert admin.call("SET", "xx", "1") == "OK"
    runner = start_busy(server, "EVAL", "while true do end", "0")

    other = server.conn()
    assert other.call("GET", "xx") == BUSY_SCRIPT
    # MULTI is allowed while busy; a rejected command flags the transaction.
    assert other.call("MULTI") == "OK"
    assert other.call("INCR", "xx") == BUSY_SCRIPT
    # FUNCTION KILL does not kill an EVAL script.
    assert other.call("FUNCTION", "KILL") == BUSY_SCRIPT
    assert admin.call("SCRIPT", "KILL") == "OK"
    assert runner.read_reply().startswith("ERR Script killed by user with SCRIPT KILL")
    assert other.call("INCR", "xx") == "QUEUED"
    assert other.call("EXEC").startswith("EXECABORT Transaction discarded because of previous errors")
    assert other.call("PING", "asdf") == b"asdf"
    assert admin.call("GET", "xx") == b"1"
    assert admin.call("SCRIPT", "KILL").startswith("NOTBUSY")


def test_exec_during_busy_script_aborts(server):
    admin = server.conn()
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "50") == "OK"
    assert admin.call("SET", "xx", "1") == "OK"
    other = server.conn()
    assert other.call("MULTI") == "OK"
    assert other.call("INCR", "xx") == "QUEUED"
    runner = start_busy(server, "EVAL", "while true do end", "0")
    assert other.call("EXEC") == "EXECABORT Transaction discarded because of: " + BUSY_SCRIPT
    assert admin.call("SCRIPT", "KILL") == "OK"
    runner.read_reply()
    # The transaction is gone: no half of it ran, the client is out of MULTI.
    assert admin.call("GET", "xx") == b"1"
    assert other.call("PING", "asdf") == b"asdf"


def test_busy_function_stats_and_kill(server):
    admin = server.conn()
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "50") == "OK"
    lib = "#!lua name=busylib\nredis.register_function('spin', function() while true do end end)"
    assert admin.call("FUNCTION", "LOAD", "REPLACE", lib) == b"busylib"
    runner = start_busy(server, "FCALL", "spin", "0")
    assert admin.call("SET", "k", "v") == BUSY_FUNCTION
    assert admin.call("SCRIPT", "KILL") == BUSY_FUNCTION
    stats = admin.call("FUNCTION", "STATS")
    assert stats[0] == b"running_script"
    assert stats[1][1] == b"spin"
    assert admin.call("FUNCTION", "KILL") == "OK"
    assert runner.read_reply().startswith("ERR Script killed by user with")
    assert admin.call("FUNCTION", "DELETE", "busylib") == "OK"


def test_script_that_wrote_is_unkillable(server):
    admin = server.conn()
    assert admin.call("CONFIG", "SET", "busy-reply-threshold", "50") == "OK"
    # Ends on its own after ~400 ms (or a bounded loop), having written first.
    script = (
        "redis.call('SET', 'w', '1') local t = redis.call('TIME') "
        "local s = t[1] * 1000000 + t[2] "
        "for i = 1, 100000000 do local n = redis.call('TIME') "
        "if n[1] * 1000000 + n[2] - s > 400000 then break end end return 'done'"
    )
    runner = start_busy(server, "EVAL", script, "0")
    assert admin.call("SCRIPT", "KILL").startswith("UNKILLABLE")
    assert runner.read_reply() == b"done"
    assert admin.call("GET", "w") == b"1"
