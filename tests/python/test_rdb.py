"""RDB files exchanged with the real redis-server 7.0.15, both ways.

* A dump written by redis-server (every type and encoding, big and small
  values, expiries, several databases, a function library) is loaded by
  lunakv at start-up: every key's value, TTL and encoding must match.
* A dump written by lunakv (SAVE) is loaded by redis-server: DEBUG DIGEST
  and every key's value must match.

Both servers run in temporary directories; no dump file is kept. Skipped
when redis-server is not installed or when the suite targets Redis itself.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import redis

REPO_ROOT = Path(__file__).resolve().parents[2]
REDIS_BIN = os.environ.get("REDIS_SERVER_BIN") or shutil.which("redis-server")
LUNAKV_BIN = os.environ.get("LUNAKV_BIN") or str(REPO_ROOT / "target" / "debug" / "lunakv-server")

pytestmark = [
    pytest.mark.skipif(not REDIS_BIN, reason="redis-server is not installed"),
    pytest.mark.skipif(
        os.environ.get("LUNAKV_TEST_TARGET", "lunakv").lower() == "redis",
        reason="compares lunakv with redis-server",
    ),
]

LIB = """#!lua name=rdblib
redis.register_function('rdb_f', function(keys, args) return 'hi' end)
redis.register_function{function_name='rdb_ro', callback=function() return 1 end, flags={'no-writes'}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Proc:
    def __init__(self, argv, port):
        self.port = port
        self.p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while True:
            try:
                c = redis.Redis(port=port, socket_timeout=10)
                c.ping()
                self.c = c
                return
            except Exception:
                if self.p.poll() is not None or time.time() > deadline:
                    raise RuntimeError(f"server did not start: {argv}")
                time.sleep(0.05)

    def stop(self):
        try:
            self.c.shutdown(nosave=True)
        except Exception:
            pass
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()


def start_redis(d, *extra):
    port = free_port()
    return Proc(
        [REDIS_BIN, "--port", str(port), "--bind", "127.0.0.1", "--dir", d, "--save", "",
         "--appendonly", "no", "--enable-debug-command", "yes", "--logfile", os.path.join(d, "redis.log"),
         *extra],
        port,
    )


def start_lunakv(d):
    port = free_port()
    return Proc(
        [LUNAKV_BIN, "--port", str(port), "--dir", d, "--save", "",
         "--enable-debug-command", "yes", "--logfile", os.path.join(d, "lunakv.log")],
        port,
    )


def populate(c: redis.Redis, plain_nodes: bool):
    """Keys of every type and encoding, in databases 0 and 2."""
    big = "x" * 300
    rnd = bytes(range(256)) * 3
    c.set("s:int", 12345)
    c.set("s:neg", -9)
    c.set("s:i64", 9223372036854775807)
    c.set("s:emb", "hello")
    c.set("s:raw", big)
    c.set("s:bin", rnd)
    c.set("s:empty", "")
    c.set("s:float", "3.14")
    c.set("s:ttl", "v", px=50_000_000)
    c.append("s:appended", "12")
    c.rpush("l:small", "a", 1, -5000, 70000, 5000000000, big)
    c.rpush("l:big", *[f"e{i}" if i % 3 else i for i in range(5000)])
    c.rpush("l:huge", "y" * 20000, "z")
    if plain_nodes:
        c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "1000")
        c.rpush("l:plain", "p" * 3000, "small", "q" * 5000)
        c.execute_command("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")
    c.hset("h:small", mapping={"f": "v", "n": 100000, "neg": -1})
    c.hset("h:long", mapping={"f": big})
    c.hset("h:big", mapping={f"f{i}": i for i in range(1000)})
    c.sadd("set:int16", 1, 2, 3, -7)
    c.sadd("set:int64", 1, 5000000000, -5000000000)
    c.sadd("set:str", "a", "b", "c")
    c.sadd("set:bigint", *range(1000))
    c.sadd("set:big", *[f"m{i}" for i in range(1000)])
    c.zadd("z:small", {"a": 1, "b": 2.5, "c": float("-inf"), "d": float("inf"), "e": 1e300, "f": -0.125, "g": 12345678901})
    c.zadd("z:long", {big: 1})
    c.zadd("z:big", {f"m{i}": i / 3 for i in range(1000)})
    c.xadd("x:s", {"a": 1, "b": 2}, id="1-1")
    c.xadd("x:s", {"a": 3, "b": 4}, id="2-1")
    c.xadd("x:s", {"c": 5}, id="3-0")
    c.xadd("x:s", {"a": 6, "b": 7}, id="4-0")
    c.xdel("x:s", "2-1")
    c.xgroup_create("x:s", "g1", id="0")
    c.xreadgroup("g1", "alice", {"x:s": ">"}, count=2)
    c.xgroup_createconsumer("x:s", "g1", "bob")
    c.xgroup_create("x:s", "g2", id="$")
    for i in range(700):
        c.xadd("x:big", {"field": i, f"f{i % 3}": "v" * (i % 50)})
    c.xadd("x:empty", {"f": "v"}, id="5-5", maxlen=0)
    c.execute_command("FUNCTION", "LOAD", LIB)
    c2 = redis.Redis(port=c.connection_pool.connection_kwargs["port"], db=2)
    c2.set("db2:k", "v")
    c2.hset("db2:h", "a", "b")
    c2.expire("db2:h", 100000)


