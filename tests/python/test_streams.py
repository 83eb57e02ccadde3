"""Streams: XADD/XRANGE/XREAD/consumer groups, blocking reads woken by other
clients and by scripts, RESP3 shapes, keyspace events.

Runs against lunakv by default and against redis-server 7.0 with
LUNAKV_TEST_TARGET=redis (every expectation holds for both).
"""

from __future__ import annotations

import threading
import time

import pytest
import redis


def wait_blocked(r, n=1, timeout=5.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if int(r.info("clients")["blocked_clients"]) >= n:
            return
        time.sleep(0.01)
    raise AssertionError("client did not block")


class Bg(threading.Thread):
    """Runs a blocking call in a thread and keeps its result or error."""

    def __init__(self, fn):
        super().__init__(daemon=True)
        self.fn = fn
        self.result = None
        self.error = None

    def run(self):
        try:
            self.result = self.fn()
        except Exception as e:  # noqa: BLE001 - the test inspects it
            self.error = e


def test_add_range_len_del(r):
    assert r.xadd("s", {"a": "1"}, id="1-1") == "1-1"
    assert r.xadd("s", {"b": "2"}, id="1-*") == "1-2"
    assert r.xadd("s", {"c": "3"}, id="5") == "5-0"
    assert r.xlen("s") == 3
    assert r.xrange("s") == [("1-1", {"a": "1"}), ("1-2", {"b": "2"}), ("5-0", {"c": "3"})]
    assert r.xrevrange("s", count=1) == [("5-0", {"c": "3"})]
    assert r.xrange("s", "(1-1", "(5-0") == [("1-2", {"b": "2"})]
    assert r.xdel("s", "1-2", "9-9") == 1
    assert r.type("s") == "stream"
    assert r.object("encoding", "s") == "stream"
    with pytest.raises(redis.ResponseError, match="equal or smaller"):
        r.xadd("s", {"x": "y"}, id="5-0")
    with pytest.raises(redis.ResponseError, match="greater than 0-0"):
        r.xadd("t", {"x": "y"}, id="0-0")
    assert r.exists("t") == 0
    with pytest.raises(redis.ResponseError, match="Invalid stream ID"):
        r.xrange("s", "x", "+")


def test_nomkstream_and_wrongtype(r):
    assert r.xadd("s", {"a": "1"}, nomkstream=True) is None
    assert r.exists("s") == 0
    r.set("str", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.xadd("str", {"a": "1"})


def test_approximate_trim_follows_node_boundaries(r):
    r.config_set("stream-node-max-entries", 100)
    for j in range(1000):
        r.xadd("s", {"item": j}, maxlen=555, approximate=True)
    assert r.xlen("s") == 600
    assert r.xtrim("s", maxlen=555, approximate=False) == 45
    assert r.xlen("s") == 555
    r.delete("s")
    r.config_set("stream-node-max-entries", 10)
    for j in range(100):
        r.xadd("s", {"x": "v"})
    r.execute_command("XADD", "s", "MAXLEN", "~", "55", "LIMIT", "30", "*", "x", "v")
    assert r.xlen("s") == 71
    r.config_set("stream-node-max-entries", 100)


def test_minid_trim(r):
    for i in range(1, 6):
        r.xadd("s", {"f": "v"}, id=f"{i}-0")
    assert r.xtrim("s", minid="3-0", approximate=False) == 2
    assert [e[0] for e in r.xrange("s")] == ["3-0", "4-0", "5-0"]


def test_xread_nonblocking(r):
    r.xadd("a", {"f": "1"}, id="1-0")
    r.xadd("b", {"f": "2"}, id="2-0")
    res = r.xread({"a": "0", "b": "0", "nokey": "0"})
    assert res == [["a", [("1-0", {"f": "1"})]], ["b", [("2-0", {"f": "2"})]]]
    assert r.xread({"a": "$"}) == []


def test_xread_resp3_is_a_map(r3):
    r3.xadd("a", {"f": "1"}, id="1-0")
    raw = r3.execute_command("XREAD", "STREAMS", "a", "0")
    assert isinstance(raw, dict)
    info = r3.execute_command("XINFO", "STREAM", "a")
    assert isinstance(info, dict)
    assert info["length"] == 1


def test_xread_block_woken_by_other_client(r, make_client):
    r.xadd("s", {"old": "x"})
    blocker = make_client()
    t = Bg(lambda: blocker.xread({"s": "$"}, block=10000))
    t.start()
    wait_blocked(r)
    r.xadd("s", {"new": "y"}, id="*")
    t.join(5)
    assert t.error is None, t.error
    assert t.result[0][0] == "s"
    assert t.result[0][1][0][1] == {"new": "y"}


def test_xread_block_woken_by_script(r, make_client):
    blocker = make_client()
    t = Bg(lambda: blocker.xread({"s": "$"}, block=10000))
    t.start()
    wait_blocked(r)
    r.eval("redis.call('XADD', KEYS[1], '7-0', 'from', 'lua')", 1, "s")
    t.join(5)
    assert t.error is None, t.error
    assert t.result == [["s", [("7-0", {"from": "lua"})]]]


def test_xread_block_times_out_and_ignores_other_types(r, make_client):
    blocker = make_client()
    t = Bg(lambda: blocker.xread({"s": "$"}, block=300))
    t.start()
    wait_blocked(r)
    # A list under the key does not wake the reader with an error.
    r.lpush("s", "x")
    r.delete("s")
    t.join(5)
    assert t.error is None, t.error
    assert t.result == []


def test_xread_block_in_multi_and_script(r, rc):
    assert rc.call("MULTI") == "OK"
    assert rc.call("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == "QUEUED"
    assert rc.call_raw("EXEC") == b"*1\r\n*-1\r\n"
    with pytest.raises(redis.ResponseError, match="not allowed with BLOCK option from scripts"):
        r.eval("return redis.call('XREAD','BLOCK','0','STREAMS','s','$')", 0)


def test_groups_read_ack_pending(r):
    for i in range(1, 5):
        r.xadd("s", {"n": i}, id=f"{i}-0")
    assert r.xgroup_create("s", "g", id="0") is True
    with pytest.raises(redis.ResponseError, match="BUSYGROUP"):
        r.xgroup_create("s", "g", id="0")
    res = r.xreadgroup("g", "alice", {"s": ">"}, count=2)
    assert [e[0] for e in res[0][1]] == ["1-0", "2-0"]
    res = r.xreadgroup("g", "bob", {"s": ">"})
    assert [e[0] for e in res[0][1]] == ["3-0", "4-0"]
    summary = r.xpending("s", "g")
    assert summary["pending"] == 4
    assert summary["min"] == "1-0" and summary["max"] == "4-0"
    assert {c["name"]: c["pending"] for c in summary["consumers"]} == {"alice": 2, "bob": 2}
    assert r.xack("s", "g", "1-0", "9-0") == 1
    # History of alice: only her own pending entries.
    res = r.xreadgroup("g", "alice", {"s": "0"})
    assert [e[0] for e in res[0][1]] == ["2-0"]
    rng = r.xpending_range("s", "g", "-", "+", 10, consumername="bob")
    assert [x["message_id"] for x in rng] == ["3-0", "4-0"]
    claimed = r.xclaim("s", "g", "alice", 0, ["3-0"], justid=True)
    assert claimed == ["3-0"]
    auto = r.execute_command("XAUTOCLAIM", "s", "g", "carol", "0", "0-0", "COUNT", "10")
    assert auto[0] == "0-0"
    assert [e[0] for e in auto[1]] == ["2-0", "3-0", "4-0"]
    groups = r.xinfo_groups("s")
    assert groups[0]["name"] == "g"
    assert groups[0]["pending"] == 3
    assert groups[0]["lag"] == 0
    with pytest.raises(redis.ResponseError, match="NOGROUP"):
        r.xreadgroup("nogroup", "c", {"s": ">"})


def test_entries_read_and_lag(r):
    for i in range(1, 6):
        r.xadd("x", {"d": i}, id=f"{i}-0")
    r.xgroup_create("x", "g1", id="0")
    full = r.xinfo_stream("x", full=True)
    assert full["groups"][0]["entries-read"] is None
    assert full["groups"][0]["lag"] == 5
    r.xreadgroup("g1", "c", {"x": ">"}, count=1)
    full = r.xinfo_stream("x", full=True)
    assert full["groups"][0]["entries-read"] == 1
    assert full["groups"][0]["lag"] == 4
    r.xdel("x", "3-0")
    assert r.xinfo_stream("x")["max-deleted-entry-id"] == "3-0"


def test_xreadgroup_block_and_destroy(r, make_client):
    r.xgroup_create("s", "g", id="$", mkstream=True)
    blocker = make_client()
    t = Bg(lambda: blocker.xreadgroup("g", "alice", {"s": ">"}, block=10000))
    t.start()
    wait_blocked(r)
    r.xadd("s", {"f": "v"}, id="10-0")
    t.join(5)
    assert t.error is None, t.error
    assert t.result == [["s", [("10-0", {"f": "v"})]]]

    t = Bg(lambda: blocker.xreadgroup("g", "alice", {"s": ">"}, block=10000))
    t.start()
    wait_blocked(r)
    r.xgroup_destroy("s", "g")
    t.join(5)
    assert isinstance(t.error, redis.ResponseError)
    assert "NOGROUP" in str(t.error) or "No such key" in str(t.error)


def test_xreadgroup_block_key_deleted(r, make_client):
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xgroup_create("s", "g", id="$")
    blocker = make_client()
    t = Bg(lambda: blocker.xreadgroup("g", "alice", {"s": ">"}, block=0))
    t.start()
    wait_blocked(r)
    r.delete("s")
    t.join(5)
    assert isinstance(t.error, redis.ResponseError)
    assert "no longer exists" in str(t.error)


def test_xsetid_and_xinfo(r):
    r.xadd("s", {"a": "b"}, maxlen=0)
    assert r.xlen("s") == 0
    assert r.execute_command("XSETID", "s", "200-0") in (True, "OK")
    info = r.xinfo_stream("s")
    assert info["last-generated-id"] == "200-0"
    assert info["entries-added"] == 1
    with pytest.raises(redis.ResponseError, match="no such key"):
        r.execute_command("XSETID", "nokey", "1-1")
    r.xadd("s", {"a": "b"})
    with pytest.raises(redis.ResponseError, match="smaller"):
        r.execute_command("XSETID", "s", "1-1")


def test_keyspace_events(r, make_client):
    r.config_set("notify-keyspace-events", "KEt")
    sub = make_client()
    p = sub.pubsub()
    p.psubscribe("__keyevent@*__:*")
    p.get_message(timeout=1)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xadd("s", {"f": "v"}, id="2-0", maxlen=1, approximate=False)
    r.xgroup_create("s", "g", id="0")
    r.xgroup_createconsumer("s", "g", "c")
    r.xgroup_delconsumer("s", "g", "c")
    r.xgroup_setid("s", "g", id="0")
    r.xgroup_destroy("s", "g")
    r.xdel("s", "2-0")
    r.execute_command("XSETID", "s", "5-0")
    events = []
    deadline = time.time() + 3
    while time.time() < deadline and len(events) < 10:
        m = p.get_message(timeout=0.5)
        if m and m["type"] == "pmessage":
            events.append(m["channel"].split(":", 1)[1])
    assert events == [
        "xadd",
        "xadd",
        "xtrim",
        "xgroup-create",
        "xgroup-createconsumer",
        "xgroup-delconsumer",
        "xgroup-setid",
        "xgroup-destroy",
        "xdel",
        "xsetid",
    ]
    r.config_set("notify-keyspace-events", "")
    p.close()


def test_copy_and_digest(r):
    for i in range(200):
        r.xadd("s", {"i": i})
    r.xgroup_create("s", "g", id="0")
    r.xreadgroup("g", "c", {"s": ">"}, count=5)
    assert r.copy("s", "s2")
    assert r.xinfo_stream("s", full=True) == r.xinfo_stream("s2", full=True)
