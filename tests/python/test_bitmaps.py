"""Bitmap commands: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO."""

import pytest

BAD_OFFSET = "ERR bit offset is not an integer or out of range"
BAD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. "
    "Note that u64 is not supported but i64 is."
)


@pytest.fixture
def rb(server):
    """A bytes (non-decoding) RESP2 client."""
    return server.client(decode=False)


# -- SETBIT / GETBIT ---------------------------------------------------------


def test_setbit_getbit(rc):
    assert rc.call_raw("SETBIT", "b", "7", "1") == b":0\r\n"
    assert rc.call("SETBIT", "b", "7", "1") == 1
    assert rc.call("GET", "b") == b"\x01"
    assert rc.call("SETBIT", "b", "0", "1") == 0
    assert rc.call("GET", "b") == b"\x81"
    assert rc.call("SETBIT", "b", "7", "0") == 1
    assert rc.call("GET", "b") == b"\x80"
    assert rc.call("GETBIT", "b", "0") == 1
    assert rc.call("GETBIT", "b", "1") == 0
    assert rc.call("GETBIT", "b", "100") == 0
    assert rc.call("GETBIT", "missing", "0") == 0


def test_setbit_grows_with_zeros(rc):
    assert rc.call("SETBIT", "b", "23", "1") == 0
    assert rc.call("GET", "b") == b"\x00\x00\x01"
    assert rc.call("STRLEN", "b") == 3
    rc.call("SET", "s", "a")
    assert rc.call("SETBIT", "s", "6", "1") == 0
    assert rc.call("SETBIT", "s", "7", "1") == 1
    assert rc.call("SETBIT", "s", "14", "1") == 0
    assert rc.call("GET", "s") == b"c\x02"


def test_setbit_errors(rc):
    assert rc.err("SETBIT", "b", "4294967296", "1") == BAD_OFFSET
    assert rc.err("SETBIT", "b", "-1", "1") == BAD_OFFSET
    assert rc.err("SETBIT", "b", "x", "1") == BAD_OFFSET
    assert rc.err("SETBIT", "b", "0", "2") == "ERR bit is not an integer or out of range"
    assert rc.err("GETBIT", "b", "-1") == BAD_OFFSET
    assert rc.call("EXISTS", "b") == 0
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("SETBIT", "l", "0", "1") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


def test_setbit_max_offset(rc):
    # The highest allowed offset is 2^32-1 (a 512 MB string).
    assert rc.call("SETBIT", "big", "4294967295", "1") == 0
    assert rc.call("STRLEN", "big") == 536870912
    assert rc.call("GETBIT", "big", "4294967295") == 1
    assert rc.call("BITCOUNT", "big") == 1
    assert rc.call("DEL", "big") == 1


# -- BITCOUNT ------------------------------------------------------------------


@pytest.mark.parametrize(
    "args,expected",
    [
        ([], 26),
        (["0", "0"], 4),
        (["1", "1"], 6),
        (["1", "1", "BYTE"], 6),
        (["5", "30", "BIT"], 17),
        (["-2", "-1"], 7),
        (["0", "-1"], 26),
        (["3", "1"], 0),
        (["-100", "100"], 26),
        (["0", "-1", "bit"], 26),
        (["-1", "-1", "BIT"], 0),
        (["40", "47", "BIT"], 4),
    ],
)
def test_bitcount(rc, args, expected):
    rc.call("SET", "s", "foobar")
    assert rc.call("BITCOUNT", "s", *args) == expected


def test_bitcount_errors(rc):
    rc.call("SET", "s", "foobar")
    assert rc.call("BITCOUNT", "missing") == 0
    assert rc.err("BITCOUNT", "s", "0") == "ERR syntax error"
    assert rc.err("BITCOUNT", "s", "0", "1", "FOO") == "ERR syntax error"
    assert rc.err("BITCOUNT", "s", "a", "b") == "ERR value is not an integer or out of range"


