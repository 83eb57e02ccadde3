"""Keyspace commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY, EXPIRE family,
TTL/PTTL, PERSIST, EXPIRETIME, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, MOVE, RANDOMKEY."""

import time

import pytest


def scan_all(r, **kw):
    cursor, seen, rounds = 0, [], 0
    while True:
        cursor, keys = r.scan(cursor=cursor, **kw)
        seen.extend(keys)
        rounds += 1
        assert rounds < 100000
        if int(cursor) == 0:
            return seen


# -- DEL / EXISTS / TYPE -------------------------------------------------------


def test_del_counts(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.delete("a", "b", "nope") == 2
    assert r.delete("a") == 0
    assert r.exists("c") == 1
    assert r.delete("c", "c") == 1


def test_unlink(r):
    r.mset({"a": "1", "b": "2"})
    assert r.unlink("a", "b", "x") == 2
    assert r.dbsize() == 0


def test_exists_counts_duplicates(r):
    r.set("k", "v")
    assert r.exists("k") == 1
    assert r.exists("k", "k", "missing") == 2
    assert r.exists("missing") == 0


def test_type(r):
    r.set("s", "v")
    assert r.type("s") == "string"
    assert r.type("missing") == "none"


def test_type_other_types(r):
    r.rpush("l", "a")
    r.hset("h", "f", "v")
    r.sadd("st", "m")
    r.zadd("z", {"m": 1})
    assert [r.type(k) for k in ("l", "h", "st", "z")] == ["list", "hash", "set", "zset"]


def test_del_arity(rc):
    assert rc.err("DEL") == "ERR wrong number of arguments for 'del' command"
    assert rc.err("EXISTS") == "ERR wrong number of arguments for 'exists' command"
    assert rc.err("TYPE") == "ERR wrong number of arguments for 'type' command"


# -- KEYS ----------------------------------------------------------------------


def test_keys_patterns(r):
    for k in ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "foo", "foo:bar", "x?y"]:
        r.set(k, "1")
    assert sorted(r.keys("*")) == sorted(
        ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "foo", "foo:bar", "x?y"]
    )
    assert sorted(r.keys("h?llo")) == ["h*llo", "hallo", "hello", "hxllo"]
    assert sorted(r.keys("h*llo")) == ["h*llo", "hallo", "heeeello", "hello", "hllo", "hxllo"]
    assert sorted(r.keys("h[ae]llo")) == ["hallo", "hello"]
    assert sorted(r.keys("h[^e]llo")) == ["h*llo", "hallo", "hxllo"]
    assert sorted(r.keys("h[a-b]llo")) == ["hallo"]
    assert r.keys("h\\*llo") == ["h*llo"]
    assert r.keys("x\\?y") == ["x?y"]
    assert sorted(r.keys("foo*")) == ["foo", "foo:bar"]
    assert r.keys("nomatch*") == []


def test_keys_per_database(make_client):
    r0, r1 = make_client(db=0), make_client(db=1)
    r0.set("a", "1")
    r1.set("b", "1")
    assert r0.keys("*") == ["a"]
    assert r1.keys("*") == ["b"]


# -- SCAN ----------------------------------------------------------------------


def test_scan_full_iteration(r):
    keys = {f"key:{i}" for i in range(1000)}
    r.mset({k: "v" for k in keys})
    seen = scan_all(r)
    assert set(seen) == keys


def test_scan_count_and_match(r):
    r.mset({f"user:{i}": "v" for i in range(200)})
    r.mset({f"item:{i}": "v" for i in range(200)})
    seen = scan_all(r, match="user:1*", count=7)
    assert set(seen) == {f"user:{i}" for i in range(200) if str(i).startswith("1")}
    assert scan_all(r, match="nothing*", count=1000) == []


def test_scan_type_filter(r):
    r.mset({f"s{i}": "v" for i in range(20)})
    assert set(scan_all(r, _type="string")) == {f"s{i}" for i in range(20)}
    assert scan_all(r, _type="list") == []
    assert scan_all(r, _type="hash", match="s*") == []


def test_scan_type_filter_mixed(r):
    r.set("str", "v")
    r.rpush("lst", "a")
    r.hset("hsh", "f", "v")
    assert scan_all(r, _type="list") == ["lst"]
    assert scan_all(r, _type="hash") == ["hsh"]
    assert scan_all(r, _type="string") == ["str"]


