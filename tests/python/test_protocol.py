"""Wire protocol: error texts, arity, RESP3 reply types, pipelining, inline commands,
protocol errors."""

import time

import pytest

from conftest import ConnectionClosed, Error, RespSet, Status, Verbatim, encode_command


def assert_alive(server):
    c = server.conn()
    assert c.call_raw("PING") == b"+PONG\r\n"
    c.close()


# -- unknown commands and arity -----------------------------------------------


def test_unknown_command_with_args(rc):
    assert rc.call_raw("foo", "a", "b") == (
        b"-ERR unknown command 'foo', with args beginning with: 'a' 'b' \r\n"
    )


def test_unknown_command_without_args(rc):
    assert rc.err("foo") == "ERR unknown command 'foo', with args beginning with: "


def test_unknown_command_keeps_case_and_quotes(rc):
    assert rc.err("FoO", "a b", "c'd") == (
        "ERR unknown command 'FoO', with args beginning with: 'a b' 'c'd' "
    )


def test_unknown_command_long_args_truncated(rc):
    assert rc.err("foo", "x" * 200, "y") == (
        "ERR unknown command 'foo', with args beginning with: '" + "x" * 128 + "' "
    )
    assert rc.err("z" * 300) == (
        "ERR unknown command '" + "z" * 128 + "', with args beginning with: "
    )
    letters = [chr(c) for c in range(ord("a"), ord("z") + 1)] * 3
    expected = "".join(f"'{x}' " for x in letters[:32])
    assert rc.err("foo", *letters) == (
        "ERR unknown command 'foo', with args beginning with: " + expected
    )


def test_unknown_command_binary_and_newlines(rc):
    # Raw bytes are echoed as they are; CR and LF become spaces.
    assert rc.call_raw(b"\xff\xfe", b"a\r\nb", b"\xc3\xa9") == (
        b"-ERR unknown command '\xff\xfe', with args beginning with: 'a  b' '\xc3\xa9' \r\n"
    )


def test_unknown_command_does_not_close(rc):
    rc.err("nosuchcommand")
    assert rc.call("PING") == "PONG"


@pytest.mark.parametrize(
    "args,name",
    [
        (["GET"], "get"),
        (["set", "k"], "set"),
        (["PING", "a", "b"], "ping"),
        (["INCR"], "incr"),
        (["EXPIRE", "k"], "expire"),
        (["getrange", "k", "0"], "getrange"),
        (["SETBIT", "k", "0"], "setbit"),
        (["Echo"], "echo"),
        (["DBSIZE", "x"], "dbsize"),
    ],
)
def test_wrong_arity(rc, args, name):
    assert rc.err(*args) == f"ERR wrong number of arguments for '{name}' command"


def test_unknown_subcommand(rc):
    assert rc.err("CONFIG", "foo") == "ERR unknown subcommand 'foo'. Try CONFIG HELP."
    assert rc.err("CLIENT", "nope") == "ERR unknown subcommand 'nope'. Try CLIENT HELP."


def test_empty_command_name(rc):
    assert rc.err("") == "ERR unknown command '', with args beginning with: "


# -- RESP3 -------------------------------------------------------------------------


@pytest.fixture
def rc3(rc):
    assert isinstance(rc.call("HELLO", "3"), dict)
    return rc


def test_resp3_null(rc3):
    assert rc3.call_raw("GET", "missing") == b"_\r\n"
    rc3.call("SET", "a", "1")
    assert rc3.call_raw("MGET", "a", "missing") == b"*2\r\n$1\r\n1\r\n_\r\n"
    assert rc3.call_raw("SET", "k", "v", "XX") == b"_\r\n"
    assert rc3.call_raw("CLIENT", "GETNAME") == b"_\r\n"


def test_resp3_scalars(rc3):
    assert rc3.call_raw("SET", "k", "v") == b"+OK\r\n"
    assert rc3.call_raw("GET", "k") == b"$1\r\nv\r\n"
    assert rc3.call_raw("EXISTS", "k") == b":1\r\n"
    assert rc3.call_raw("INCRBYFLOAT", "f", "1.5") == b"$3\r\n1.5\r\n"
    assert rc3.call_raw("INCR", "k") == b"-ERR value is not an integer or out of range\r\n"
    assert rc3.call_raw("PING") == b"+PONG\r\n"