def snapshot(port: int):
    """Every key's type, encoding, TTL (seconds, rounded) and value."""
    out = {}
    for db in (0, 2):
        c = redis.Redis(port=port, db=db)
        for k in sorted(c.keys("*")):
            t = c.type(k).decode()
            if t == "string":
                v = c.get(k)
            elif t == "list":
                v = c.lrange(k, 0, -1)
            elif t == "hash":
                v = sorted(c.hgetall(k).items())
            elif t == "set":
                v = sorted(c.smembers(k))
            elif t == "zset":
                v = c.zrange(k, 0, -1, withscores=True)
            elif t == "stream":
                info = c.xinfo_stream(k)
                v = (
                    c.xrange(k),
                    info["length"],
                    info["last-generated-id"],
                    info.get("max-deleted-entry-id"),
                    info.get("entries-added"),
                    info.get("recorded-first-entry-id"),
                    [(g["name"], g["pending"], g["last-delivered-id"], g.get("entries-read"), g["consumers"])
                     for g in c.xinfo_groups(k)],
                )
                for g in c.xinfo_groups(k):
                    v += (
                        [(p["message_id"], p["consumer"], p["times_delivered"])
                         for p in c.xpending_range(k, g["name"], "-", "+", 100)],
                        sorted((x["name"], x["pending"]) for x in c.xinfo_consumers(k, g["name"])),
                    )
            else:
                v = None
            ttl = c.ttl(k)
            out[(db, k)] = (t, c.object("encoding", k), round(ttl / 10) if ttl > 0 else ttl, v)
    return out


def functions(port: int):
    """FUNCTION LIST WITHCODE with the libraries and each library's
    functions sorted (Redis lists both in hash table order)."""
    c = redis.Redis(port=port)
    libs = c.execute_command("FUNCTION", "LIST", "WITHCODE")
    out = []
    for lib in libs:
        d = dict(zip(lib[::2], lib[1::2]))
        d[b"functions"] = sorted(d[b"functions"], key=lambda f: f[1])
        out.append(sorted(d.items()))
    return sorted(out, key=lambda lib: dict(lib)[b"library_name"])


@pytest.fixture
def tmpdir_pair():
    a = tempfile.mkdtemp(prefix="lk-rdb-a-")
    b = tempfile.mkdtemp(prefix="lk-rdb-b-")
    yield a, b
    shutil.rmtree(a, ignore_errors=True)
    shutil.rmtree(b, ignore_errors=True)


def test_lunakv_loads_a_redis_dump(tmpdir_pair):
    d, _ = tmpdir_pair
    rs = start_redis(d)
    try:
        populate(rs.c, plain_nodes=True)
        expected = snapshot(rs.port)
        expected_fn = functions(rs.port)
        digest = rs.c.execute_command("DEBUG", "DIGEST")
        assert rs.c.save()
    finally:
        rs.stop()
    lk = start_lunakv(d)
    try:
        got = snapshot(lk.port)
        assert got.keys() == expected.keys()
        for k in expected:
            assert got[k] == expected[k], k
        assert functions(lk.port) == expected_fn
        assert lk.c.fcall("rdb_f", 0) == b"hi"
        assert lk.c.execute_command("DEBUG", "DIGEST") == digest
        log = Path(d, "lunakv.log").read_text()
        assert "DB loaded from disk" in log
    finally:
        lk.stop()


def test_redis_loads_a_lunakv_dump(tmpdir_pair):
    a, b = tmpdir_pair
    lk = start_lunakv(a)
    try:
        populate(lk.c, plain_nodes=False)
        expected = snapshot(lk.port)
        expected_fn = functions(lk.port)
        digest = lk.c.execute_command("DEBUG", "DIGEST")
        assert lk.c.save()
    finally:
        lk.stop()
    shutil.copy(os.path.join(a, "dump.rdb"), os.path.join(b, "dump.rdb"))
    check = subprocess.run(["redis-check-rdb", os.path.join(b, "dump.rdb")], capture_output=True, text=True)
    if shutil.which("redis-check-rdb"):
        assert "RDB looks OK" in check.stdout, check.stdout
    rs = start_redis(b, "--sanitize-dump-payload", "yes")
    try:
        assert rs.c.execute_command("DEBUG", "DIGEST") == digest
        got = snapshot(rs.port)
        assert got.keys() == expected.keys()
        for k in expected:
            assert got[k] == expected[k], k
        assert functions(rs.port) == expected_fn
    finally:
        rs.stop()


