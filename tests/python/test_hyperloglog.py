"""HyperLogLog: PFADD, PFCOUNT, PFMERGE, PFDEBUG, checked byte for byte
against a real redis-server 7.0.

The same command sequences (random elements, sizes crossing the
sparse -> dense threshold, merges of sparse and dense values, corrupted
values) run on both servers; the raw replies and the stored strings (GET)
must be identical. Skipped when no redis-server binary is available.
"""

from __future__ import annotations

import random
import shutil

import pytest

from conftest import HOST, RespConn, encode_command, reference_redis

REDIS_BIN = shutil.which("redis-server") or (
    "/usr/bin/redis-server" if shutil.os.path.exists("/usr/bin/redis-server") else None
)


@pytest.fixture(scope="module")
def reference():
    """A real redis-server on a free port (the reference)."""
    if REDIS_BIN is None:
        pytest.skip("no redis-server binary to compare with")
    for port in reference_redis("lunakv-hll-redis-", REDIS_BIN):
        if port is None:
            pytest.fail("could not start the reference redis-server")
        yield port


class Both:
    """Sends every command to lunakv and to Redis and compares raw replies."""

    def __init__(self, ours: RespConn, theirs: RespConn):
        self.ours = ours
        self.theirs = theirs

    def call(self, *args, compare=True) -> bytes:
        a = self.ours.call_raw(*args)
        b = self.theirs.call_raw(*args)
        if compare:
            assert a == b, f"{args[:4]!r}...: lunakv {a[:200]!r} != redis {b[:200]!r}"
        return a

    def same_value(self, key):
        a = self.ours.call_raw("GET", key)
        b = self.theirs.call_raw("GET", key)
        assert a == b, f"GET {key}: values differ (lunakv {len(a)} bytes, redis {len(b)} bytes)"
        return a


@pytest.fixture
def both(server, reference):
    ours = server.conn()
    theirs = RespConn(HOST, reference, timeout=20)
    for c in (ours, theirs):
        assert c.call("FLUSHALL") == "OK"
        assert c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000") == "OK"
    yield Both(ours, theirs)
    for c in (ours, theirs):
        c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    theirs.close()


def rand_elements(rng: random.Random, n: int):
    kinds = [
        lambda: str(rng.random()),
        lambda: str(rng.randrange(1 << 40)),
        lambda: bytes(rng.randrange(256) for _ in range(rng.randrange(0, 20))),
        lambda: "x" * rng.randrange(1, 70),
    ]
    return [rng.choice(kinds)() for _ in range(n)]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_pfadd_sequences_cross_sparse_to_dense(both, seed):
    rng = random.Random(seed)
    key = f"hll{seed}"
    total = 0
    while total < 4000:
        n = rng.choice([0, 1, 2, 5, 17, 50, 120])
        els = rand_elements(rng, n)
        total += n
        both.call("PFADD", key, *els)
        both.same_value(key)
        if rng.random() < 0.3:
            both.call("PFCOUNT", key)
            both.same_value(key)
    # Past 4000 elements the value is dense on both.
    assert both.call("PFDEBUG", "ENCODING", key) == b"+dense\r\n"
    both.call("PFCOUNT", key)
    both.same_value(key)


@pytest.mark.parametrize("limit", ["0", "50", "700", "10000"])
def test_sparse_limit_config(both, limit):
    rng = random.Random(int(limit) + 7)
    for c in (both.ours, both.theirs):
        assert c.call("CONFIG", "SET", "hll-sparse-max-bytes", limit) == "OK"
    for i in range(60):
        both.call("PFADD", "h", *rand_elements(rng, rng.randrange(1, 40)))
        both.same_value("h")
        both.call("PFDEBUG", "ENCODING", "h")
    both.call("PFCOUNT", "h")
    both.same_value("h")


def test_register_values_above_sparse_max(both):
    # Elements whose hash has a long run of zeroes need a register above 32:
    # the sparse value is promoted at once. Try many elements so some do.
    rng = random.Random(99)
    for i in range(30):
        k = f"h{i}"
        both.call("PFADD", k, *[f"{rng.random()}-{j}" for j in range(rng.randrange(1, 30))])
        both.same_value(k)
        both.call("PFDEBUG", "ENCODING", k)


