"""Client-side caching (CLIENT TRACKING) and CLIENT PAUSE, black-box.

Every test also passes against redis-server 7.0.15 (LUNAKV_TEST_TARGET=redis).
"""

import time

from conftest import Error, Push, RespConn, encode_command


def hello3(c: RespConn):
    reply = c.call("HELLO", "3")
    assert reply[b"proto"] == 3


# -- default mode ----------------------------------------------------------------


def test_resp3_invalidation_after_the_reply(server):
    c = server.conn()
    other = server.conn()
    hello3(c)
    assert c.call("CLIENT", "TRACKING", "on") == "OK"
    assert c.call("SET", "k", "1") == "OK"
    assert c.call("GET", "k") == b"1"
    # The client's own write: the reply first, then the push.
    assert c.call("INCR", "k") == 2
    assert c.read_reply() == Push([b"invalidate", [b"k"]])
    # Another client's write to a key read again.
    assert c.call("GET", "k") == b"2"
    assert other.call("SET", "k", "x") == "OK"
    assert c.read_reply() == Push([b"invalidate", [b"k"]])
    # Not read since the last invalidation: no second message.
    assert other.call("SET", "k", "y") == "OK"
    assert c.call("PING") == "PONG"


def test_resp2_redirect_to_pubsub_client(server):
    sub = server.conn()
    rid = sub.call("CLIENT", "ID")
    assert sub.call("SUBSCRIBE", "__redis__:invalidate") == [
        b"subscribe", b"__redis__:invalidate", 1]
    c = server.conn()
    assert c.call("CLIENT", "TRACKING", "on", "REDIRECT", str(rid)) == "OK"
    assert c.call("CLIENT", "GETREDIR") == rid
    c.call("MSET", "a", "1", "b", "2")
    assert c.call("GET", "a") == b"1"
    c.call("INCR", "b")  # not read: no message
    c.call("INCR", "a")
    assert sub.read_reply() == [b"message", b"__redis__:invalidate", [b"a"]]
    # A flush invalidates everything with a null.
    c.call("GET", "a")
    c.call("FLUSHALL")
    assert sub.read_reply() == [b"message", b"__redis__:invalidate", None]


def test_script_write_invalidates_tracked_key(server):
    c = server.conn()
    other = server.conn()
    hello3(c)
    assert c.call("CLIENT", "TRACKING", "on") == "OK"
    other.call("SET", "sk", "1")
    assert c.call("GET", "sk") == b"1"
    assert other.call("EVAL", "return redis.call('set', KEYS[1], 'v2')", "1", "sk") == "OK"
    assert c.read_reply() == Push([b"invalidate", [b"sk"]])


def test_script_read_tracks_declared_keys(server):
    c = server.conn()
    other = server.conn()
    hello3(c)
    assert c.call("CLIENT", "TRACKING", "on") == "OK"
    # A script that reads tracks the keys declared to EVAL.
    c.call("EVAL", "return redis.call('get', 'zz')", "2", "k1", "k2")
    other.call("MSET", "k2", "1", "k1", "1")
    assert c.read_reply() == Push([b"invalidate", [b"k2"]])
    assert c.read_reply() == Push([b"invalidate", [b"k1"]])
    assert c.call("PING") == "PONG"


def test_noloop_and_optin(server):
    c = server.conn()
    other = server.conn()
    hello3(c)
    assert c.call("CLIENT", "TRACKING", "on", "NOLOOP") == "OK"
    c.call("GET", "n1")
    assert c.call("SET", "n1", "x") == "OK"  # own write: no message
    other.call("SET", "n1", "y")
    assert c.call("PING") == "PONG"
    assert c.call("CLIENT", "TRACKING", "off") == "OK"
    assert c.call("CLIENT", "TRACKING", "on", "OPTIN") == "OK"
    c.call("GET", "o1")  # not cached without CACHING yes
    assert c.call("CLIENT", "CACHING", "yes") == "OK"
    c.call("GET", "o2")
    other.call("MSET", "o1", "1", "o2", "2")
    assert c.read_reply() == Push([b"invalidate", [b"o2"]])
    info = c.call("CLIENT", "TRACKINGINFO")
    assert list(info[b"flags"]) == [b"on", b"optin"]
    assert info[b"redirect"] == 0