def test_scan_reply_shape(rc):
    rc.call("SET", "only", "v")
    reply = rc.call("SCAN", "0")
    assert reply == [b"0", [b"only"]]
    raw = rc.call_raw("SCAN", "0", "COUNT", "100")
    assert raw == b"*2\r\n$1\r\n0\r\n*1\r\n$4\r\nonly\r\n"


def test_scan_empty_db(rc):
    assert rc.call("SCAN", "0") == [b"0", []]


def test_scan_errors(rc):
    assert rc.err("SCAN", "x") == "ERR invalid cursor"
    assert rc.err("SCAN", "0", "COUNT", "0") == "ERR syntax error"
    assert rc.err("SCAN", "0", "COUNT", "x") == "ERR value is not an integer or out of range"
    assert rc.err("SCAN", "0", "FOO", "bar") == "ERR syntax error"
    assert rc.err("SCAN") == "ERR wrong number of arguments for 'scan' command"


# -- RENAME / RENAMENX ----------------------------------------------------------


def test_rename(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.rename("a", "b") is True
    assert r.get("b") == "1"
    assert r.exists("a") == 0


def test_rename_keeps_ttl(r):
    r.set("a", "1", ex=100)
    r.rename("a", "b")
    assert 95 <= r.ttl("b") <= 100


def test_rename_same_key(rc):
    rc.call("SET", "k", "v")
    assert rc.call_raw("RENAME", "k", "k") == b"+OK\r\n"
    assert rc.call("RENAMENX", "k", "k") == 0
    assert rc.call("GET", "k") == b"v"


def test_rename_errors(rc):
    assert rc.err("RENAME", "nokey", "x") == "ERR no such key"
    assert rc.err("RENAMENX", "nokey", "x") == "ERR no such key"
    assert rc.err("RENAME", "a") == "ERR wrong number of arguments for 'rename' command"


def test_renamenx(r):
    r.set("a", "1")
    r.set("b", "2")
    assert r.renamenx("a", "b") is False
    assert r.get("a") == "1"
    assert r.renamenx("a", "c") is True
    assert r.get("c") == "1"
    assert r.exists("a") == 0


# -- COPY -------------------------------------------------------------------------


def test_copy(r):
    r.set("src", "hello", ex=100)
    assert r.copy("src", "dst") is True
    assert r.get("dst") == "hello"
    assert 95 <= r.ttl("dst") <= 100
    r.set("src", "changed")
    assert r.get("dst") == "hello"


def test_copy_existing_destination(r):
    r.set("src", "1")
    r.set("dst", "2")
    assert r.copy("src", "dst") is False
    assert r.get("dst") == "2"
    assert r.copy("src", "dst", replace=True) is True
    assert r.get("dst") == "1"


def test_copy_missing_source(r):
    assert r.copy("nosrc", "dst") is False
    assert r.exists("dst") == 0


def test_copy_db(make_client):
    r0, r2 = make_client(db=0), make_client(db=2)
    r0.set("k", "v")
    assert r0.copy("k", "k", destination_db=2) is True
    assert r2.get("k") == "v"
    assert r0.get("k") == "v"


def test_copy_errors(rc):
    rc.call("SET", "k", "v")
    assert rc.err("COPY", "k", "k") == "ERR source and destination objects are the same"
    assert rc.err("COPY", "k", "k2", "DB", "16") == "ERR DB index is out of range"
    assert rc.err("COPY", "k", "k2", "DB", "x") == "ERR value is not an integer or out of range"
    assert rc.err("COPY", "k", "k2", "FOO") == "ERR syntax error"


# -- EXPIRE family --------------------------------------------------------------


def test_ttl_pttl_states(r):
    assert r.ttl("missing") == -2
    assert r.pttl("missing") == -2
    r.set("k", "v")
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expire("k", 100) is True
    assert 99 <= r.ttl("k") <= 100
    assert 99000 <= r.pttl("k") <= 100000


def test_expire_missing_key(r):
    assert r.expire("missing", 10) is False
    assert r.pexpire("missing", 10) is False
    assert r.expireat("missing", int(time.time()) + 10) is False


def test_expire_options(rc):
    rc.call("SET", "k", "v")
    assert rc.call("EXPIRE", "k", "100", "XX") == 0
    assert rc.call("EXPIRE", "k", "100", "NX") == 1
    assert rc.call("EXPIRE", "k", "200", "NX") == 0
    assert rc.call("EXPIRE", "k", "50", "GT") == 0
    assert rc.call("EXPIRE", "k", "200", "LT") == 0
    assert rc.call("TTL", "k") == 100
    assert rc.call("EXPIRE", "k", "200", "GT") == 1
    assert rc.call("EXPIRE", "k", "150", "LT") == 1
    assert rc.call("EXPIRE", "k", "120", "xx") == 1
    assert rc.call("TTL", "k") == 120


def test_expire_gt_lt_without_ttl(rc):
    # A key without TTL counts as an infinite TTL.
    rc.call("SET", "k", "v")
    assert rc.call("EXPIRE", "k", "100", "GT") == 0
    assert rc.call("TTL", "k") == -1
    assert rc.call("EXPIRE", "k", "100", "LT") == 1
    assert rc.call("TTL", "k") == 100


def test_expire_option_errors(rc):
    rc.call("SET", "k", "v")
    assert rc.err("EXPIRE", "k", "10", "NX", "XX") == (
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    )
    assert rc.err("EXPIRE", "k", "10", "GT", "LT") == (
        "ERR GT and LT options at the same time are not compatible"
    )
    assert rc.err("EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"
    assert rc.err("EXPIRE", "k", "x") == "ERR value is not an integer or out of range"
    assert rc.err("EXPIRE", "k", "9999999999999999") == (
        "ERR invalid expire time in 'expire' command"
    )
    assert rc.err("PEXPIRE", "k", "9223372036854775807") == (
        "ERR invalid expire time in 'pexpire' command"
    )
    assert rc.err("EXPIRE", "k") == "ERR wrong number of arguments for 'expire' command"
    assert rc.call("TTL", "k") == -1


def test_expire_non_positive_deletes(r):
    r.set("a", "v")
    assert r.expire("a", -1) is True
    assert r.exists("a") == 0
    r.set("b", "v")
    assert r.pexpire("b", 0) is True
    assert r.get("b") is None
    r.set("c", "v")
    assert r.expireat("c", int(time.time()) - 10) is True
    assert r.exists("c") == 0


def test_key_actually_expires(r):
    r.set("k", "v", px=100)
    r.set("k2", "v")
    r.pexpire("k2", 100)
    time.sleep(0.3)
    assert r.get("k") is None
    assert r.exists("k2") == 0
    assert r.ttl("k") == -2


def test_expireat_pexpireat_expiretime(r):
    at = int(time.time()) + 1000
    r.set("k", "v")
    assert r.expiretime("k") == -1
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.pexpiretime("k") == at * 1000
    assert r.pexpireat("k", at * 1000 + 123) is True
    assert r.pexpiretime("k") == at * 1000 + 123
    assert r.expiretime("k") == at
    assert r.expiretime("missing") == -2
    assert r.pexpiretime("missing") == -2


def test_persist(r):
    r.set("k", "v", ex=100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("k") is False
    assert r.persist("missing") is False


def test_set_clears_ttl(r):
    r.set("k", "v", ex=100)
    r.set("k", "w")
    assert r.ttl("k") == -1


# -- DBSIZE / FLUSHDB / FLUSHALL --------------------------------------------------


def test_dbsize_flushdb(make_client):
    r0, r1 = make_client(db=0), make_client(db=1)
    assert r0.dbsize() == 0
    r0.mset({"a": 1, "b": 2, "c": 3})
    r1.set("x", 1)
    assert r0.dbsize() == 3
    assert r0.flushdb() is True
    assert r0.dbsize() == 0
    assert r1.dbsize() == 1
    r0.set("a", 1)
    assert r0.flushall() is True
    assert r0.dbsize() == 0
    assert r1.dbsize() == 0


def test_flush_options(rc):
    rc.call("SET", "a", "1")
    assert rc.call_raw("FLUSHDB", "ASYNC") == b"+OK\r\n"
    rc.call("SET", "a", "1")
    assert rc.call_raw("FLUSHDB", "SYNC") == b"+OK\r\n"
    assert rc.call("DBSIZE") == 0
    assert rc.err("FLUSHDB", "FOO") == "ERR syntax error"
    assert rc.err("FLUSHALL", "FOO") == "ERR syntax error"


# -- SWAPDB / MOVE ------------------------------------------------------------------


def test_swapdb(make_client):
    r0, r1 = make_client(db=0), make_client(db=1)
    r0.set("k", "zero")
    r1.set("k", "one")
    r1.set("only1", "x")
    assert r0.swapdb(0, 1) is True
    assert r0.get("k") == "one"
    assert r0.get("only1") == "x"
    assert r1.get("k") == "zero"
    assert r1.dbsize() == 1


def test_swapdb_errors(rc):
    assert rc.err("SWAPDB", "0", "16") == "ERR DB index is out of range"
    assert rc.err("SWAPDB", "x", "1") == "ERR invalid first DB index"
    assert rc.err("SWAPDB", "0", "x") == "ERR invalid second DB index"
    assert rc.call_raw("SWAPDB", "3", "3") == b"+OK\r\n"


def test_move(make_client):
    r0, r1 = make_client(db=0), make_client(db=1)
    r0.set("k", "v", ex=100)
    assert r0.move("k", 1) is True
    assert r0.exists("k") == 0
    assert r1.get("k") == "v"
    assert 95 <= r1.ttl("k") <= 100
    # Destination exists: nothing happens.
    r0.set("k", "other")
    assert r0.move("k", 1) is False
    assert r0.get("k") == "other"
    assert r1.get("k") == "v"
    assert r0.move("missing", 1) is False


def test_move_errors(rc):
    rc.call("SET", "k", "v")
    assert rc.err("MOVE", "k", "0") == "ERR source and destination objects are the same"
    assert rc.err("MOVE", "k", "16") == "ERR DB index is out of range"
    assert rc.err("MOVE", "k", "x") == "ERR value is not an integer or out of range"


# -- RANDOMKEY --------------------------------------------------------------------


def test_randomkey(r):
    assert r.randomkey() is None
    r.set("only", "1")
    assert r.randomkey() == "only"
    r.mset({"a": 1, "b": 2})
    for _ in range(20):
        assert r.randomkey() in {"only", "a", "b"}


def test_wrongtype_error(rc):
    assert rc.call("RPUSH", "l", "a") == 1
    assert rc.err("GET", "l") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )
    assert rc.err("INCR", "l") == (
        "WRONGTYPE Operation against a key holding the wrong kind of value"
    )


def test_scan_is_incremental(rc):
    rc.call("MSET", *[x for i in range(1000) for x in (f"k{i}", "v")])
    cursor, keys = rc.call("SCAN", "0", "COUNT", "10")
    assert cursor != b"0"
    assert 1 <= len(keys) <= 50


def test_scan_survives_concurrent_inserts(r):
    original = {f"orig:{i}" for i in range(500)}
    r.mset({k: "v" for k in original})
    cursor, seen, extra = 0, set(), 0
    while True:
        cursor, keys = r.scan(cursor=cursor, count=20)
        seen.update(keys)
        # Grow the keyspace while scanning (forces resizes in a hash table).
        r.mset({f"new:{extra + j}": "v" for j in range(50)})
        extra += 50
        if int(cursor) == 0:
            break
        assert extra < 200000, "SCAN did not terminate"
    assert original <= seen


def test_scan_unknown_type_is_empty(rc):
    rc.call("SET", "k", "v")
    assert rc.call("SCAN", "0", "TYPE", "nosuchtype") == [b"0", []]


def test_expired_keys_invisible(r):
    r.set("short", "v", px=50)
    r.set("long", "v")
    time.sleep(0.2)
    assert r.keys("*") == ["long"]
    assert scan_all(r) == ["long"]
    assert r.exists("short") == 0
    assert r.type("short") == "none"


def test_expires_count_follows_ttls_given_again_after_persist(r):
    """INFO keyspace's expires= counts keys with a TTL through every path
    that sets or clears one: a first TTL, a new TTL in place, PERSIST, a
    TTL given again after PERSIST, GETEX PERSIST, SET without KEEPTTL."""

    def expires():
        return r.info("keyspace").get("db0", {}).get("expires", 0)

    r.set("k", "v")
    r.set("other", "v")
    assert expires() == 0
    assert r.expire("k", 100)
    assert expires() == 1
    assert r.pexpire("k", 200000)
    assert expires() == 1
    assert r.persist("k")
    assert expires() == 0
    assert r.expire("k", 100)
    assert expires() == 1
    assert r.expire("other", 100)
    assert expires() == 2
    assert r.getex("other", persist=True) == "v"
    assert expires() == 1
    r.set("k", "v2")
    assert expires() == 0
    assert r.ttl("k") == -1