def test_resp3_arrays(rc3):
    rc3.call("SET", "k", "v")
    assert rc3.call_raw("KEYS", "*") == b"*1\r\n$1\r\nk\r\n"
    assert rc3.call_raw("SCAN", "0") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"


def test_resp3_map_hello(rc3):
    raw = rc3.call_raw("HELLO", "3")
    assert raw.startswith(b"%7\r\n")


def test_resp3_config_get_map(rc):
    assert rc.call("CONFIG", "GET", "maxmemory") == [b"maxmemory", b"0"]
    rc.call("HELLO", "3")
    assert rc.call_raw("CONFIG", "GET", "maxmemory") == b"%1\r\n$9\r\nmaxmemory\r\n$1\r\n0\r\n"


def test_resp3_verbatim(rc3):
    raw = rc3.call_raw("CLIENT", "LIST")
    assert raw.startswith(b"=")
    assert raw[raw.index(b"\r\n") + 2 :].startswith(b"txt:id=")


def test_resp3_collection_types(rc3):
    assert rc3.call("SADD", "s", "a") == 1
    assert rc3.call_raw("SMEMBERS", "s") == b"~1\r\n$1\r\na\r\n"
    assert rc3.call("HSET", "h", "f", "v") == 1
    assert rc3.call_raw("HGETALL", "h") == b"%1\r\n$1\r\nf\r\n$1\r\nv\r\n"
    assert rc3.call("ZADD", "z", "1.5", "m") == 1
    assert rc3.call_raw("ZSCORE", "z", "m") == b",1.5\r\n"


def test_resp3_lua_types(rc3):
    assert rc3.call_raw("EVAL", "redis.setresp(3); return {double=3.5}", "0") == b",3.5\r\n"
    # Redis 7.0 formats doubles with %.17g.
    assert rc3.call_raw("EVAL", "redis.setresp(3); return {double=3.14}", "0") == (
        b",3.1400000000000001\r\n"
    )
    assert rc3.call_raw("EVAL", "redis.setresp(3); return true", "0") == b"#t\r\n"
    assert rc3.call_raw("EVAL", "redis.setresp(3); return false", "0") == b"#f\r\n"
    assert rc3.call_raw("EVAL", "return false", "0") == b"_\r\n"
    assert rc3.call_raw("EVAL", "redis.setresp(3); return {map={a=1}}", "0") == (
        b"%1\r\n$1\r\na\r\n:1\r\n"
    )


def test_resp2_lua_types(rc):
    assert rc.call_raw("EVAL", "return true", "0") == b":1\r\n"
    assert rc.call_raw("EVAL", "return false", "0") == b"$-1\r\n"
    assert rc.call_raw("EVAL", "return 3.99", "0") == b":3\r\n"
    assert rc.call_raw("EVAL", "return {1,'two',{3}}", "0") == b"*3\r\n:1\r\n$3\r\ntwo\r\n*1\r\n:3\r\n"
    assert rc.call_raw("EVAL", "return redis.status_reply('FINE')", "0") == b"+FINE\r\n"
    assert rc.call_raw("EVAL", "return redis.error_reply('MY err')", "0") == b"-MY err\r\n"


def test_resp3_redis_py(r3):
    r3.set("k", "v")
    assert r3.get("k") == "v"
    assert r3.get("missing") is None
    assert r3.mget("k", "missing") == ["v", None]
    assert r3.exists("k") == 1


# -- pipelining ---------------------------------------------------------------------


def test_pipeline_1000_commands_one_write(rc):
    payload = b"".join(encode_command("INCR", "counter") for _ in range(999))
    payload += encode_command("GET", "counter")
    rc.send(payload)
    replies = [rc.read_reply() for _ in range(1000)]
    assert replies[:999] == list(range(1, 1000))
    assert replies[999] == b"999"


