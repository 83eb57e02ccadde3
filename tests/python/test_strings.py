"""String commands: SET (all options), GET, GETEX, GETDEL, SETNX/SETEX/PSETEX,
INCR family, INCRBYFLOAT, APPEND, STRLEN, GETRANGE/SETRANGE, MSET/MSETNX/MGET, LCS."""

import time

import pytest

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "ERR value is not an integer or out of range"


# -- SET ----------------------------------------------------------------------


def test_set_get_basic(rc):
    assert rc.call_raw("SET", "k", "v") == b"+OK\r\n"
    assert rc.call_raw("GET", "k") == b"$1\r\nv\r\n"
    assert rc.call_raw("GET", "missing") == b"$-1\r\n"


def test_set_binary_safe(server):
    r = server.client(decode=False)
    value = bytes(range(256)) * 4 + b"\r\n\x00"
    key = b"k\x00\xff\r\n"
    assert r.set(key, value) is True
    assert r.get(key) == value
    assert r.strlen(key) == len(value)


def test_set_large_value(r):
    value = "x" * (5 * 1024 * 1024)
    r.set("big", value)
    assert r.strlen("big") == len(value)
    assert r.get("big") == value


def test_set_nx_xx(rc):
    assert rc.call("SET", "k", "1", "XX") is None
    assert rc.call("EXISTS", "k") == 0
    assert rc.call("SET", "k", "1", "NX") == "OK"
    assert rc.call("SET", "k", "2", "NX") is None
    assert rc.call("GET", "k") == b"1"
    assert rc.call("SET", "k", "3", "XX") == "OK"
    assert rc.call("GET", "k") == b"3"
    assert rc.call_raw("SET", "k", "4", "nx") == b"$-1\r\n"


def test_set_expire_options(r):
    now = time.time()
    assert r.set("ex", "v", ex=100) is True
    assert 99 <= r.ttl("ex") <= 100
    assert r.set("px", "v", px=100000) is True
    assert 99000 <= r.pttl("px") <= 100000
    assert r.set("exat", "v", exat=int(now) + 200) is True
    assert r.expiretime("exat") == int(now) + 200
    assert r.set("pxat", "v", pxat=int(now * 1000) + 300000) is True
    assert r.pexpiretime("pxat") == int(now * 1000) + 300000


def test_set_keepttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "w", keepttl=True)
    assert r.get("k") == "w"
    assert 99 <= r.ttl("k") <= 100
    r.set("k", "z")
    assert r.ttl("k") == -1


def test_set_get_option(rc):
    assert rc.call("SET", "k", "v", "GET") is None
    assert rc.call("SET", "k", "w", "GET") == b"v"
    assert rc.call("SET", "k", "x", "GET", "XX") == b"w"
    assert rc.call("SET", "k2", "v", "NX", "GET") is None
    assert rc.call("GET", "k2") == b"v"
    assert rc.call("SET", "k2", "again", "NX", "GET") == b"v"
    assert rc.call("GET", "k2") == b"v"
    assert rc.call("SET", "k3", "v", "XX", "GET") is None
    assert rc.call("EXISTS", "k3") == 0
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("SET", "l", "v", "GET") == WRONGTYPE
    assert rc.call("TYPE", "l") == "list"
    # Plain SET overwrites a key of another type.
    assert rc.call("SET", "l", "v") == "OK"
    assert rc.call("GET", "l") == b"v"


def test_set_expired_in_the_past(r):
    r.set("k", "v", pxat=int(time.time() * 1000) - 1000)
    assert r.get("k") is None


@pytest.mark.parametrize(
    "args,error",
    [
        (["NX", "XX"], "ERR syntax error"),
        (["EX", "10", "PX", "10"], "ERR syntax error"),
        (["KEEPTTL", "EX", "10"], "ERR syntax error"),
        (["EX"], "ERR syntax error"),
        (["FOO"], "ERR syntax error"),
        (["EX", "0"], "ERR invalid expire time in 'set' command"),
        (["EX", "-1"], "ERR invalid expire time in 'set' command"),
        (["PX", "0"], "ERR invalid expire time in 'set' command"),
        (["EXAT", "0"], "ERR invalid expire time in 'set' command"),
        (["EX", "9999999999999999"], "ERR invalid expire time in 'set' command"),
        (["EX", "x"], NOT_INT),
        (["PX", "1.5"], NOT_INT),
    ],
)
def test_set_errors(rc, args, error):
    assert rc.err("SET", "k", "v", *args) == error
    assert rc.call("EXISTS", "k") == 0


