"""maxmemory: OOM errors, eviction policies, evicted events, LRU/LFU.

Runs against lunakv or, with LUNAKV_TEST_TARGET=redis, against Redis 7.0,
which is where the expectations come from (Redis's unit/maxmemory,
unit/scripting, unit/functions and unit/pubsub tests).
"""

from __future__ import annotations

import random
import time

import pytest

from conftest import Error

OOM = "OOM command not allowed when used memory > 'maxmemory'."


def info(c, section="memory"):
    out = {}
    text = c.call("INFO", section)
    if isinstance(text, bytes):
        text = text.decode()
    for line in text.splitlines():
        if ":" in line and not line.startswith("#"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def used_memory(c):
    return int(info(c)["used_memory"])


@pytest.fixture
def conn(server):
    c = server.conn()
    yield c
    c.call("CONFIG", "SET", "maxmemory", "0")
    c.call("CONFIG", "SET", "maxmemory-policy", "noeviction")
    c.call("CONFIG", "SET", "notify-keyspace-events", "")


def test_noeviction_refuses_denyoom_commands(conn):
    assert conn.call("SET", "k", "v") == "OK"
    assert conn.call("CONFIG", "SET", "maxmemory", "1") == "OK"
    assert conn.call("SET", "x", "1") == Error(OOM)
    assert conn.call("LPUSH", "l", "1") == Error(OOM)
    assert conn.call("GET", "k") == b"v"
    assert conn.call("EXPIRE", "k", "100") == 1
    assert conn.call("DEL", "k") == 1
    m = info(conn)
    assert m["maxmemory"] == "1"
    assert m["maxmemory_human"] == "1B"
    assert m["maxmemory_policy"] == "noeviction"
    assert int(m["used_memory_peak"]) >= int(m["used_memory"])
    assert info(conn, "errorstats")["errorstat_OOM"].startswith("count=")
    assert conn.call("CONFIG", "SET", "maxmemory", "0") == "OK"
    assert conn.call("SET", "x", "1") == "OK"


def test_multi_is_refused_while_queueing_and_exec_aborts(server, conn):
    side = server.conn()
    assert conn.call("MULTI") == "OK"
    assert conn.call("SET", "a", "1") == "QUEUED"
    assert side.call("CONFIG", "SET", "maxmemory", "1") == "OK"
    # Even a read is refused while queueing; EXEC then aborts.
    assert conn.call("GET", "a") == Error(OOM)
    assert conn.call("EXEC") == Error("EXECABORT Transaction discarded because of: " + OOM)
    # A transaction of reads queued before the limit runs.
    side.call("CONFIG", "SET", "maxmemory", "0")
    assert conn.call("MULTI") == "OK"
    assert conn.call("GET", "a") == "QUEUED"
    side.call("CONFIG", "SET", "maxmemory", "1")
    assert conn.call("EXEC") == [None]
    # ... and a queued write makes EXEC fail.
    side.call("CONFIG", "SET", "maxmemory", "0")
    assert conn.call("MULTI") == "OK"
    assert conn.call("SET", "a", "1") == "QUEUED"
    side.call("CONFIG", "SET", "maxmemory", "1")
    assert conn.call("EXEC") == Error("EXECABORT Transaction discarded because of: " + OOM)
    assert conn.call("DISCARD") == Error("ERR DISCARD without MULTI")
    side.call("CONFIG", "SET", "maxmemory", "0")


def test_scripts_under_oom(conn):
    assert conn.call("SET", "x", "123") == "OK"
    assert conn.call("CONFIG", "SET", "maxmemory", "1") == "OK"
    r = conn.call("EVAL", "redis.call('set','x',1) return 1", "1", "x")
    assert isinstance(r, Error) and r.startswith(OOM)
    # pcall returns the error table.
    assert conn.call(
        "EVAL",
        "local t = redis.pcall('set','x','y') if t['err'] == \"" + OOM + "\" then return 1 else return 0 end",
        "1",
        "x",
    ) == 1
    assert conn.call("EVAL", "return redis.call('get','x')", "1", "x") == b"123"
    r = conn.call("EVAL", "#!lua flags=\nreturn 1", "0")
    assert isinstance(r, Error) and r.startswith("OOM ")
    assert conn.call("EVAL", "#!lua flags=allow-oom\nredis.call('set','x',1)\nreturn 1", "1", "x") == 1
    assert conn.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get','x')", "0") == b"1"
    assert conn.call("EVAL_RO", "return redis.call('get','x')", "1", "x") == b"1"
    conn.call("CONFIG", "SET", "maxmemory", "0")


def test_functions_under_oom(conn):
    conn.call("FUNCTION", "FLUSH")
    lib = "#!lua name=mm\n" \
        "redis.register_function('w', function() return redis.call('set', 'x', '1') end)\n" \
        "redis.register_function{function_name='ro', callback=function() return 'hello' end, flags={'no-writes'}}\n" \
        "redis.register_function{function_name='oom', callback=function() return redis.call('set', 'x', '2') end, flags={'allow-oom'}}\n"
    assert conn.call("FUNCTION", "LOAD", lib) == b"mm"
    dump = conn.call("FUNCTION", "DUMP")
    assert conn.call("CONFIG", "SET", "maxmemory", "1") == "OK"
    assert conn.call("FCALL", "w", "1", "x") == Error(OOM)
    assert conn.call("FCALL", "ro", "1", "x") == b"hello"
    assert conn.call("FCALL_RO", "ro", "1", "x") == b"hello"
    assert conn.call("FCALL", "oom", "1", "x") == "OK"
    assert conn.call("FUNCTION", "LOAD", "REPLACE", lib) == Error(OOM)
    assert conn.call("FUNCTION", "RESTORE", dump, "REPLACE") == Error(OOM)
    conn.call("CONFIG", "SET", "maxmemory", "0")
    conn.call("FUNCTION", "FLUSH")


def test_evicted_keyspace_event_and_stats(server, conn):
    conn.call("CONFIG", "SET", "notify-keyspace-events", "Ee")
    conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lru")
    before = int(info(conn, "stats")["evicted_keys"])
    sub = server.conn()
    assert sub.call("PSUBSCRIBE", "*") == [b"psubscribe", b"*", 1]
    assert conn.call("SET", "foo", "bar") == "OK"
    assert conn.call("CONFIG", "SET", "maxmemory", "1") == "OK"
    assert sub.read_reply() == [b"pmessage", b"*", b"__keyevent@0__:evicted", b"foo"]
    conn.call("CONFIG", "SET", "maxmemory", "0")
    assert conn.call("EXISTS", "foo") == 0
    assert int(info(conn, "stats")["evicted_keys"]) == before + 1
    sub.close()


def test_evicted_key_invalidates_watch(server, conn):
    conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-random")
    conn.call("SET", "w", "1")
    assert conn.call("WATCH", "w") == "OK"
    side = server.conn()
    side.call("CONFIG", "SET", "maxmemory", "1")
    side.call("CONFIG", "SET", "maxmemory", "0")
    assert conn.call("MULTI") == "OK"
    assert conn.call("PING") == "QUEUED"
    assert conn.call("EXEC") is None
    side.close()


def fill_to_limit(c, policy, volatile_every=0):
    c.call("FLUSHALL")
    used = used_memory(c)
    limit = used + 100 * 1024
    c.call("CONFIG", "SET", "maxmemory", str(limit))
    c.call("CONFIG", "SET", "maxmemory-policy", policy)
    n = 0
    while True:
        if volatile_every and n % volatile_every == 0:
            c.call("SET", f"key:{n}", "x")
        else:
            c.call("SETEX", f"key:{n}", "10000", "x")
        n += 1
        if used_memory(c) + 4096 > limit:
            assert n > 10
            return limit, n


@pytest.mark.parametrize(
    "policy",
    ["allkeys-random", "allkeys-lru", "allkeys-lfu", "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"],
)
def test_memory_limit_is_honoured(conn, policy):
    limit, n = fill_to_limit(conn, policy)
    for _ in range(n):
        conn.call("SETEX", f"rnd:{random.randrange(1 << 30)}", "10000", "x")
    assert used_memory(conn) < limit + 4096
    assert int(info(conn, "stats")["evicted_keys"]) > 0


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl"])
def test_volatile_policies_remove_only_volatile_keys(conn, policy):
    limit, n = fill_to_limit(conn, policy, volatile_every=2)
    for j in range(n):
        conn.call("SETEX", f"foo:{j}", "10000", "x")
    assert used_memory(conn) < limit + 4096
    for j in range(0, n, 2):
        assert conn.call("EXISTS", f"key:{j}") == 1


def test_volatile_policy_reports_oom_without_volatile_keys(conn):
    conn.call("FLUSHALL")
    limit = used_memory(conn) + 100 * 1024
    conn.call("CONFIG", "SET", "maxmemory", str(limit))
    conn.call("CONFIG", "SET", "maxmemory-policy", "volatile-lru")
    err = None
    for i in range(20000):
        r = conn.call("SET", f"key:{i}", "x" * 20)
        if isinstance(r, Error):
            err = r
            break
    assert err == Error(OOM)


def test_lfu_counter_and_idle_time(conn):
    conn.call("SET", "k", "v")
    r = conn.call("OBJECT", "FREQ", "k")
    assert isinstance(r, Error) and "An LFU maxmemory policy is not selected" in r
    assert conn.call("OBJECT", "IDLETIME", "k") == 0
    conn.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu")
    r = conn.call("OBJECT", "IDLETIME", "k")
    assert isinstance(r, Error) and "An LFU maxmemory policy is selected" in r
    conn.call("CONFIG", "SET", "lfu-log-factor", "0")
    try:
        conn.call("SET", "f", "v")
        assert conn.call("OBJECT", "FREQ", "f") == 5
        for _ in range(20):
            conn.call("GET", "f")
        assert conn.call("OBJECT", "FREQ", "f") == 25
        # Overwriting keeps the counter (and counts as an access).
        conn.call("SET", "f", "w")
        assert conn.call("OBJECT", "FREQ", "f") == 26
        # TYPE, EXISTS, TTL and OBJECT do not.
        conn.call("TYPE", "f")
        conn.call("TTL", "f")
        conn.call("EXISTS", "f")
        assert conn.call("OBJECT", "FREQ", "f") == 26
        assert conn.call("OBJECT", "FREQ", "missing") is None
    finally:
        conn.call("CONFIG", "SET", "lfu-log-factor", "10")


def test_lru_idle_time_and_touch(conn):
    conn.call("SET", "k", "v")
    time.sleep(2.1)
    conn.call("TYPE", "k")
    conn.call("TTL", "k")
    assert conn.call("OBJECT", "IDLETIME", "k") >= 2
    conn.call("TOUCH", "k")
    assert conn.call("OBJECT", "IDLETIME", "k") < 2


def test_info_memory_fields(conn):
    m = info(conn)
    for f in ("used_memory", "used_memory_peak", "used_memory_startup", "used_memory_dataset",
              "used_memory_overhead", "mem_not_counted_for_evict", "maxmemory", "maxmemory_policy"):
        assert f in m, f
    used = int(m["used_memory"])
    assert int(m["used_memory_peak"]) >= used > 0
    assert int(m["used_memory_overhead"]) + int(m["used_memory_dataset"]) == used
    s = info(conn, "stats")
    assert "total_eviction_exceeded_time" in s and "current_eviction_exceeded_time" in s