def test_long_pipeline_with_a_blocking_pop_and_another_client(server):
    """A long pipeline is run in several batches (a batch is cut when its
    commands are slow, and reading stops while a batch's worth waits); a
    blocking pop in the middle parks the rest, and another client is served
    meanwhile and unblocks it."""
    a = server.conn()
    b = server.conn()
    first = b"".join(encode_command("INCR", "cnt") for _ in range(20000))
    rest = b"".join(encode_command("INCR", "cnt") for _ in range(20000))
    a.send(first + encode_command("BLPOP", "bq", "10") + rest + encode_command("GET", "cnt"))
    assert [a.read_reply() for _ in range(20000)] == list(range(1, 20001))
    assert b.call("PING") == Status("PONG")
    assert b.call("RPUSH", "bq", "x") == 1
    assert a.read_reply() == [b"bq", b"x"]
    assert [a.read_reply() for _ in range(20000)] == list(range(20001, 40001))
    assert a.read_reply() == b"40000"


def test_slow_pipeline_is_cut_and_another_client_is_served(server):
    """A batch slower than its size predicted stops at its deadline (about
    0.6 ms of commands): another client's PING is answered between two
    slow scripts of a long pipeline, not after all of them, and the
    pipeline's replies still come complete and in order."""
    slow = (
        "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
        "repeat local n = redis.call('TIME') until n[1] * 1000000 + n[2] - t0 > 5000 "
        "return 1"
    )
    a = server.conn()
    b = server.conn()
    pipeline = b"".join(
        encode_command("EVAL", slow, "0") + encode_command("INCR", "cut") for _ in range(40)
    )
    t0 = time.monotonic()
    a.send(pipeline)
    time.sleep(0.002)
    assert b.call("PING") == Status("PONG")
    ping_done = time.monotonic() - t0
    replies = [a.read_reply() for _ in range(80)]
    total = time.monotonic() - t0
    assert replies == [x for i in range(1, 41) for x in (1, i)]
    # 40 scripts of 5 ms: ~200 ms in all; the PING waits for one or two.
    assert total >= 0.2
    assert ping_done < total / 4, (ping_done, total)


def test_pipeline_mixed_commands_one_write(rc):
    cmds = []
    expected = []
    for i in range(1000):
        if i % 3 == 0:
            cmds.append(encode_command("SET", f"k{i}", f"v{i}"))
            expected.append(Status("OK"))
        elif i % 3 == 1:
            cmds.append(encode_command("GET", f"k{i - 1}"))
            expected.append(f"v{i - 1}".encode())
        else:
            cmds.append(encode_command("NOSUCH", "x"))
            expected.append(Error("ERR unknown command 'NOSUCH', with args beginning with: 'x' "))
    rc.send(b"".join(cmds))
    assert [rc.read_reply() for _ in range(1000)] == expected


def test_pipeline_redis_py(r):
    with r.pipeline(transaction=False) as p:
        for i in range(1000):
            p.set(f"key:{i}", i)
        for i in range(1000):
            p.get(f"key:{i}")
        results = p.execute()
    assert results[:1000] == [True] * 1000
    assert results[1000:] == [str(i) for i in range(1000)]


def test_pipeline_split_across_writes(rc):
    payload = b"".join(encode_command("ECHO", f"msg-{i}") for i in range(200))
    # Send in awkward chunk sizes so commands straddle packet boundaries.
    for start in range(0, len(payload), 7):
        rc.send(payload[start : start + 7])
    assert [rc.read_reply() for _ in range(200)] == [f"msg-{i}".encode() for i in range(200)]