def test_bgsave_and_restart(tmpdir_pair):
    d, _ = tmpdir_pair
    lk = start_lunakv(d)
    try:
        populate(lk.c, plain_nodes=False)
        expected = snapshot(lk.port)
        before = lk.c.lastsave()
        assert lk.c.bgsave()
        deadline = time.time() + 20
        while lk.c.info("persistence")["rdb_bgsave_in_progress"] == 1:
            assert time.time() < deadline
            time.sleep(0.05)
        info = lk.c.info("persistence")
        assert info["rdb_last_bgsave_status"] == "ok"
        assert info["rdb_changes_since_last_save"] == 0
        assert lk.c.lastsave() >= before
        lk.c.set("after", "bgsave")
        # SHUTDOWN SAVE writes the final snapshot even with no save points.
        try:
            lk.c.execute_command("SHUTDOWN", "SAVE")
        except redis.ConnectionError:
            pass
        lk.p.wait(timeout=10)
    finally:
        lk.stop()
    lk = start_lunakv(d)
    try:
        got = snapshot(lk.port)
        assert lk.c.get("after") == b"bgsave"
        del got[(0, b"after")]
        assert got == expected
    finally:
        lk.stop()


def test_dump_restore_payloads_interoperate(tmpdir_pair):
    a, b = tmpdir_pair
    lk = start_lunakv(a)
    # Deep sanitization: Redis validates every listpack, intset and stream
    # node of the payloads lunakv produces.
    rs = start_redis(b, "--sanitize-dump-payload", "yes")
    try:
        populate(rs.c, plain_nodes=False)
        for db in (0,):
            for k in rs.c.keys("*"):
                p = rs.c.dump(k)
                ttl = max(rs.c.pttl(k), 0)
                lk.c.restore(k, ttl, p, replace=True)
                assert lk.c.execute_command("DEBUG", "DIGEST-VALUE", k) == rs.c.execute_command("DEBUG", "DIGEST-VALUE", k), k
                # And back: a lunakv payload restores in Redis.
                p2 = lk.c.dump(k)
                rs.c.restore(k, ttl, p2, replace=True)
                assert lk.c.execute_command("DEBUG", "DIGEST-VALUE", k) == rs.c.execute_command("DEBUG", "DIGEST-VALUE", k), k
        for c in (lk.c, rs.c):
            with pytest.raises(redis.ResponseError, match="DUMP payload version or checksum are wrong"):
                c.restore("bad", 0, b"\x00\x03abc\x0a\x00" + b"\x00" * 8)
            with pytest.raises(redis.ResponseError, match="BUSYKEY Target key name already exists."):
                c.restore("s:int", 0, c.dump("s:int"))
    finally:
        lk.stop()
        rs.stop()


def test_function_dump_payloads_interoperate(tmpdir_pair):
    """FUNCTION DUMP of redis-server 7.0.15 restores into lunakv, and
    lunakv's FUNCTION DUMP restores into redis-server (issue 5)."""
    a, b = tmpdir_pair
    lk = start_lunakv(a)
    rs = start_redis(b)
    long_lib = (
        "#!lua name=longlib\n"
        + "".join(
            f"redis.register_function('long_{i}', function(keys, args) return redis.call('INCRBY', keys[1], {i}) end)\n"
            for i in range(20)
        )
    )
    try:
        # Redis -> lunakv (Redis LZF-compresses the longer library's code).
        rs.c.function_load(LIB)
        rs.c.function_load(long_lib)
        payload = rs.c.function_dump()
        assert lk.c.function_restore(payload) in (True, b"OK", "OK")
        assert functions(lk.port) == functions(rs.port)
        assert lk.c.fcall("rdb_f", 0) == b"hi"
        assert lk.c.fcall("long_7", 1, "n") == 7
        assert lk.c.fcall_ro("rdb_ro", 0) == 1
        # lunakv -> Redis, into a Redis with no functions.
        lk_payload = lk.c.function_dump()
        rs.c.function_flush()
        assert rs.c.function_restore(lk_payload) in (True, b"OK", "OK")
        assert functions(rs.port) == functions(lk.port)
        assert rs.c.fcall("long_3", 1, "n") == 3
        # A restore that collides is refused the same way by both.
        for c in (lk.c, rs.c):
            with pytest.raises(redis.ResponseError, match="already exists"):
                c.function_restore(lk_payload)
    finally:
        lk.stop()
        rs.stop()