# -- BITPOS ------------------------------------------------------------------------


def test_bitpos(rb):
    rb.set("p", b"\xff\xf0\x00")
    assert rb.bitpos("p", 0) == 12
    rb.set("q", b"\x00\xff\xf0")
    assert rb.bitpos("q", 1, 0) == 8
    assert rb.bitpos("q", 1, 2) == 16
    assert rb.bitpos("q", 1, 2, -1, "BYTE") == 16
    assert rb.bitpos("q", 1, 7, 15, "BIT") == 8
    assert rb.bitpos("q", 0, 8, 15, "BIT") == -1
    assert rb.bitpos("q", 1, 20, 23, "BIT") == -1
    rb.set("zero", b"\x00\x00")
    assert rb.bitpos("zero", 1) == -1
    assert rb.bitpos("zero", 0) == 0


def test_bitpos_clear_bit_past_end(rb):
    rb.set("ones", b"\xff\xff")
    # With no range, a string of all ones has its first clear bit right after it.
    assert rb.bitpos("ones", 0) == 16
    # With an explicit range, there is no clear bit to find.
    assert rb.bitpos("ones", 0, 0) == 16
    assert rb.bitpos("ones", 0, 0, -1) == -1
    assert rb.bitpos("ones", 0, 0, -1, "BIT") == -1
    assert rb.bitpos("ones", 1, 0, -1) == 0


def test_bitpos_missing_and_errors(rc):
    assert rc.call("BITPOS", "missing", "0") == 0
    assert rc.call("BITPOS", "missing", "1") == -1
    rc.call("SET", "s", "foobar")
    assert rc.err("BITPOS", "s", "2") == "ERR The bit argument must be 1 or 0."
    assert rc.err("BITPOS", "s", "1", "0", "1", "FOO") == "ERR syntax error"
    assert rc.err("BITPOS", "s", "1", "x") == "ERR value is not an integer or out of range"


# -- BITOP -------------------------------------------------------------------------


def test_bitop(rb):
    rb.set("k1", b"foobar")
    rb.set("k2", b"abcdef")
    assert rb.bitop("AND", "dest", "k1", "k2") == 6
    assert rb.get("dest") == b"`bc`ab"
    assert rb.bitop("OR", "dest", "k1", "k2") == 6
    assert rb.get("dest") == b"goofev"
    assert rb.bitop("XOR", "dest", "k1", "k2") == 6
    assert rb.get("dest") == b"\x07\x0d\x0c\x06\x04\x14"
    assert rb.bitop("NOT", "dest", "k1") == 6
    assert rb.get("dest") == bytes(255 - c for c in b"foobar")


def test_bitop_different_lengths(rb):
    rb.set("a", b"\xff\xff\xff")
    rb.set("b", b"\x0f")
    assert rb.bitop("AND", "d", "a", "b") == 3
    assert rb.get("d") == b"\x0f\x00\x00"
    assert rb.bitop("OR", "d", "a", "b", "missing") == 3
    assert rb.get("d") == b"\xff\xff\xff"
    assert rb.bitop("XOR", "d", "b", "missing") == 1
    assert rb.get("d") == b"\x0f"


def test_bitop_missing_sources_delete_dest(rb):
    rb.set("dest", b"x")
    assert rb.bitop("AND", "dest", "nokey", "nokey2") == 0
    assert rb.exists("dest") == 0


def test_bitop_errors(rc):
    rc.call("MSET", "k1", "a", "k2", "b")
    assert rc.err("BITOP", "NOT", "dest", "k1", "k2") == (
        "ERR BITOP NOT must be called with a single source key."
    )
    assert rc.err("BITOP", "FOO", "dest", "k1") == "ERR syntax error"
    assert rc.err("BITOP", "AND", "dest") == "ERR wrong number of arguments for 'bitop' command"
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("BITOP", "AND", "dest", "k1", "l") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