def test_set_arity(rc):
    assert rc.err("SET", "k") == "ERR wrong number of arguments for 'set' command"
    assert rc.err("GET") == "ERR wrong number of arguments for 'get' command"
    assert rc.err("GET", "a", "b") == "ERR wrong number of arguments for 'get' command"


def test_setnx_setex_psetex(rc):
    assert rc.call("SETNX", "k", "1") == 1
    assert rc.call("SETNX", "k", "2") == 0
    assert rc.call("GET", "k") == b"1"
    assert rc.call("SETEX", "e", "100", "v") == "OK"
    assert rc.call("TTL", "e") == 100
    assert rc.call("PSETEX", "p", "100000", "v") == "OK"
    assert 99000 <= rc.call("PTTL", "p") <= 100000
    assert rc.err("SETEX", "e", "0", "v") == "ERR invalid expire time in 'setex' command"
    assert rc.err("SETEX", "e", "x", "v") == NOT_INT
    assert rc.err("PSETEX", "p", "-1", "v") == "ERR invalid expire time in 'psetex' command"


# -- GETEX / GETDEL -----------------------------------------------------------


def test_getex(r):
    assert r.getex("missing") is None
    r.set("k", "v")
    assert r.getex("k") == "v"
    assert r.ttl("k") == -1
    assert r.getex("k", ex=100) == "v"
    assert 99 <= r.ttl("k") <= 100
    assert r.getex("k", px=50000) == "v"
    assert 49000 <= r.pttl("k") <= 50000
    at = int(time.time()) + 500
    assert r.getex("k", exat=at) == "v"
    assert r.expiretime("k") == at
    assert r.getex("k", pxat=at * 1000 + 7) == "v"
    assert r.pexpiretime("k") == at * 1000 + 7
    assert r.getex("k", persist=True) == "v"
    assert r.ttl("k") == -1


def test_getex_errors(rc):
    rc.call("SET", "k", "v")
    assert rc.err("GETEX", "k", "EX", "0") == "ERR invalid expire time in 'getex' command"
    assert rc.err("GETEX", "k", "PERSIST", "EX", "1") == "ERR syntax error"
    assert rc.err("GETEX", "k", "FOO") == "ERR syntax error"
    assert rc.err("GETEX") == "ERR wrong number of arguments for 'getex' command"
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("GETEX", "l") == WRONGTYPE


def test_getdel(rc):
    rc.call("SET", "k", "v")
    assert rc.call("GETDEL", "k") == b"v"
    assert rc.call("GETDEL", "k") is None
    assert rc.call("EXISTS", "k") == 0
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("GETDEL", "l") == WRONGTYPE


# -- INCR family --------------------------------------------------------------


def test_incr_decr(rc):
    assert rc.call_raw("INCR", "n") == b":1\r\n"
    assert rc.call("INCR", "n") == 2
    assert rc.call("INCRBY", "n", "10") == 12
    assert rc.call("DECR", "n") == 11
    assert rc.call("DECRBY", "n", "20") == -9
    assert rc.call("INCRBY", "n", "-1") == -10
    assert rc.call("GET", "n") == b"-10"
    assert rc.call("DECR", "fresh") == -1


def test_incr_keeps_ttl(r):
    r.set("n", "5", ex=100)
    assert r.incr("n") == 6
    assert 99 <= r.ttl("n") <= 100


def test_incr_overflow(rc):
    rc.call("SET", "n", "9223372036854775807")
    assert rc.err("INCR", "n") == "ERR increment or decrement would overflow"
    assert rc.err("INCRBY", "n", "1") == "ERR increment or decrement would overflow"
    rc.call("SET", "m", "-9223372036854775808")
    assert rc.err("DECR", "m") == "ERR increment or decrement would overflow"
    assert rc.call("GET", "m") == b"-9223372036854775808"
    assert rc.call("DECRBY", "k2", "9223372036854775807") == -9223372036854775807
    assert rc.err("DECRBY", "k3", "-9223372036854775808") == "ERR decrement would overflow"
    assert rc.call("INCRBY", "k3", "-9223372036854775808") == -9223372036854775808


@pytest.mark.parametrize("value", ["abc", " 1", "1 ", "1.5", "+1", "01", "", "9223372036854775808"])
def test_incr_not_an_integer(rc, value):
    rc.call("SET", "n", value)
    assert rc.err("INCR", "n") == NOT_INT
    assert rc.call("GET", "n") == value.encode()