def test_pfmerge_sparse_and_dense(both):
    rng = random.Random(5)
    both.call("PFADD", "s1", *rand_elements(rng, 30))
    both.call("PFADD", "s2", *rand_elements(rng, 200))
    both.call("PFADD", "d1", *rand_elements(rng, 3000))
    both.call("PFADD", "d2", *rand_elements(rng, 10))
    both.call("PFDEBUG", "TODENSE", "d2")
    for dest, srcs in [
        ("m1", ["s1", "s2"]),
        ("m2", ["s1", "d1"]),
        ("m3", ["d2", "s1"]),
        ("s1", ["s2"]),  # existing sparse destination
        ("d2", ["s2", "missing"]),  # existing dense destination
        ("m4", []),
        ("m5", ["missing"]),
        ("m6", ["s2", "s2", "s1"]),
    ]:
        both.call("PFMERGE", dest, *srcs)
        both.same_value(dest)
        both.call("PFCOUNT", dest)
        both.same_value(dest)
    both.call("PFCOUNT", "s1", "s2", "d1", "d2", "missing")
    both.call("PFCOUNT", "s1", "missing")
    both.call("PFCOUNT", "missing", "missing2")


def test_many_merges_of_small_sets(both):
    rng = random.Random(11)
    for i in range(40):
        both.call("PFADD", f"a{i}", *rand_elements(rng, rng.randrange(0, 60)))
    for i in range(0, 40, 4):
        both.call("PFMERGE", f"u{i}", *[f"a{j}" for j in range(i, i + 4)])
        both.same_value(f"u{i}")
    both.call("PFMERGE", "all", *[f"u{i}" for i in range(0, 40, 4)])
    both.same_value("all")
    both.call("PFCOUNT", "all")
    both.call("PFCOUNT", *[f"a{i}" for i in range(40)])


def test_pfdebug(both):
    both.call("PFADD", "h", "a", "b", "c", "d")
    both.call("PFDEBUG", "DECODE", "h")
    both.call("PFDEBUG", "ENCODING", "h")
    both.call("PFDEBUG", "decode", "h")
    both.call("PFDEBUG", "nosuch", "h")
    both.call("PFDEBUG", "ENCODING", "missing")
    both.call("PFDEBUG", "GETREG", "h")
    both.same_value("h")
    both.call("PFDEBUG", "ENCODING", "h")
    both.call("PFDEBUG", "DECODE", "h")
    both.call("PFDEBUG", "TODENSE", "h")
    both.call("PFADD", "e")
    both.call("PFDEBUG", "DECODE", "e")
    both.call("PFDEBUG", "TODENSE", "e")
    both.same_value("e")
    both.call("PFDEBUG", "GETREG")


def test_errors(both):
    both.call("SET", "str", "bar")
    both.call("SET", "int", "12345")
    both.call("RPUSH", "list", "x")
    for k in ("str", "int", "list"):
        both.call("PFADD", k, "1")
        both.call("PFCOUNT", k)
        both.call("PFCOUNT", k, "other")
        both.call("PFMERGE", "dest", k)
        both.call("PFMERGE", k, "other")
        both.call("PFDEBUG", "ENCODING", k)
    both.call("EXISTS", "dest")
    both.call("PFADD")
    both.call("PFCOUNT")
    both.call("PFMERGE")
    both.call("PFSELFTEST", "x")
    # Broken magic, bad encoding, dense of the wrong length, tail garbage.
    for off, val in [(0, "0123"), (4, "x"), (4, "\x00"), (4, "\x02")]:
        both.call("DEL", "h")
        both.call("PFADD", "h", "a", "b", "c")
        both.call("SETRANGE", "h", str(off), val)
        both.call("PFCOUNT", "h")
        both.call("PFADD", "h", "z")
    both.call("DEL", "h")
    both.call("PFADD", "h", "a", "b", "c")
    both.call("APPEND", "h", "hello")
    both.call("PFCOUNT", "h")
    both.call("PFCOUNT", "h", "h")
    both.call("PFMERGE", "x", "h")
    # A value SET from a HyperLogLog's bytes is a HyperLogLog.
    both.call("DEL", "h")
    both.call("PFADD", "h", "a", "b", "c")
    v = both.theirs.call("GET", "h")
    both.call("SET", "copy", v)
    both.call("OBJECT", "ENCODING", "copy")
    both.call("PFCOUNT", "copy")
    both.call("OBJECT", "ENCODING", "copy")
    both.same_value("copy")


