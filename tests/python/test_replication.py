"""The master side of replication, seen from outside: the stream a
connection receives after SYNC / PSYNC (what Redis's own tests read with
`attach_to_replication_stream`), INFO replication / ROLE, MONITOR, and a
real `redis-server` replica following this server.

Every expectation here also holds against Redis 7.0.15
(`LUNAKV_TEST_TARGET=redis`).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import HOST, IS_REDIS, RespConn, ServerProcess, encode_command, free_port


@pytest.fixture
def debug_server():
    """A dedicated server that accepts DEBUG."""
    srv = ServerProcess(["--enable-debug-command", "yes"]).start()
    yield srv
    srv.stop()


class Stream:
    """A connection attached to the replication stream (like the Tcl
    helper): sends SYNC, skips the RDB payload, then reads commands."""

    def __init__(self, server, psync=False):
        admin = server.conn()
        assert admin.call("CONFIG", "SET", "repl-ping-replica-period", "3600") == "OK"
        admin.close()
        self.c = RespConn(server.host, server.port)
        if psync:
            self.c.send(encode_command("PSYNC", "?", "-1"))
            line = self.c.read_line()
            m = re.fullmatch(rb"\+FULLRESYNC ([0-9a-f]{40}) (\d+)", line)
            assert m, line
            self.replid, self.offset = m.group(1).decode(), int(m.group(2))
        else:
            self.c.send(b"SYNC\r\n")
        while True:
            line = self.c.read_line()
            if line:  # newlines are keep-alives
                break
        assert line.startswith(b"$"), line
        self.rdb = self.c.read_exact(int(line[1:]))
        assert self.rdb.startswith(b"REDIS"), self.rdb[:20]

    def read(self, timeout=2.0):
        """The next propagated command, name lower-cased (as the Tcl helper)."""
        self.c.sock.settimeout(timeout)
        cmd = self.c.read_reply()
        assert isinstance(cmd, list), cmd
        args = [a.decode() for a in cmd]
        args[0] = args[0].lower()
        return args

    def expect(self, *patterns):
        for p in patterns:
            got = " ".join(self.read())
            assert re.fullmatch(p, got), f"expected {p!r}, got {got!r}"

    def close(self):
        self.c.close()


def test_sync_stream_plain_writes_and_select(server):
    s = Stream(server)
    c = server.conn()
    c.call("SET", "foo", "bar")
    c.call("GET", "foo")  # read-only: not propagated
    c.call("DEL", "nosuchkey")  # no change: not propagated
    c.call("SELECT", "3")
    c.call("INCR", "n")
    c.call("SELECT", "0")
    c.call("SET", "x", "1")
    s.expect(r"select 0", r"set foo bar", r"select 3", r"incr n", r"select 0", r"set x 1")
    s.close()


def test_relative_expiries_are_propagated_as_absolute(server):
    s = Stream(server)
    c = server.conn()
    c.call("SET", "k", "v", "EX", "100")
    c.call("SETEX", "k", "100", "v")
    c.call("EXPIRE", "k", "200")
    c.call("GETEX", "k", "PX", "300000")
    c.call("GETEX", "k", "PERSIST")
    c.call("EXPIREAT", "k", "1")  # in the past: deletes
    c.call("INCRBYFLOAT", "f", "1.5")
    s.expect(
        r"select \d+",
        r"set k v PXAT \d{13}",
        r"set k v PXAT \d{13}",
        r"pexpireat k \d{13}",
        r"pexpireat k \d{13}",
        r"persist k",
        r"del k",
        r"set f 1.5 KEEPTTL",
    )
    s.close()


def test_transactions_and_scripts(server):
    s = Stream(server)
    c = server.conn()
    c.call("MULTI")
    c.call("SET", "a", "1")
    c.call("EXEC")  # one write: no MULTI/EXEC around it
    c.call("MULTI")
    c.call("SET", "a", "2")
    c.call("GET", "a")
    c.call("INCR", "b")
    c.call("EXEC")
    c.call("MULTI")
    c.call("GET", "a")
    c.call("EXEC")  # read-only: nothing
    c.call("EVAL", "redis.call('set', KEYS[1], 'v'); redis.call('incr', 'n')", "1", "s")
    c.call("SADD", "set", "m")
    c.call("EVAL", "return redis.call('spop', 'set')", "0")
    c.call("PUBLISH", "ch", "msg")
    s.expect(
        r"select \d+",
        r"set a 1",
        r"multi",
        r"set a 2",
        r"incr b",
        r"exec",
        r"multi",
        r"set s v",
        r"incr n",
        r"exec",
        r"sadd set m",
        r"srem set m",
        r"publish ch msg",
    )
    s.close()


def test_lazy_and_active_expiry_are_propagated_as_del(debug_server):
    server = debug_server
    c = server.conn()
    assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "0") == "OK"
    c.call("SET", "gone", "v", "PX", "1")
    c.call("SET", "a1", "v", "PX", "1")
    c.call("SET", "a2", "v", "PX", "1")
    time.sleep(0.01)
    s = Stream(server)
    assert c.call("GET", "gone") is None
    s.expect(r"select \d+", r"del gone")
    # SCAN touches arbitrary keys: its lazy expiries are not wrapped.
    c.call("SCAN", "0")
    s.expect(r"del a\d", r"del a\d")
    c.call("SET", "b", "v", "PX", "1")
    s.expect(r"set b v PXAT \d+")
    assert c.call("DEBUG", "SET-ACTIVE-EXPIRE", "1") == "OK"
    s.expect(r"del b")
    s.close()


def test_psync_full_resync_info_and_role(server):
    s = Stream(server, psync=True)
    c = server.conn()
    info = c.call("INFO", "replication").decode()
    assert "role:master" in info
    assert "connected_slaves:1" in info
    assert f"master_replid:{s.replid}" in info
    assert "repl_backlog_active:1" in info
    before = int(re.search(r"master_repl_offset:(\d+)", info).group(1))
    c.call("SET", "k", "v")
    s.expect(r"select \d+", r"set k v")
    info = c.call("INFO", "replication").decode()
    after = int(re.search(r"master_repl_offset:(\d+)", info).group(1))
    # SELECT 0 and SET k v as RESP arrays.
    assert after - before == len(encode_command("SELECT", "0")) + len(encode_command("SET", "k", "v"))
    role = c.call("ROLE")
    assert role[0] == b"master" and role[1] == after and len(role[2]) == 1
    s.close()
    deadline = time.time() + 5
    while time.time() < deadline and "connected_slaves:0" not in c.call("INFO", "replication").decode():
        time.sleep(0.05)
    assert "connected_slaves:0" in c.call("INFO", "replication").decode()


def test_wait_without_replicas(server):
    c = server.conn()
    c.call("SET", "k", "v")
    assert c.call("WAIT", "0", "0") == 0
    t0 = time.time()
    assert c.call("WAIT", "1", "100") == 0
    assert time.time() - t0 >= 0.09
    assert c.err("WAIT", "1", "-1").startswith("ERR timeout is negative")


def test_monitor_format(server):
    m = server.conn()
    assert m.call("MONITOR") == "OK"
    c = server.conn()
    c.call("SET", "k", 'a "q"\n')
    c.call("EVAL", "redis.call('get', KEYS[1])", "1", "k")
    c.call("CONFIG", "GET", "maxmemory")  # admin: not shown
    c.call("PING")
    lines = [m.read_reply() for _ in range(4)]
    port = c.sock.getsockname()[1]
    assert re.fullmatch(
        rf'\d+\.\d{{6}} \[0 127\.0\.0\.1:{port}\] "SET" "k" "a \\"q\\"\\n"', lines[0]
    ), lines[0]
    assert re.fullmatch(r'\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "EVAL" .*', lines[1]), lines[1]
    assert re.fullmatch(r'\d+\.\d{6} \[0 lua\] "get" "k"', lines[2]), lines[2]
    assert re.fullmatch(r'\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "PING"', lines[3]), lines[3]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_a_real_redis_replica_follows(server):
    c = server.conn()
    c.call("SET", "before", "1")
    c.call("RPUSH", "list", "a", "b")
    port = free_port()
    d = tempfile.mkdtemp(prefix="lk-replica-")
    proc = subprocess.Popen(
        [
            "redis-server", "--port", str(port), "--bind", HOST, "--save", "",
            "--appendonly", "no", "--dir", d,
            "--replicaof", HOST, str(server.port),
        ],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 20
        rep = None
        while time.time() < deadline:
            try:
                rep = RespConn(HOST, port)
                info = rep.call("INFO", "replication").decode()
                if "master_link_status:up" in info:
                    break
            except (OSError, ConnectionError):
                pass
            time.sleep(0.1)
        else:
            pytest.fail("the replica never got in sync")
        assert rep.call("GET", "before") == b"1"
        assert rep.call("LRANGE", "list", "0", "-1") == [b"a", b"b"]
        c.call("SET", "after", "2", "EX", "1000")
        c.call("SELECT", "5")
        c.call("HSET", "h", "f", "v")
        assert c.call("WAIT", "1", "5000") == 1
        assert rep.call("GET", "after") == b"2"
        assert 0 < rep.call("TTL", "after") <= 1000
        rep.call("SELECT", "5")
        assert rep.call("HGET", "h", "f") == b"v"
        info = c.call("INFO", "replication").decode()
        assert "connected_slaves:1" in info
        assert re.search(rf"slave0:ip=127\.0\.0\.1,port={port},state=online", info), info
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(d, ignore_errors=True)


def test_replicaof(server):
    c = server.conn()
    assert c.call("REPLICAOF", "NO", "ONE") == "OK"
    if not IS_REDIS:
        assert c.err("REPLICAOF", "127.0.0.1", "1").startswith("ERR")