@pytest.mark.parametrize("incr", ["1.5", "foo", "", "99999999999999999999"])
def test_incrby_bad_increment(rc, incr):
    assert rc.err("INCRBY", "n", incr) == NOT_INT
    assert rc.err("DECRBY", "n", incr) == NOT_INT


def test_incr_wrongtype(rc):
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("INCR", "l") == WRONGTYPE
    assert rc.err("INCRBYFLOAT", "l", "1") == WRONGTYPE


def test_incr_arity(rc):
    assert rc.err("INCR") == "ERR wrong number of arguments for 'incr' command"
    assert rc.err("INCRBY", "k") == "ERR wrong number of arguments for 'incrby' command"


# -- INCRBYFLOAT ----------------------------------------------------------------


@pytest.mark.parametrize(
    "initial,incr,expected",
    [
        (None, "1.1", b"1.1"),
        ("10.5", "0.1", b"10.6"),
        ("10", "1", b"11"),
        ("3", "1.5", b"4.5"),
        ("1.5e1", "0", b"15"),
        (None, "5.0e3", b"5000"),
        ("5.0e3", "200", b"5200"),
        (None, "1.0000", b"1"),
        ("1", "-1", b"0"),
        ("0.1", "0.2", b"0.3"),
        ("-3.5", "1", b"-2.5"),
    ],
)
def test_incrbyfloat_formatting(rc, initial, incr, expected):
    if initial is not None:
        rc.call("SET", "f", initial)
    assert rc.call("INCRBYFLOAT", "f", incr) == expected
    assert rc.call("GET", "f") == expected


def test_incrbyfloat_long_double_precision(rc):
    # Redis computes in long double and prints with %.17Lf, trailing zeros removed.
    rc.call("SET", "f", "5.6")
    assert rc.call("INCRBYFLOAT", "f", "3.0e3") == b"3005.60000000000000009"


def test_incrbyfloat_keeps_ttl(r):
    r.set("f", "1", ex=100)
    assert r.incrbyfloat("f", 0.5) == 1.5
    assert 99 <= r.ttl("f") <= 100


def test_incrbyfloat_errors(rc):
    rc.call("SET", "f", "1")
    assert rc.err("INCRBYFLOAT", "f", "abc") == "ERR value is not a valid float"
    rc.call("SET", "s", "abc")
    assert rc.err("INCRBYFLOAT", "s", "1") == "ERR value is not a valid float"
    rc.call("SET", "i", "inf")
    assert rc.err("INCRBYFLOAT", "i", "1") == "ERR increment would produce NaN or Infinity"
    assert rc.err("INCRBYFLOAT", "new", "inf") == "ERR increment would produce NaN or Infinity"
    assert rc.call("EXISTS", "new") == 0


# -- APPEND / STRLEN / GETRANGE / SETRANGE --------------------------------------


def test_append_strlen(rc):
    assert rc.call("APPEND", "k", "ab") == 2
    assert rc.call("APPEND", "k", "cd") == 4
    assert rc.call("APPEND", "k", "") == 4
    assert rc.call("GET", "k") == b"abcd"
    assert rc.call("STRLEN", "k") == 4
    assert rc.call("STRLEN", "missing") == 0
    assert rc.call("APPEND", "e", "") == 0
    rc.call("SET", "n", "10")
    assert rc.call("APPEND", "n", "5") == 3
    assert rc.call("INCR", "n") == 106
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("APPEND", "l", "x") == WRONGTYPE
    assert rc.err("STRLEN", "l") == WRONGTYPE


@pytest.mark.parametrize(
    "start,end,expected",
    [
        (0, 3, b"This"),
        (-3, -1, b"ing"),
        (0, -1, b"This is a string"),
        (10, 100, b"string"),
        (5, 3, b""),
        (-100, -50, b"T"),
        (-1, -100, b""),
        (100, 200, b""),
        (15, 15, b"g"),
    ],
)
def test_getrange(rc, start, end, expected):
    rc.call("SET", "s", "This is a string")
    assert rc.call("GETRANGE", "s", str(start), str(end)) == expected