# -- BITFIELD ----------------------------------------------------------------------


def test_bitfield_set_get(rc):
    assert rc.call("BITFIELD", "bf", "SET", "i8", "0", "100", "GET", "u4", "0") == [0, 6]
    assert rc.call("GET", "bf") == b"d"
    assert rc.call("BITFIELD", "bf", "SET", "i8", "#1", "-5", "GET", "i8", "#1") == [0, -5]
    assert rc.call("GET", "bf") == b"d\xfb"
    assert rc.call("BITFIELD", "bf", "GET", "u8", "8") == [251]


def test_bitfield_incrby_overflow(rc):
    assert rc.call("BITFIELD", "bf", "INCRBY", "u2", "100", "1", "OVERFLOW", "SAT",
                   "INCRBY", "u2", "102", "1") == [1, 1]
    assert rc.call("BITFIELD", "w", "INCRBY", "u8", "0", "200") == [200]
    assert rc.call("BITFIELD", "w", "INCRBY", "u8", "0", "100") == [44]
    assert rc.call("BITFIELD", "w", "OVERFLOW", "WRAP", "INCRBY", "i8", "0", "100") == [-112]
    assert rc.call("BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "u8", "0", "300") == [255]
    assert rc.call("BITFIELD", "s", "OVERFLOW", "SAT", "INCRBY", "i8", "8", "-300") == [-128]
    assert rc.call("BITFIELD", "f", "OVERFLOW", "FAIL", "INCRBY", "u8", "0", "200",
                   "INCRBY", "u8", "0", "200") == [200, None]
    assert rc.call("BITFIELD", "f", "GET", "u8", "0") == [200]


def test_bitfield_large_types(rc):
    rc.call("SET", "k", b"\x7f" + b"\xff" * 7)
    assert rc.call("BITFIELD", "k", "GET", "i64", "0") == [9223372036854775807]
    assert rc.call("BITFIELD", "k", "GET", "u63", "0") == [4611686018427387903]
    assert rc.call("BITFIELD", "k", "GET", "u63", "1") == [9223372036854775807]
    assert rc.call("BITFIELD", "k", "INCRBY", "i64", "0", "1") == [-9223372036854775808]


def test_bitfield_missing_key_and_empty(rc):
    assert rc.call("BITFIELD", "missing", "GET", "u8", "0") == [0]
    assert rc.call("EXISTS", "missing") == 0
    assert rc.call("BITFIELD", "missing") == []


def test_bitfield_errors(rc):
    assert rc.err("BITFIELD", "bf", "GET", "u64", "0") == BAD_TYPE
    assert rc.err("BITFIELD", "bf", "GET", "x8", "0") == BAD_TYPE
    assert rc.err("BITFIELD", "bf", "GET", "i65", "0") == BAD_TYPE
    assert rc.err("BITFIELD", "bf", "GET", "u8", "-1") == BAD_OFFSET
    assert rc.err("BITFIELD", "bf", "OVERFLOW", "FOO") == "ERR Invalid OVERFLOW type specified"
    assert rc.err("BITFIELD", "bf", "FOO") == "ERR syntax error"
    assert rc.err("BITFIELD", "bf", "GET") == "ERR syntax error"
    assert rc.err("BITFIELD", "bf", "SET", "u8", "0", "x") == (
        "ERR value is not an integer or out of range"
    )


def test_bitfield_ro(rc):
    rc.call("SET", "k", "\x2c")
    assert rc.call("BITFIELD_RO", "k", "GET", "u8", "0") == [44]
    assert rc.err("BITFIELD_RO", "k", "SET", "u8", "0", "1") == (
        "ERR BITFIELD_RO only supports the GET subcommand"
    )
    assert rc.err("BITFIELD_RO", "k", "INCRBY", "u8", "0", "1") == (
        "ERR BITFIELD_RO only supports the GET subcommand"
    )
