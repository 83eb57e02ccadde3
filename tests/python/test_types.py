"""Black-box tests of the aggregate types, blocking pops, transactions and
pub/sub with real clients (redis-py and a raw RESP connection).

Every expectation here also holds against real Redis 7.0
(``LUNAKV_TEST_TARGET=redis pytest tests/python/test_types.py``).
"""

from __future__ import annotations

import time

import pytest
import redis

from conftest import RespConn, encode_command


def wait_blocked(r, n, timeout=5.0):
    """Waits until INFO reports `n` blocked clients."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(r.info("clients")["blocked_clients"]) == n:
            return
        time.sleep(0.01)
    raise AssertionError(f"expected {n} blocked clients, INFO says {r.info('clients')['blocked_clients']}")


def deferred(server, *cmd) -> RespConn:
    c = server.conn()
    c.send(encode_command(*cmd))
    return c


# --------------------------------------------------------------------------
# Hashes
# --------------------------------------------------------------------------


def test_hash_basics_and_resp3_map(r, r3):
    assert r.hset("h", mapping={"a": "1", "b": "2", "c": "x"}) == 3
    assert r.hset("h", "a", "10") == 0
    assert r.hget("h", "a") == "10"
    assert r.hmget("h", ["a", "nope", "c"]) == ["10", None, "x"]
    assert r.hgetall("h") == {"a": "10", "b": "2", "c": "x"}
    assert r3.hgetall("h") == {"a": "10", "b": "2", "c": "x"}
    assert r.hincrby("h", "b", 5) == 7
    assert r.hincrbyfloat("h", "b", 0.5) == 7.5
    assert r.hstrlen("h", "c") == 1
    with pytest.raises(redis.ResponseError, match="hash value is not an integer"):
        r.hincrby("h", "c", 1)
    assert r.hsetnx("h", "a", "no") == 0
    assert sorted(r.hkeys("h")) == ["a", "b", "c"]
    assert r.hdel("h", "a", "b", "c", "zz") == 3
    assert r.exists("h") == 0  # an emptied hash is deleted
    r.set("s", "v")
    with pytest.raises(redis.ResponseError, match="^WRONGTYPE"):
        r.hget("s", "f")


def test_hash_encoding_conversion_and_hscan(r):
    r.config_set("hash-max-listpack-entries", 16)
    try:
        r.hset("small", mapping={f"f{i}": i for i in range(10)})
        assert r.object("encoding", "small") == "listpack"
        r.hset("big", mapping={f"f{i}": i for i in range(1000)})
        assert r.object("encoding", "big") == "hashtable"
        seen = {}
        cursor = 0
        while True:
            cursor, part = r.hscan("big", cursor, count=50)
            seen.update(part)
            if cursor == 0:
                break
        assert len(seen) == 1000 and seen["f999"] == "999"
        # a long value converts too
        r.hset("small", "long", "x" * 100)
        assert r.object("encoding", "small") == "hashtable"
    finally:
        r.config_set("hash-max-listpack-entries", 128)


def test_hrandfield(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hrandfield("h") in {"a", "b", "c"}
    assert sorted(r.hrandfield("h", 5)) == ["a", "b", "c"]  # distinct, capped
    assert len(r.hrandfield("h", -7)) == 7  # repetitions allowed
    pairs = r.hrandfield("h", 2, withvalues=True)
    assert len(pairs) == 4


# --------------------------------------------------------------------------
# Lists and blocking pops
# --------------------------------------------------------------------------


def test_list_commands(r):
    assert r.rpush("l", "a", "b", "c", "d") == 4
    assert r.lpush("l", "z") == 5
    assert r.lrange("l", 0, -1) == ["z", "a", "b", "c", "d"]
    assert r.linsert("l", "before", "c", "bb") == 6
    assert r.lpos("l", "c") == 4
    assert r.lindex("l", -1) == "d"
    assert r.lset("l", 0, "y") is True
    assert r.lmove("l", "l2", "RIGHT", "LEFT") == "d"
    assert r.lpop("l", 2) == ["y", "a"]
    assert r.lmpop(2, "nope", "l", direction="RIGHT", count=10) == ["l", ["c", "bb", "b"]]
    assert r.exists("l") == 0
    assert r.lpushx("l", "x") == 0
    r.rpush("r", *"abcabc")
    assert r.lrem("r", -1, "a") == 1
    assert r.lrange("r", 0, -1) == list("abcbc")
    assert r.ltrim("r", 1, 2) is True
    assert r.lrange("r", 0, -1) == ["b", "c"]


def test_several_blocked_clients_are_served_in_order_by_a_script_push(server, r):
    """Three clients block on one list; a script pushes two elements: the
    first two waiters get them in arrival order, after the script is done,
    the third keeps waiting until a later push."""
    waiters = []
    for i in range(3):
        waiters.append(deferred(server, "BLPOP", "queue", "0"))
        wait_blocked(r, i + 1)
    script = "redis.call('RPUSH', KEYS[1], 'job1') redis.call('RPUSH', KEYS[1], 'job2') return redis.call('LLEN', KEYS[1])"
    # Inside the script the pushed elements are still there (no waiter ran yet).
    assert r.eval(script, 1, "queue") == 2
    assert waiters[0].read_reply() == [b"queue", b"job1"]
    assert waiters[1].read_reply() == [b"queue", b"job2"]
    wait_blocked(r, 1)
    assert r.llen("queue") == 0
    r.lpush("queue", "job3")
    assert waiters[2].read_reply() == [b"queue", b"job3"]
    wait_blocked(r, 0)


def test_push_inside_multi_wakes_after_exec(server, r):
    w = deferred(server, "BRPOP", "q", "0")
    wait_blocked(r, 1)
    p = r.pipeline(transaction=True)
    p.lpush("q", "a")
    p.lpush("q", "b")
    p.llen("q")
    assert p.execute() == [1, 2, 2]
    # The waiter is served after EXEC, from the right end.
    assert w.read_reply() == [b"q", b"a"]
    assert r.lrange("q", 0, -1) == ["b"]


def test_blocking_timeouts_and_unblock(server, r):
    t0 = time.time()
    assert r.blpop(["none"], timeout=0.2) is None
    assert time.time() - t0 >= 0.15
    w = server.conn()
    cid = w.call("CLIENT", "ID")
    w.send(encode_command("BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"))
    wait_blocked(r, 1)
    assert r.client_unblock(cid) == 1
    assert w.read_reply() is None
    # CLIENT UNBLOCK ... ERROR gives the UNBLOCKED error
    w.send(encode_command("BLPOP", "src", "0"))
    wait_blocked(r, 1)
    assert r.client_unblock(cid, error=True) == 1
    assert w.read_reply().startswith("UNBLOCKED")


def test_blocked_client_that_disconnects_is_forgotten(server, r):
    w = deferred(server, "BLPOP", "q2", "0")
    wait_blocked(r, 1)
    w.close()
    wait_blocked(r, 0)
    r.rpush("q2", "x")
    assert r.lrange("q2", 0, -1) == ["x"]


def test_blocking_pop_inside_script_and_multi_does_not_block(r):
    # Redis 7.0 flags the blocking pops noscript; inside MULTI they do not block.
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        r.eval("return redis.call('BLPOP', 'nothing', 0)", 0)
    p = r.pipeline(transaction=True)
    p.brpop(["nothing"], 0)
    assert p.execute() == [None]


# --------------------------------------------------------------------------
# Sets
# --------------------------------------------------------------------------


def test_set_commands_and_encodings(r):
    assert r.sadd("s1", 1, 2, 3) == 3
    assert r.object("encoding", "s1") == "intset"
    r.sadd("s2", 2, 3, 4, "x")
    assert r.object("encoding", "s2") == "hashtable"
    assert r.sinter("s1", "s2") == {"2", "3"}
    assert r.sunion("s1", "s2") == {"1", "2", "3", "4", "x"}
    assert r.sdiff("s1", "s2") == {"1"}
    assert r.sintercard(2, ["s1", "s2"]) == 2
    assert r.sunionstore("dst", ["s1", "s2"]) == 5
    assert r.smismember("dst", ["1", "9", "x"]) == [1, 0, 1]
    assert r.smove("dst", "other", "x") is True
    assert r.sismember("other", "x") == 1
    popped = r.spop("dst", 10)
    assert sorted(popped) == ["1", "2", "3", "4"]
    assert r.exists("dst") == 0
    assert r.srandmember("s1") in {"1", "2", "3"}
    assert len(r.srandmember("s1", -10)) == 10


# --------------------------------------------------------------------------
# Sorted sets
# --------------------------------------------------------------------------


def test_zset_ranges_and_scores(r, r3, rc):
    assert r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": float("inf")}) == 4
    assert r.zadd("z", {"a": 5}, gt=True, ch=True) == 1
    assert r.zadd("z", {"a": 0}, gt=True, ch=True) == 0
    assert r.zrange("z", 0, -1, withscores=True) == [("b", 2.0), ("c", 3.0), ("a", 5.0), ("d", float("inf"))]
    assert r.zrangebyscore("z", "(2", 5) == ["c", "a"]
    assert r.zrange("z", "+inf", "-inf", byscore=True, desc=True, offset=1, num=2) == ["a", "c"]
    assert r.zscore("z", "d") == float("inf")
    assert rc.call_raw("ZSCORE", "z", "d") == b"$3\r\ninf\r\n"
    assert r3.zscore("z", "b") == 2.0
    assert r.zincrby("z", 0.5, "b") == 2.5
    assert r.zrank("z", "a") == 2 and r.zrevrank("z", "a") == 1
    assert r.zrangestore("dst", "z", 0, 1) == 2
    assert r.zrange("dst", 0, -1) == ["b", "c"]
    assert r.zunionstore("u", {"z": 1, "dst": 10}, aggregate="MAX") == 4
    assert r.zscore("u", "b") == 25.0
    assert r.zpopmin("z") == [("b", 2.5)]
    r.zadd("lex", {"a": 0, "b": 0, "c": 0, "d": 0})
    assert r.zrangebylex("lex", "(a", "[c") == ["b", "c"]
    assert r.zlexcount("lex", "-", "+") == 4
    with pytest.raises(redis.ResponseError, match="not a valid float"):
        r.zadd("z", {"x": "nan"})


def test_sliding_window_rate_limiter_script(r):
    limiter = """
    local key, now, window, limit = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
    redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
    if redis.call('ZCARD', key) >= limit then return 0 end
    redis.call('ZADD', key, now, ARGV[4])
    redis.call('PEXPIRE', key, window)
    return 1
    """
    sha = r.script_load(limiter)
    got = [r.evalsha(sha, 1, "win", 1000 + i, 100, 3, f"req{i}") for i in range(5)]
    assert got == [1, 1, 1, 0, 0]
    # 100 ms later the window has moved on
    assert r.evalsha(sha, 1, "win", 1200, 100, 3, "late") == 1
    assert 0 < r.pttl("win") <= 100


def test_bzpopmin_woken_by_script(server, r):
    w = deferred(server, "BZPOPMIN", "zq", "0")
    wait_blocked(r, 1)
    r.eval("redis.call('ZADD', KEYS[1], 2, 'two', 1, 'one')", 1, "zq")
    assert w.read_reply() == [b"zq", b"one", b"1"]
    assert r.zrange("zq", 0, -1) == ["two"]


# --------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------


def test_multi_exec_and_watch(make_client):
    a = make_client()
    b = make_client()
    a.set("balance", 10)
    with a.pipeline(transaction=True) as p:
        p.watch("balance")
        p.multi()
        b.incr("balance")  # another client changes the watched key
        p.decr("balance")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert a.get("balance") == "11"
    # EVAL inside MULTI, and an untouched WATCH passes
    with a.pipeline(transaction=True) as p:
        p.watch("balance")
        p.multi()
        p.eval("return redis.call('INCRBY', KEYS[1], 5)", 1, "balance")
        p.get("balance")
        assert p.execute() == [16, "16"]


def test_execabort_on_queue_error(rc):
    assert rc.call("MULTI") == "OK"
    assert rc.call("SET", "k", "v") == "QUEUED"
    assert rc.call("NOSUCHCOMMAND").startswith("ERR unknown command")
    assert rc.call("EXEC") == "EXECABORT Transaction discarded because of previous errors."
    assert rc.call("EXISTS", "k") == 0


def test_watch_invalidated_by_expiry(r, make_client):
    r.set("tmp", "1", px=50)
    a = make_client()
    with a.pipeline(transaction=True) as p:
        p.watch("tmp")
        time.sleep(0.1)
        p.multi()
        p.set("x", "y")
        with pytest.raises(redis.WatchError):
            p.execute()


# --------------------------------------------------------------------------
# Pub/Sub
# --------------------------------------------------------------------------


def read_message(ps, timeout=2.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = ps.get_message(ignore_subscribe_messages=True, timeout=0.1)
        if m is not None:
            return m
    return None


def test_pubsub_channels_and_patterns(r, make_client):
    sub = make_client().pubsub()
    sub.subscribe("news")
    sub.psubscribe("ne*")
    assert sub.get_message(timeout=1)["type"] == "subscribe"
    assert sub.get_message(timeout=1)["type"] == "psubscribe"
    assert r.publish("news", "hello") == 2
    got = [read_message(sub), read_message(sub)]
    kinds = sorted((m["type"], m["data"]) for m in got)
    assert kinds == [("message", "hello"), ("pmessage", "hello")]
    assert r.pubsub_numsub("news") == [("news", 1)]
    assert r.pubsub_numpat() == 1
    assert "news" in r.pubsub_channels()
    sub.close()


def test_resp3_push_and_resp2_subscribed_mode(server):
    c3 = server.conn()
    c3.call("HELLO", "3")
    assert c3.call("SUBSCRIBE", "ch") == [b"subscribe", b"ch", 1]
    # RESP3 clients may still run commands while subscribed
    assert c3.call("PING") == "PONG"
    pub = server.conn()
    assert pub.call("PUBLISH", "ch", "m1") == 1
    assert c3.read_reply() == [b"message", b"ch", b"m1"]
    c2 = server.conn()
    c2.call("SUBSCRIBE", "ch")
    assert c2.call("GET", "x").startswith("ERR Can't execute 'get'")


def test_keyspace_notifications(r, make_client):
    r.config_set("notify-keyspace-events", "KEA")
    try:
        sub = make_client().pubsub()
        sub.psubscribe("__keyspace@0__:job*")
        sub.get_message(timeout=1)
        r.lpush("job:1", "x")
        r.expire("job:1", 100)
        r.delete("job:1")
        events = [read_message(sub)["data"] for _ in range(3)]
        assert events == ["lpush", "expire", "del"]
        sub.close()
    finally:
        r.config_set("notify-keyspace-events", "")


def test_sharded_pubsub(server, r):
    c = server.conn()
    assert c.call("SSUBSCRIBE", "sh") == [b"ssubscribe", b"sh", 1]
    assert r.execute_command("SPUBLISH", "sh", "hi") == 1
    assert c.read_reply() == [b"smessage", b"sh", b"hi"]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "sh") == ["sh", 1]


def test_new_key_events(r, make_client):
    r.config_set("notify-keyspace-events", "En")
    try:
        sub = make_client().pubsub()
        sub.psubscribe("*")
        sub.get_message(timeout=1)
        r.set("foo", "bar")
        r.set("foo", "baz")  # not new
        r.sadd("s", "a")
        r.rename("s", "s2")  # the target is added anew
        got = [read_message(sub) for _ in range(3)]
        assert [(m["channel"], m["data"]) for m in got] == [
            ("__keyevent@0__:new", "foo"),
            ("__keyevent@0__:new", "s"),
            ("__keyevent@0__:new", "s2"),
        ]
        sub.close()
    finally:
        r.config_set("notify-keyspace-events", "")