def test_getrange_missing_and_errors(rc):
    assert rc.call("GETRANGE", "missing", "0", "-1") == b""
    assert rc.err("GETRANGE", "s", "a", "1") == NOT_INT
    assert rc.err("GETRANGE", "s", "0") == "ERR wrong number of arguments for 'getrange' command"
    rc.call("SET", "s", "abcdef")
    assert rc.call("SUBSTR", "s", "1", "3") == b"bcd"


def test_setrange(rc):
    rc.call("SET", "s", "Hello World")
    assert rc.call("SETRANGE", "s", "6", "Redis") == 11
    assert rc.call("GET", "s") == b"Hello Redis"
    assert rc.call("SETRANGE", "s", "11", "!!") == 13
    assert rc.call("GET", "s") == b"Hello Redis!!"
    assert rc.call("SETRANGE", "pad", "5", "hi") == 7
    assert rc.call("GET", "pad") == b"\x00\x00\x00\x00\x00hi"
    assert rc.call("SETRANGE", "empty", "0", "") == 0
    assert rc.call("EXISTS", "empty") == 0
    assert rc.call("SETRANGE", "s", "3", "") == 13


def test_setrange_errors(rc):
    assert rc.err("SETRANGE", "s", "-1", "x") == "ERR offset is out of range"
    assert rc.err("SETRANGE", "s", "536870912", "x") == (
        "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    )
    assert rc.call("SETRANGE", "s", "536870911", "") == 0
    assert rc.err("SETRANGE", "s", "x", "a") == NOT_INT
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("SETRANGE", "l", "0", "x") == WRONGTYPE


# -- MSET / MSETNX / MGET --------------------------------------------------------


def test_mset_mget(rc):
    assert rc.call_raw("MSET", "a", "1", "b", "2") == b"+OK\r\n"
    assert rc.call("MGET", "a", "b", "nonexist") == [b"1", b"2", None]
    assert rc.call_raw("MGET", "a", "x") == b"*2\r\n$1\r\n1\r\n$-1\r\n"
    assert rc.call("MSET", "a", "3", "a", "4") == "OK"
    assert rc.call("GET", "a") == b"4"


def test_mget_wrongtype_is_nil(rc):
    assert rc.call("RPUSH", "l", "a") == 1
    rc.call("SET", "s", "v")
    assert rc.call("MGET", "l", "s") == [None, b"v"]


def test_msetnx(rc):
    assert rc.call("MSETNX", "a", "1", "b", "2") == 1
    assert rc.call("MSETNX", "a", "9", "c", "3") == 0
    assert rc.call("GET", "a") == b"1"
    assert rc.call("EXISTS", "c") == 0


def test_mset_arity(rc):
    assert rc.err("MSET", "a") == "ERR wrong number of arguments for 'mset' command"
    assert rc.err("MSET", "a", "1", "b") == "ERR wrong number of arguments for 'mset' command"
    assert rc.err("MSETNX", "a", "1", "b") == "ERR wrong number of arguments for 'msetnx' command"
    assert rc.err("MGET") == "ERR wrong number of arguments for 'mget' command"


# -- LCS ------------------------------------------------------------------------


def test_lcs(rc):
    rc.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert rc.call("LCS", "key1", "key2") == b"mytext"
    assert rc.call("LCS", "key1", "key2", "LEN") == 6
    assert rc.call("LCS", "key1", "missing") == b""
    assert rc.call("LCS", "missing1", "missing2", "LEN") == 0


def test_lcs_idx(rc):
    rc.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert rc.call("LCS", "key1", "key2", "IDX") == [
        b"matches",
        [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len",
        6,
    ]
    assert rc.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN") == [
        b"matches",
        [[[4, 7], [5, 8], 4]],
        b"len",
        6,
    ]


def test_lcs_idx_resp3_is_map(rc):
    rc.call("HELLO", "3")
    rc.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
    assert rc.call("LCS", "key1", "key2", "IDX") == {
        b"matches": [[[4, 7], [5, 8]], [[2, 3], [0, 1]]],
        b"len": 6,
    }


def test_lcs_errors(rc):
    rc.call("MSET", "key1", "a", "key2", "b")
    assert rc.err("LCS", "key1", "key2", "FOO") == "ERR syntax error"
    assert rc.err("LCS", "key1", "key2", "LEN", "IDX") == (
        "ERR If you want both the length and indexes, please just use IDX."
    )
    assert rc.err("LCS") == "ERR wrong number of arguments for 'lcs' command"
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("LCS", "key1", "l") == (
        "ERR The specified keys must contain string values"
    )