def test_large_pipeline_of_pings(rc):
    n = 20000
    rc.send(b"PING\r\n" * (n // 2) + encode_command("PING") * (n // 2))
    data = b""
    want = b"+PONG\r\n" * n
    while len(data) < len(want):
        chunk = rc.sock.recv(1 << 20)
        assert chunk, "connection closed"
        data += chunk
    assert data == want


# -- inline commands -------------------------------------------------------------------


def test_inline_basic(rc):
    rc.send(b"PING\r\n")
    assert rc.read_raw_reply() == b"+PONG\r\n"
    rc.send(b"SET k hello\r\nGET k\r\n")
    assert rc.read_raw_reply() == b"+OK\r\n"
    assert rc.read_raw_reply() == b"$5\r\nhello\r\n"


def test_inline_lf_only_and_blank_lines(rc):
    rc.send(b"\r\n\r\n\n\nPING\nECHO   spaced    \n")
    assert rc.read_raw_reply() == b"+PONG\r\n"
    assert rc.read_raw_reply() == b"$6\r\nspaced\r\n"


def test_inline_quotes(rc):
    rc.send(b'SET k "a\\x41 b\\n"\r\nGET k\r\n')
    assert rc.read_raw_reply() == b"+OK\r\n"
    assert rc.read_raw_reply() == b"$5\r\naA b\n\r\n"
    rc.send(b"SET k2 'it\\'s'\r\nGET k2\r\n")
    assert rc.read_raw_reply() == b"+OK\r\n"
    assert rc.read_raw_reply() == b"$4\r\nit's\r\n"
    rc.send(b'ECHO ""\r\n')
    assert rc.read_raw_reply() == b"$0\r\n\r\n"


def test_inline_unknown_command(rc):
    rc.send(b"FOO bar baz\r\n")
    assert rc.read_raw_reply() == (
        b"-ERR unknown command 'FOO', with args beginning with: 'bar' 'baz' \r\n"
    )


def test_inline_and_multibulk_interleaved(rc):
    rc.send(b"SET a 1\r\n" + encode_command("INCR", "a") + b"INCR a\r\n" + encode_command("GET", "a"))
    assert [rc.read_reply() for _ in range(4)] == ["OK", 2, 3, b"3"]


def test_empty_multibulk_ignored(rc):
    rc.send(b"*0\r\n*-1\r\nPING\r\n")
    assert rc.read_raw_reply() == b"+PONG\r\n"


# -- protocol errors: error reply, then the connection is closed ---------------------


@pytest.mark.parametrize(
    "payload,error",
    [
        (b'SET k "abc\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"SET k 'a'b\r\n", b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b'"\r\n', b"-ERR Protocol error: unbalanced quotes in request\r\n"),
        (b"*abc\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*3000000000\r\n", b"-ERR Protocol error: invalid multibulk length\r\n"),
        (b"*1\r\nfoo\r\n", b"-ERR Protocol error: expected '$', got 'f'\r\n"),
        (b"*1\r\n$-5\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$-1\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$abc\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$600000000\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"*1\r\n$536870913\r\n", b"-ERR Protocol error: invalid bulk length\r\n"),
        (b"x" * 70000, b"-ERR Protocol error: too big inline request\r\n"),
        (b"*" + b"1" * 70000, b"-ERR Protocol error: too big mbulk count string\r\n"),
    ],
    ids=[
        "inline-unterminated-double-quote",
        "inline-closing-quote-not-followed-by-space",
        "inline-lone-quote",
        "multibulk-not-a-number",
        "multibulk-too-large",
        "expected-dollar",
        "bulk-negative",
        "bulk-minus-one",
        "bulk-not-a-number",
        "bulk-600MB",
        "bulk-over-512MB",
        "inline-too-big",
        "mbulk-count-too-big",
    ],
)
def test_protocol_error_closes_connection(server, payload, error):
    c = server.conn()
    c.send(payload)
    assert c.read_until_closed() == error
    assert_alive(server)


def test_replies_before_protocol_error_are_delivered(server):
    c = server.conn()
    c.send(b"PING\r\n" + encode_command("ECHO", "x") + b"*1\r\n$-5\r\nPING\r\n")
    assert c.read_until_closed() == (
        b"+PONG\r\n$1\r\nx\r\n-ERR Protocol error: invalid bulk length\r\n"
    )
    assert_alive(server)


def test_max_bulk_length_is_accepted(server):
    # 512 MB exactly is within proto-max-bulk-len: the server waits for the data.
    c = server.conn()
    c.send(b"*1\r\n$536870912\r\n")
    with pytest.raises(AssertionError, match="not closed"):
        c.read_until_closed(timeout=0.5)
    assert_alive(server)
    c.close()
    assert_alive(server)


def test_closed_connection_raises(server):
    c = server.conn()
    c.send(b"QUIT\r\n")
    assert c.read_raw_reply() == b"+OK\r\n"
    with pytest.raises(ConnectionClosed):
        c.read_reply()


def test_types_helpers_sanity():
    # Guards the test harness itself.
    assert isinstance(RespSet([1]), list)
    assert Verbatim("txt", "hello") == "hello"