def test_fuzzed_values_behave_like_redis(both):
    """Randomly corrupted values: same replies and same bytes afterwards.

    Known gap (not exercised by these seeds): when a corrupted sparse value
    ends in a truncated XZERO opcode, Redis reads, and on a split writes, the
    byte just past the end of its sds string; lunakv reads it as the zero
    terminator and keeps nothing past the end, so later commands on that
    value can diverge."""
    rng = random.Random(2024)
    for i in range(150):
        both.call("DEL", "h")
        n = rng.choice([1, 5, 30, 200, 1000, 2500])
        both.call("PFADD", "h", *[str(rng.random()) for _ in range(n)])
        both.same_value("h")
        strlen = int(both.call("STRLEN", "h")[1:-2])
        for _ in range(5):
            pos = rng.randrange(strlen)
            both.call("SETRANGE", "h", str(pos), bytes([rng.randrange(256)]))
            if rng.random() < 0.5:
                break
        both.call("PFCOUNT", "h")
        both.call("PFCOUNT", "h", "missing")
        both.call("PFADD", "h", *[str(rng.random()) for _ in range(5)])
        both.same_value("h")


def test_cache_and_keyspace_events(both):
    both.call("PFADD", "h", "a", "b", "c")
    both.call("PFCOUNT", "h")
    both.same_value("h")
    both.call("PFADD", "h", "a", "b", "c")
    both.same_value("h")
    both.call("PFADD", "h", "1", "2", "3")
    both.same_value("h")
    both.call("PFCOUNT", "h")
    both.same_value("h")


def test_pfadd_and_pfmerge_notify_pfadd(server):
    c = server.conn()
    assert c.call("CONFIG", "SET", "notify-keyspace-events", "KE$") == "OK"
    try:
        sub = server.conn()
        sub.send(encode_command("PSUBSCRIBE", "__key*__:*"))
        sub.read_reply()
        c.call("PFADD", "h", "a")
        c.call("PFADD", "h", "a")  # no change: no event
        c.call("PFMERGE", "m", "h")
        c.call("PFCOUNT", "m")  # caches the cardinality: no event
        c.call("SET", "marker", "1")
        got = []
        while True:
            msg = sub.read_reply()
            got.append((msg[2], msg[3]))
            if msg[2] == b"__keyevent@0__:set":
                break
        assert got == [
            (b"__keyspace@0__:h", b"pfadd"),
            (b"__keyevent@0__:pfadd", b"h"),
            (b"__keyspace@0__:m", b"pfadd"),
            (b"__keyevent@0__:pfadd", b"m"),
            (b"__keyspace@0__:marker", b"set"),
            (b"__keyevent@0__:set", b"marker"),
        ]
    finally:
        c.call("CONFIG", "SET", "notify-keyspace-events", "")


def test_pfcount_cache_write_touches_watch(server):
    c = server.conn()
    other = server.conn()
    c.call("PFADD", "h", "a")
    c.call("WATCH", "h")
    other.call("PFCOUNT", "h")  # writes the cached cardinality back
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None
    c.call("WATCH", "h")
    other.call("PFCOUNT", "h")  # cache valid now: nothing written
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def _xz(n):
    n -= 1
    return bytes([0x40 | (n >> 8), n & 0xFF])


def _z(n):
    return bytes([n - 1])


def _v(val, n):
    return bytes([0x80 | ((val - 1) << 2) | (n - 1)])


@pytest.mark.parametrize("body", [
    _xz(16384),
    _xz(16384) + _v(1, 1),
    _xz(16384) + _z(1),
    _xz(16384) + _xz(1),
    _xz(16383) + _v(2, 2),
    _xz(16383) + _z(2),
    _xz(16383),
    _xz(16383) + _v(3, 1),
    _xz(16380) + _v(3, 4) + _v(2, 4),
    _v(5, 4) + _z(60) + _xz(16320),
    _z(64) * 256,
    bytes([0x7F]),  # truncated XZERO
    b"",
], ids=lambda b: b.hex()[:24] or "empty")
def test_crafted_sparse_values(both, body):
    """Sparse values that end early, overrun the 16384 registers or hold
    non-canonical opcodes: every command answers as Redis does."""
    value = b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80" + body
    for cmd in (["PFCOUNT", "k"], ["PFCOUNT", "k", "k"], ["PFMERGE", "d", "k"],
                ["PFADD", "k", "a", "b", "c"], ["PFDEBUG", "TODENSE", "k"],
                ["PFDEBUG", "DECODE", "k"], ["PFDEBUG", "GETREG", "k"]):
        both.call("DEL", "k", "d")
        both.call("SET", "k", value)
        both.call(*cmd)
        both.same_value("k")