def test_bcast_prefixes(server):
    c = server.conn()
    other = server.conn()
    hello3(c)
    assert c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:") == "OK"
    other.call("MSET", "user:1", "a", "user:2", "b", "other", "c")
    msg = c.read_reply()
    assert msg[0] == b"invalidate"
    assert sorted(msg[1]) == [b"user:1", b"user:2"]
    err = c.call("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:x")
    assert isinstance(err, Error)
    assert err.startswith("ERR Prefix 'user:x' overlaps with an existing prefix 'user:'")
    info = c.call("INFO", "stats")
    assert "tracking_total_prefixes:1" in str(info)


def test_tracking_errors(server):
    c = server.conn()
    assert c.err("CLIENT", "TRACKING", "on", "REDIRECT", "999999") == (
        "ERR The client ID you want redirect to does not exist")
    assert c.err("CLIENT", "TRACKING", "on", "PREFIX", "a") == (
        "ERR PREFIX option requires BCAST mode to be enabled")
    assert c.err("CLIENT", "CACHING", "yes").startswith(
        "ERR CLIENT CACHING can be called only when the client is in tracking mode")
    assert c.err("CLIENT", "TRACKING", "maybe") == "ERR syntax error"


# -- CLIENT PAUSE ----------------------------------------------------------------


def test_pause_write_postpones_writes_in_order(server):
    admin = server.conn()
    w = server.conn()
    reader = server.conn()
    assert admin.call("CLIENT", "PAUSE", "60000", "WRITE") == "OK"
    try:
        # Reads are served; a pipelined write waits with what follows it.
        assert reader.call("GET", "pk") is None
        w.send(encode_command("SET", "pk", "1") + encode_command("INCR", "pk")
               + encode_command("GET", "pk"))
        deadline = time.monotonic() + 5
        while b"blocked_clients:1" not in admin.call("INFO", "clients"):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert admin.call("GET", "pk") is None
        # A read-only script runs; a script that may write waits.
        assert reader.call("EVAL", "#!lua flags=no-writes\nreturn 7", "0") == 7
    finally:
        assert admin.call("CLIENT", "UNPAUSE") == "OK"
    assert w.read_reply() == "OK"
    assert w.read_reply() == 2
    assert w.read_reply() == b"2"


def test_pause_errors(server):
    c = server.conn()
    assert c.err("CLIENT", "PAUSE", "10", "READ") == "ERR CLIENT PAUSE mode must be WRITE or ALL"
    assert c.err("CLIENT", "PAUSE", "-1") == "ERR timeout is negative"
    assert c.err("CLIENT", "PAUSE", "abc") == "ERR timeout is not an integer or out of range"


def expired_keys(c: RespConn) -> int:
    info = c.call("INFO", "stats").decode()
    line = [x for x in info.split("\r\n") if x.startswith("expired_keys:")][0]
    return int(line.split(":")[1])


def test_pause_holds_expiry(server):
    c = server.conn()
    c.call("SET", "ek", "v", "PX", "20")
    assert c.call("CLIENT", "PAUSE", "60000", "WRITE") == "OK"
    try:
        time.sleep(0.1)
        before = expired_keys(c)
        assert c.call("GET", "ek") is None  # logically expired
        assert expired_keys(c) == before
    finally:
        c.call("CLIENT", "UNPAUSE")
    assert c.call("GET", "ek") is None


def test_reset_clears_tracking(server):
    c = server.conn()
    assert c.call("CLIENT", "TRACKING", "on") == "OK"
    assert c.call("CLIENT", "SETNAME", "x") == "OK"
    assert c.call("RESET") == "RESET"
    line = c.call("CLIENT", "INFO").decode()
    assert " flags=N " in line and " name= " in line and " redir=-1 " in line
